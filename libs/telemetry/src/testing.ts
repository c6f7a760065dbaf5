/**
 * Test helpers: an in-memory tracer setup for unit tests, and a tiny OTLP/HTTP (JSON) receiver
 * for tests that check what real processes export. Not for production code.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

export type { ReadableSpan } from '@opentelemetry/sdk-trace';

export interface InMemoryTelemetry {
  readonly exporter: InMemorySpanExporter;
  readonly provider: TracerProvider;
  /** Spans ended so far (SimpleSpanProcessor exports each one as it ends). */
  spans(): ReadableSpan[];
  /** Forget the spans ended so far. */
  reset(): void;
  /** Shut the provider down and unregister the globals, so another setup can register. */
  shutdown(): Promise<void>;
}

/**
 * Register a tracer provider that keeps spans in memory, the W3C trace-context propagator and an
 * AsyncLocalStorage context manager as the OpenTelemetry globals. Throws if globals are already
 * registered: spans would silently go to the other setup.
 */
export function startInMemoryTelemetry(serviceName = 'test'): InMemoryTelemetry {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();

  const undo: Array<() => void> = [];
  const register = (ok: boolean, disable: () => void) => {
    if (ok) undo.push(disable);
    return ok;
  };
  const registered =
    register(trace.setGlobalTracerProvider(provider), () => trace.disable()) &&
    register(context.setGlobalContextManager(contextManager), () => context.disable()) &&
    register(propagation.setGlobalPropagator(new W3CTraceContextPropagator()), () => propagation.disable());
  const unregister = () => undo.splice(0).forEach((fn) => fn());
  if (!registered) {
    unregister();
    contextManager.disable();
    throw new Error('OpenTelemetry globals are already registered: shut the other setup down first');
  }

  return {
    exporter,
    provider,
    spans: () => exporter.getFinishedSpans(),
    reset: () => exporter.reset(),
    async shutdown() {
      await provider.shutdown();
      unregister();
    },
  };
}

/** One span as received over OTLP, flattened for assertions. */
export interface ReceivedSpan {
  serviceName: string | undefined;
  traceId: string;
  spanId: string;
  /** Empty or undefined for a root span. */
  parentSpanId: string | undefined;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number | undefined;
  attributes: Record<string, unknown>;
}

/** The subset of the OTLP/JSON ExportTraceServiceRequest that the receiver reads. */
export interface OtlpResourceSpans {
  resource?: { attributes?: OtlpKeyValue[] };
  scopeSpans?: Array<{
    scope?: { name?: string; version?: string };
    spans?: Array<{
      traceId: string;
      spanId: string;
      parentSpanId?: string;
      name: string;
      kind?: number;
      attributes?: OtlpKeyValue[];
    }>;
  }>;
}
export interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}
export interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
  bytesValue?: string;
}

export interface OtlpReceiver {
  /** Base URL, for OTEL_EXPORTER_OTLP_ENDPOINT (the exporter appends /v1/traces). */
  readonly endpoint: string;
  /** Every ResourceSpans received, as sent. */
  readonly resourceSpans: OtlpResourceSpans[];
  /** Everything received so far, flattened. */
  spans(): ReceivedSpan[];
  /** Resolve with all spans once `until(spans)` holds; reject after `timeoutMs`. */
  waitForSpans(until: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

/**
 * An OTLP/HTTP receiver on 127.0.0.1 and a random port, accepting JSON-encoded traces on
 * POST /v1/traces (set OTEL_EXPORTER_OTLP_PROTOCOL=http/json in the exporting process).
 * Protobuf is answered 415 rather than decoded. Metrics and logs are accepted and dropped.
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const resourceSpans: OtlpResourceSpans[] = [];
  const waiters = new Set<() => void>();

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => reply(res, 500, { message: String(err) }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'POST' || !['/v1/traces', '/v1/metrics', '/v1/logs'].includes(path)) {
      return reply(res, 404, { message: 'not found' });
    }
    let body = await readBody(req);
    if (path !== '/v1/traces') return reply(res, 200, {});
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
      return reply(res, 415, {
        message: 'this receiver only decodes OTLP/JSON: set OTEL_EXPORTER_OTLP_PROTOCOL=http/json',
      });
    }
    // OTEL_EXPORTER_OTLP_COMPRESSION=gzip
    if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
    let request: { resourceSpans?: OtlpResourceSpans[] };
    try {
      request = JSON.parse(body.toString('utf8')) as typeof request;
    } catch {
      return reply(res, 400, { message: 'invalid JSON' });
    }
    resourceSpans.push(...(request.resourceSpans ?? []));
    reply(res, 200, {}); // an empty ExportTraceServiceResponse: everything accepted
    waiters.forEach((check) => check());
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const spans = () => flatten(resourceSpans);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    resourceSpans,
    spans,
    waitForSpans(until, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const all = spans();
          if (!until(all)) return;
          done();
          resolve(all);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`OTLP receiver: condition not met in ${timeoutMs} ms; got ${JSON.stringify(spans())}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Exporters keep connections alive; without this close() waits for them to time out.
        server.closeAllConnections();
      });
    },
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body: object): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function flatten(resourceSpans: OtlpResourceSpans[]): ReceivedSpan[] {
  return resourceSpans.flatMap((rs) => {
    const resource = attributesOf(rs.resource?.attributes);
    const serviceName = typeof resource[ATTR_SERVICE_NAME] === 'string' ? resource[ATTR_SERVICE_NAME] : undefined;
    return (rs.scopeSpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map((s) => ({
        serviceName,
        traceId: s.traceId,
        spanId: s.spanId,
        parentSpanId: s.parentSpanId || undefined,
        name: s.name,
        kind: s.kind,
        attributes: attributesOf(s.attributes),
      })),
    );
  });
}

function attributesOf(kvs: OtlpKeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((kvs ?? []).map((kv) => [kv.key, valueOf(kv.value)]));
}

function valueOf(v: OtlpAnyValue | undefined): unknown {
  if (!v) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue); // int64 may arrive as a string
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(valueOf);
  if (v.kvlistValue) return attributesOf(v.kvlistValue.values);
  return v.bytesValue;
}
