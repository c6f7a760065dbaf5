import { isSpanContextValid, trace } from '@opentelemetry/api';
import pino, { type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

/**
 * Keys whose values are personal data or credentials. Each is redacted at the top level of a log
 * object and up to two levels down (`email`, `*.email`, `*.*.email`), so
 * `{ order: { customer: { email } } }` is covered; deeper values are not: log ids, not whole
 * payloads. Redaction is by key name only, so camelCase and snake_case are both listed.
 */
export const REDACTED_KEYS: readonly string[] = [
  // contact details
  'email',
  'phone',
  'address',
  'shippingAddress',
  'shipping_address',
  'billingAddress',
  'billing_address',
  // names (a bare `name` is usually a product or event name; see REDACTED_NAME_PARENTS)
  'firstName',
  'first_name',
  'lastName',
  'last_name',
  'fullName',
  'full_name',
  // payment
  'paymentMethod',
  'payment_method',
  'paymentMethodId',
  'payment_method_id',
  'card',
  'cardNumber',
  'card_number',
  'cvc',
  'iban',
  // credentials and the HTTP headers that carry them
  'password',
  'secret',
  'clientSecret',
  'client_secret',
  'token',
  'accessToken',
  'access_token',
  'refreshToken',
  'refresh_token',
  'apiKey',
  'api_key',
  'authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
];

/** Objects whose `name` is a person's name: `user.name`, `*.customer.name`, ... */
export const REDACTED_NAME_PARENTS: readonly string[] = ['user', 'customer', 'shopper', 'recipient', 'contact'];

/** Replaces a redacted value. */
export const REDACTED = '[REDACTED]';

/** The pino redact paths built from the two lists above. */
export const REDACT_PATHS: readonly string[] = [
  ...REDACTED_KEYS.flatMap((key) => atDepths(key)),
  ...REDACTED_NAME_PARENTS.flatMap((parent) => atDepths(`${parent}.name`)),
];

function atDepths(path: string): string[] {
  // Bracket notation for keys such as `set-cookie` that are not identifiers.
  const head = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/.test(path) ? path : `["${path}"]`;
  const join = (prefix: string) => (head.startsWith('[') ? `${prefix}${head}` : `${prefix}.${head}`);
  return [head, join('*'), join('*.*')];
}

export interface LoggerOptions {
  /** Default: LOG_LEVEL, else `info`. */
  level?: LevelWithSilent;
  /** Where lines go. Default: stdout (synchronous, so nothing is lost on a crash). */
  destination?: DestinationStream;
  /** Further redact paths in pino syntax, on top of REDACT_PATHS. */
  redact?: string[];
}

/**
 * A JSON logger whose every line carries `service`, an ISO `time`, a string `level`, and the
 * `trace_id`/`span_id` (+ `trace_flags`) of the span active when the line is written, so logs
 * and Jaeger traces join on trace_id. Personal data is redacted (see REDACT_PATHS).
 */
export function createLogger(name: string, options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? levelFromEnv(),
      base: { service: name },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Labels, not numbers: log backends and people both read "warn" more easily than 40.
      formatters: { level: (label) => ({ level: label }) },
      mixin: traceFields,
      redact: { paths: [...REDACT_PATHS, ...(options.redact ?? [])], censor: REDACTED },
    },
    options.destination ?? stdout(),
  );
}

let stdoutStream: DestinationStream | undefined;
/** One synchronous stdout writer for all loggers: no lines lost on a crash, none interleaved. */
function stdout(): DestinationStream {
  return (stdoutStream ??= pino.destination({ dest: 1, sync: true }));
}

/** The active span's ids; nothing outside a span (or for the invalid span of a disabled SDK). */
export function traceFields(): { trace_id?: string; span_id?: string; trace_flags?: string } {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const sc = span.spanContext();
  if (!isSpanContextValid(sc)) return {};
  return { trace_id: sc.traceId, span_id: sc.spanId, trace_flags: `0${sc.traceFlags.toString(16)}`.slice(-2) };
}

function levelFromEnv(): LevelWithSilent {
  const level = process.env.LOG_LEVEL?.trim().toLowerCase();
  // An unknown level would make pino throw at startup; a typo in an env var should not.
  return level && (level === 'silent' || level in pino.levels.values) ? (level as LevelWithSilent) : 'info';
}
