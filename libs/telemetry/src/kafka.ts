import {
  type Attributes,
  type Context,
  type Exception,
  type Span,
  type TextMapGetter,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  propagation,
  trace,
} from '@opentelemetry/api';

/** Tracer (instrumentation scope) name of the spans made here. */
export const TRACER_NAME = '@assent/telemetry';

/** Header values as kafkajs hands them to a consumer (and accepts from a producer). */
export type MessageHeaders = Record<string, string | Buffer | (string | Buffer)[] | undefined>;

/** What a messaging span is about; turned into OTel messaging semantic-convention attributes. */
export interface MessagingAttributes {
  /** messaging.destination.name */
  topic: string;
  /** messaging.kafka.message.key */
  key?: string | null;
  /** messaging.destination.partition.id */
  partition?: number;
  /** messaging.kafka.offset (kafkajs gives offsets as strings) */
  offset?: string | number;
  /** messaging.message.id, e.g. the event id */
  messageId?: string;
  /** messaging.consumer.group.name */
  consumerGroup?: string;
  /** Anything else, e.g. { 'assent.event.type': 'OrderPlaced' }. */
  attributes?: Attributes;
}

// Semantic-convention names spelled out here: messaging attributes are still "incubating", and the
// semconv package advises copying incubating names rather than importing its unstable entry point.
const ATTR = {
  system: 'messaging.system',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  destination: 'messaging.destination.name',
  partition: 'messaging.destination.partition.id',
  key: 'messaging.kafka.message.key',
  offset: 'messaging.kafka.offset',
  messageId: 'messaging.message.id',
  consumerGroup: 'messaging.consumer.group.name',
} as const;

// Kafka headers arrive as Buffers; the propagators want strings.
const headerGetter: TextMapGetter<MessageHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    if (value === undefined) return undefined;
    return Array.isArray(value) ? value.map(String) : String(value);
  },
};

/**
 * The W3C traceparent of the active span, for storing in an event envelope; undefined when there
 * is no valid active span context (or no W3C propagator is registered).
 */
export function currentTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/**
 * Write `traceparent` (and `tracestate`, `baggage` when present) into message headers, from the
 * given traceparent if any, else from the active context. Returns the same headers object.
 * An invalid traceparent writes nothing.
 */
export function injectTraceHeaders(
  headers: Record<string, string>,
  traceparent?: string | null,
): Record<string, string> {
  const ctx = traceparent ? contextFromTraceparent(traceparent) : context.active();
  propagation.inject(ctx, headers);
  return headers;
}

/**
 * The context carried by message headers, on top of `base` (default: the active context). With no
 * (valid) traceparent in the headers, `base` comes back unchanged.
 */
export function extractTraceContext(headers: MessageHeaders, base: Context = context.active()): Context {
  return propagation.extract(base, headers, headerGetter);
}

/**
 * Run `fn` inside a PRODUCER span. `parent` is the context to parent on: a traceparent string
 * (the one stored in the outbox row when the event was appended), an OTel Context, or
 * null/undefined for a new trace. It is deliberately NOT the caller's active context: an outbox
 * relay's own spans must not adopt every event it publishes.
 *
 * `fn` gets the span and fresh headers carrying the producer span's context, to merge into the
 * Kafka message so the consumer's span becomes its child. Errors are recorded and rethrown.
 */
export function withProducerSpan<T>(
  name: string,
  parent: string | Context | null | undefined,
  attrs: MessagingAttributes,
  fn: (span: Span, traceHeaders: Record<string, string>) => T | Promise<T>,
): Promise<T> {
  const parentContext = typeof parent === 'string' ? contextFromTraceparent(parent) : (parent ?? ROOT_CONTEXT);
  const span = trace.getTracer(TRACER_NAME).startSpan(name, { kind: SpanKind.PRODUCER }, parentContext);
  if (span.isRecording()) span.setAttributes(messagingAttributes('send', attrs));
  return context.with(trace.setSpan(parentContext, span), () => endAfter(span, () => fn(span, injectTraceHeaders({}))));
}

/**
 * Run `fn` inside a CONSUMER span parented on the context in the message headers (falling back to
 * the active context when the headers carry none). Errors are recorded and rethrown.
 */
export function withConsumerSpan<T>(
  name: string,
  headers: MessageHeaders,
  attrs: MessagingAttributes | (() => MessagingAttributes),
  fn: (span: Span) => T | Promise<T>,
): Promise<T> {
  const parent = extractTraceContext(headers);
  const span = trace.getTracer(TRACER_NAME).startSpan(name, { kind: SpanKind.CONSUMER }, parent);
  // Attributes only for a span that records: building them costs more than a no-op span, so a
  // consumer of many messages passes a function and builds them only then.
  if (span.isRecording())
    span.setAttributes(messagingAttributes('process', typeof attrs === 'function' ? attrs() : attrs));
  return context.with(trace.setSpan(parent, span), () => endAfter(span, () => fn(span)));
}

function contextFromTraceparent(traceparent: string): Context {
  // Extract onto ROOT_CONTEXT: the stored traceparent alone decides the parent.
  return propagation.extract(ROOT_CONTEXT, { traceparent });
}

function messagingAttributes(operation: 'send' | 'process', a: MessagingAttributes): Attributes {
  const out: Attributes = {
    ...a.attributes,
    [ATTR.system]: 'kafka',
    [ATTR.operationType]: operation,
    [ATTR.operationName]: operation,
    [ATTR.destination]: a.topic,
  };
  if (a.key != null) out[ATTR.key] = a.key;
  if (a.partition !== undefined) out[ATTR.partition] = String(a.partition);
  if (a.offset !== undefined) out[ATTR.offset] = Number(a.offset);
  if (a.messageId !== undefined) out[ATTR.messageId] = a.messageId;
  if (a.consumerGroup !== undefined) out[ATTR.consumerGroup] = a.consumerGroup;
  return out;
}

async function endAfter<T>(span: Span, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err: unknown) {
    span.recordException(toException(err));
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    span.end();
  }
}

function toException(err: unknown): Exception {
  return err instanceof Error ? err : String(err);
}
