/**
 * Preload entry: `node -r @assent/telemetry/register dist/main.js`
 * (or `NODE_OPTIONS='-r @assent/telemetry/register'`, or `import '@assent/telemetry/register'`
 * as the very first import of main.ts).
 *
 * It must run before anything requires http, @nestjs/core, pg or kafkajs: instrumentations only
 * patch modules loaded after the SDK starts. Everything is configured by OTEL_* variables; the
 * service name comes from OTEL_SERVICE_NAME.
 */
import { isMainThread } from 'node:worker_threads';
import { startTelemetry } from './sdk';

// Worker threads inherit the preload (from -r and from NODE_OPTIONS alike). The outbox relay
// thread starts an SDK of its own without instrumentations: kafkajs's would start each relayed
// message's "send" span on the thread's empty context and overwrite the traceparent header that
// carries the trace of the append, so the consumer would join a new trace.
export const telemetry = isMainThread ? startTelemetry() : undefined;

// Short-lived processes (scripts, the test's child processes) end by running out of work, which
// would drop the spans still sitting in the batch processor; flush them once on the way out.
// Long-running services should also call shutdownTelemetry() from onApplicationShutdown, since
// signals and process.exit() skip 'beforeExit'.
process.once('beforeExit', () => {
  void telemetry?.shutdown();
});
