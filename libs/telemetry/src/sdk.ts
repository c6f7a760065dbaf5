import { context, propagation, trace } from '@opentelemetry/api';
import { getBooleanFromEnv } from '@opentelemetry/core';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace';

// The SDK (with every exporter it bundles) and the instrumentations take ~0.3 s to require, and
// most importers of this package only want the propagation helpers or the logger: load them
// synchronously on first use instead (synchronously, because a preload must patch before main runs).
/* eslint-disable @typescript-eslint/no-require-imports */
const load = {
  sdk: () => require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node'),
  http: () => require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http'),
  nest: () =>
    require('@opentelemetry/instrumentation-nestjs-core') as typeof import('@opentelemetry/instrumentation-nestjs-core'),
  pg: () => require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg'),
  kafkajs: () =>
    require('@opentelemetry/instrumentation-kafkajs') as typeof import('@opentelemetry/instrumentation-kafkajs'),
};
/* eslint-enable @typescript-eslint/no-require-imports */

export interface TelemetryOptions {
  /**
   * `service.name` of every span. OTEL_SERVICE_NAME wins when set, so operators can rename a
   * deployment without a rebuild; this is the fallback (the SDK's own is `unknown_service:node`).
   */
  serviceName?: string;
  /** Replace the exporter pipeline (tests). Default: what OTEL_TRACES_EXPORTER etc. say. */
  spanProcessors?: SpanProcessor[];
  /** Export to this exporter through a batch processor instead of the one OTEL_* describes. */
  traceExporter?: SpanExporter;
  /** Replace the default instrumentations (HTTP, NestJS, pg, kafkajs). */
  instrumentations?: Instrumentation[];
}

export interface TelemetryHandle {
  /** Whether an SDK was started (false when OTEL_SDK_DISABLED=true). */
  readonly enabled: boolean;
  /** Flush pending spans and stop exporting. Safe to call more than once. */
  shutdown(): Promise<void>;
}

/** The instrumentations every service gets; each only patches modules required after start. */
export function defaultInstrumentations(): Instrumentation[] {
  return [
    new (load.http().HttpInstrumentation)(),
    // Supports @nestjs/core >=4 <12 (every release so far), so with Nest 12 it stays inert
    // until a release covers 12; HTTP server spans still come from the http instrumentation.
    new (load.nest().NestInstrumentation)(),
    // Without a parent span, pg spans are the outbox relay's and projectors' polling queries:
    // one root trace per poll would drown Jaeger, so only queries inside a request/message count.
    new (load.pg().PgInstrumentation)({ requireParentSpan: true, ignoreConnectSpans: true }),
    new (load.kafkajs().KafkaJsInstrumentation)(),
  ];
}

// Kept on globalThis rather than in a module variable so that the preload and an explicit call
// in main.ts share one SDK even if the package ends up loaded twice (e.g. dist and src paths).
const HANDLE = Symbol.for('assent.telemetry.handle');
type GlobalWithHandle = typeof globalThis & { [HANDLE]?: TelemetryHandle };

/** The handle of the running SDK, if `startTelemetry` (or the preload) has been called. */
export function activeTelemetry(): TelemetryHandle | undefined {
  return (globalThis as GlobalWithHandle)[HANDLE];
}

/**
 * Start the OpenTelemetry NodeSDK: W3C trace-context propagation (OTEL_PROPAGATORS may change it),
 * AsyncLocalStorage context, the default instrumentations, and OTLP trace export as configured by
 * the standard OTEL_* variables, which the SDK reads itself (OTEL_EXPORTER_OTLP_ENDPOINT, default
 * http://localhost:4318 = Jaeger's OTLP/HTTP port; OTEL_EXPORTER_OTLP_PROTOCOL http/protobuf |
 * http/json; OTEL_TRACES_EXPORTER=none; OTEL_SDK_DISABLED=true; OTEL_TRACES_SAMPLER; ...).
 *
 * Idempotent: a second call returns the first handle, so a preload and main.ts can both call it.
 */
export function startTelemetry(options: TelemetryOptions = {}): TelemetryHandle {
  const existing = activeTelemetry();
  if (existing) return existing;

  const enabled = !getBooleanFromEnv('OTEL_SDK_DISABLED'); // read as the SDK reads it
  const { NodeSDK } = load.sdk();
  const sdk = new NodeSDK({
    // Env first: the SDK's env detector already reads OTEL_SERVICE_NAME, and an explicit
    // serviceName would override it.
    serviceName: process.env.OTEL_SERVICE_NAME ? undefined : options.serviceName,
    spanProcessors: options.spanProcessors,
    traceExporter: options.traceExporter,
    // Instrumentations patch on construction, so a disabled SDK gets none.
    instrumentations: enabled ? (options.instrumentations ?? defaultInstrumentations()) : [],
    // This library is about traces. The SDK would otherwise default metrics and logs to OTLP too,
    // which Jaeger rejects (404 every export interval); setting the OTEL_* variable re-enables them.
    ...(process.env.OTEL_METRICS_EXPORTER ? {} : { metricReaders: [] }),
    ...(process.env.OTEL_LOGS_EXPORTER ? {} : { logRecordProcessors: [] }),
  });
  sdk.start(); // a no-op under OTEL_SDK_DISABLED=true

  let stopping: Promise<void> | undefined;
  const handle: TelemetryHandle = {
    enabled,
    shutdown() {
      stopping ??= sdk.shutdown().finally(() => {
        // Unregister the globals too, so a later start (tests, restarts) can register again;
        // a disabled SDK registered none, and must not remove someone else's.
        if (enabled) {
          trace.disable();
          context.disable();
          propagation.disable();
        }
        if (activeTelemetry() === handle) delete (globalThis as GlobalWithHandle)[HANDLE];
      });
      return stopping;
    },
  };
  (globalThis as GlobalWithHandle)[HANDLE] = handle;
  return handle;
}

/** Shut down the running SDK, if any (for Nest's onApplicationShutdown). */
export async function shutdownTelemetry(): Promise<void> {
  await activeTelemetry()?.shutdown();
}
