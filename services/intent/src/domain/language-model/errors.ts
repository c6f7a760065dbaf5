/**
 * Why one call to the language model did not produce a usable proposal. Each kind is also the
 * fallback reason recorded for the turn, so operators can tell a slow model from a garbled one.
 */
export type ModelFailureKind =
  /** The attempt's own signal fired (the turn's deadline), or the server stopped sending. */
  | 'timeout'
  /** DNS, TCP, TLS or a reset connection: no HTTP answer at all. */
  | 'transport'
  /** 5xx. */
  | 'server_error'
  /** 429. */
  | 'rate_limited'
  /** Any other non-2xx: usually configuration (wrong key, model or path), not worth retrying. */
  | 'http_error'
  /** The envelope or the content is not JSON. */
  | 'invalid_json'
  /** The body or the content stops mid-way (a half-written body, `finish_reason: length`). */
  | 'truncated'
  /** JSON, but not the proposal's shape. */
  | 'schema_violation'
  /** Replacement characters, control characters, symbol noise, the wrong script, invalid UTF-8. */
  | 'corrupted'
  /** A 200 with no content (refusal, empty choice). */
  | 'empty_response';

/** Kinds a second attempt may cure: the same request can well succeed a moment later. */
const RETRYABLE: ReadonlySet<ModelFailureKind> = new Set([
  'transport',
  'server_error',
  'rate_limited',
  'truncated',
  'invalid_json',
  'corrupted',
  'empty_response',
]);

export class LanguageModelError extends Error {
  override readonly name = 'LanguageModelError';
  readonly kind: ModelFailureKind;
  /** HTTP status when there was one. */
  readonly status: number | undefined;
  /** The transport's error code (`ECONNRESET`, `UNABLE_TO_VERIFY_LEAF_SIGNATURE`, ...), when there was one. */
  readonly code: string | undefined;
  /** A 429's or 503's Retry-After, in milliseconds. */
  readonly retryAfterMs: number | undefined;

  constructor(
    kind: ModelFailureKind,
    message: string,
    details: { status?: number; code?: string; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.kind = kind;
    this.status = details.status;
    this.code = details.code;
    this.retryAfterMs = details.retryAfterMs;
  }

  get retryable(): boolean {
    return RETRYABLE.has(this.kind);
  }
}

/** Configuration that cannot work: raised at start-up, never during a turn. */
export class LanguageModelConfigError extends Error {
  override readonly name = 'LanguageModelConfigError';
}
