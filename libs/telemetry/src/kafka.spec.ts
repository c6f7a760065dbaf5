import { type Span, SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import {
  currentTraceparent,
  extractTraceContext,
  injectTraceHeaders,
  withConsumerSpan,
  withProducerSpan,
  type MessageHeaders,
} from './kafka';
import { type InMemoryTelemetry, startInMemoryTelemetry } from './testing';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

describe('Kafka trace-context helpers', () => {
  let otel: InMemoryTelemetry;
  const tracer = () => trace.getTracer('kafka.spec');

  beforeAll(() => {
    otel = startInMemoryTelemetry('kafka-spec');
  });
  afterAll(() => otel.shutdown());
  beforeEach(() => otel.reset());

  /** Run fn inside an active span and end it. */
  function inSpan<T>(name: string, fn: (span: Span) => T): T {
    return tracer().startActiveSpan(name, (span) => {
      try {
        return fn(span);
      } finally {
        span.end();
      }
    });
  }

  /** Headers as a kafkajs consumer sees them: Buffers. */
  const asBuffers = (h: Record<string, string>): MessageHeaders =>
    Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Buffer.from(v)]));

  it('has no traceparent outside a span', () => {
    expect(currentTraceparent()).toBeUndefined();
    expect(injectTraceHeaders({})).toEqual({});
  });

  it('round-trips a traceparent: inject, extract from Buffer headers, child span in the same trace', () => {
    const { traceparent, parent } = inSpan('append', (span) => ({
      traceparent: currentTraceparent(),
      parent: span.spanContext(),
    }));
    expect(traceparent).toBe(`00-${parent.traceId}-${parent.spanId}-01`);

    // Later, elsewhere (no active span): the stored traceparent goes into the message headers.
    const headers = injectTraceHeaders({ 'event-id': 'e1' }, traceparent);
    expect(headers).toEqual({ 'event-id': 'e1', traceparent });

    const child = tracer().startSpan('child', {}, extractTraceContext(asBuffers(headers)));
    child.end();
    const [span] = otel.spans().filter((s) => s.name === 'child');
    expect(span.spanContext().traceId).toBe(parent.traceId);
    expect(span.parentSpanContext?.spanId).toBe(parent.spanId);
    expect(span.parentSpanContext?.isRemote).toBe(true);
  });

  it('injects from the active span when no traceparent is given, and ignores an invalid one', () => {
    const span = inSpan('active', (s) => {
      expect(injectTraceHeaders({}).traceparent).toMatch(TRACEPARENT);
      return s.spanContext();
    });
    expect(injectTraceHeaders({}, 'not-a-traceparent')).toEqual({});
    expect(span.traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('parents the producer span on the stored traceparent, not the relay context, and the consumer span on the headers', async () => {
    const appended = inSpan('http POST /intents', () => currentTraceparent());
    const [, appendTraceId, appendSpanId] = TRACEPARENT.exec(appended ?? '') ?? [];

    // The relay publishes inside its own poll span; the producer span must ignore that one.
    const relaySpan = tracer().startSpan('outbox poll');
    const sent = await context.with(trace.setSpan(context.active(), relaySpan), () =>
      withProducerSpan(
        'send intents.events',
        appended,
        { topic: 'intents.events', key: 'intent-1', messageId: 'e1', partition: 0 },
        async (_span, traceHeaders): Promise<Record<string, string>> => {
          await new Promise((r) => setTimeout(r, 1)); // context must survive an await
          return { 'event-id': 'e1', ...traceHeaders };
        },
      ),
    );
    relaySpan.end();

    const received = await withConsumerSpan(
      'process intents.events',
      asBuffers(sent),
      { topic: 'intents.events', key: 'intent-1', partition: 0, offset: '42', consumerGroup: 'projector' },
      async () => currentTraceparent(),
    );

    const producer = otel.spans().find((s) => s.kind === SpanKind.PRODUCER);
    const consumer = otel.spans().find((s) => s.kind === SpanKind.CONSUMER);
    expect(producer).toBeDefined();
    expect(consumer).toBeDefined();
    if (!producer || !consumer) return;

    expect(producer.spanContext().traceId).toBe(appendTraceId);
    expect(producer.parentSpanContext?.spanId).toBe(appendSpanId);
    expect(producer.spanContext().traceId).not.toBe(relaySpan.spanContext().traceId);
    expect(producer.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.operation.type': 'send',
      'messaging.destination.name': 'intents.events',
      'messaging.kafka.message.key': 'intent-1',
      'messaging.message.id': 'e1',
      'messaging.destination.partition.id': '0',
    });
    expect(sent.traceparent).toBe(`00-${appendTraceId}-${producer.spanContext().spanId}-01`);

    expect(consumer.spanContext().traceId).toBe(appendTraceId);
    expect(consumer.parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
    expect(consumer.attributes).toMatchObject({
      'messaging.operation.type': 'process',
      'messaging.kafka.offset': 42,
      'messaging.consumer.group.name': 'projector',
    });
    // Inside fn the consumer span is the active one.
    expect(received).toBe(`00-${appendTraceId}-${consumer.spanContext().spanId}-01`);
  });

  it('starts a new trace for an event appended outside any trace', async () => {
    const relaySpan = tracer().startSpan('outbox poll');
    await context.with(trace.setSpan(context.active(), relaySpan), () =>
      withProducerSpan('send t', null, { topic: 't' }, () => undefined),
    );
    relaySpan.end();
    const producer = otel.spans().find((s) => s.kind === SpanKind.PRODUCER);
    expect(producer?.parentSpanContext).toBeUndefined();
    expect(producer?.spanContext().traceId).not.toBe(relaySpan.spanContext().traceId);
  });

  it('records an exception and error status, and rethrows', async () => {
    await expect(
      withConsumerSpan('process t', {}, { topic: 't' }, () => {
        throw new Error('handler failed');
      }),
    ).rejects.toThrow('handler failed');
    const [span] = otel.spans();
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'handler failed' });
    expect(span.events.map((e) => e.name)).toContain('exception');
    expect(span.ended).toBe(true);
  });
});
