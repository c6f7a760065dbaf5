export {
  startTelemetry,
  shutdownTelemetry,
  activeTelemetry,
  defaultInstrumentations,
  type TelemetryOptions,
  type TelemetryHandle,
} from './sdk';
export {
  currentTraceparent,
  injectTraceHeaders,
  extractTraceContext,
  withProducerSpan,
  withConsumerSpan,
  TRACER_NAME,
  type MessageHeaders,
  type MessagingAttributes,
} from './kafka';
export {
  createLogger,
  traceFields,
  REDACTED,
  REDACTED_KEYS,
  REDACTED_NAME_PARENTS,
  REDACT_PATHS,
  type Logger,
  type LoggerOptions,
} from './logger';
export { PinoNestLogger } from './nest-logger';
// A namespace, so test-only names stay out of the main import list: `testing.startInMemoryTelemetry()`.
export * as testing from './testing';
