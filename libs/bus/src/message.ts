import type { MessageHeaders } from '@assent/telemetry';

/** A message as a consumer receives it, whatever the transport: the exact bytes and headers. */
export interface BusMessage {
  topic: string;
  key: string | null;
  headers: Record<string, string>;
  /**
   * The headers as the transport decoded them (Kafka: Buffers), when it has them: enough for trace
   * propagation without turning every header into a string.
   */
  rawHeaders?: MessageHeaders;
  /** The original bytes; a dead letter carries them unchanged. */
  value: Buffer | null;
  /** Where it sits in its log, for dead-letter records and diagnostics. */
  partition: number;
  offset: string;
}

/** Headers of a dead letter: the reason and where the original came from. */
export const DLQ_HEADERS = {
  reason: 'dlq-reason',
  consumer: 'dlq-consumer',
  topic: 'dlq-original-topic',
  partition: 'dlq-original-partition',
  offset: 'dlq-original-offset',
  attempts: 'dlq-attempts',
  failedAt: 'dlq-failed-at',
} as const;

/** A handler error that retrying cannot fix (a broken invariant in the event itself). */
export class PermanentHandlerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentHandlerError';
  }
}
