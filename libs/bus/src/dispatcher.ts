import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import { DataSource, EntityManager } from 'typeorm';
import { decodeEnvelope, EventEnvelope, EventRegistry } from '@assent/contracts';
import { Inbox } from '@assent/eventstore';
import { withConsumerSpan } from '@assent/telemetry';
import { BusMessage, PermanentHandlerError } from './message';

/** What a handler gets besides the event: the transaction its writes must use. */
export interface HandlerContext {
  manager: EntityManager;
  message: BusMessage;
  attempt: number;
}

export type EventHandlerFn = (envelope: EventEnvelope, context: HandlerContext) => Promise<void>;

export interface RetryOptions {
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { maxAttempts: 5, initialDelayMs: 100, maxDelayMs: 2000 };

export type DispatchOutcome = 'handled' | 'duplicate' | 'ignored' | 'dead-lettered';

export interface DispatcherOptions {
  /** The consumer group; inbox entries and dead letters are per consumer. */
  consumer: string;
  dataSource: DataSource;
  schema: string;
  registry: EventRegistry;
  handlerFor(type: string): EventHandlerFn | undefined;
  retry?: Partial<RetryOptions>;
}

/**
 * Transport-specific pieces of delivery: where dead letters go, and how the transport records that
 * a message is done (the embedded cursor moves in the handler's own transaction).
 */
export interface DeliverySink {
  deadLetter(message: BusMessage, reason: string, attempts: number, manager: EntityManager): Promise<void>;
  acknowledge?(message: BusMessage, manager: EntityManager): Promise<void>;
}

/**
 * Turns one bus message into at most one effect: decode and validate, find the handler, run it in
 * a transaction together with the inbox claim, retry transient failures with backoff, and after the
 * last attempt (or at once for a message that can never be read) hand it to the dead-letter sink.
 * It never throws for a bad message, so one poison message cannot block its partition.
 */
export class EventDispatcher {
  private readonly inbox: Inbox;
  private readonly retryOptions: RetryOptions;

  constructor(private readonly options: DispatcherOptions) {
    this.inbox = new Inbox(options.schema);
    this.retryOptions = { ...DEFAULT_RETRY, ...options.retry };
  }

  async dispatch(message: BusMessage, sink: DeliverySink): Promise<DispatchOutcome> {
    const { dataSource, consumer } = this.options;
    let envelope: EventEnvelope;
    try {
      envelope = decodeEnvelope(this.options.registry, message.value);
    } catch (error) {
      await dataSource.transaction((m) => this.deadLetter(sink, message, `undecodable: ${errorText(error)}`, 0, m));
      return 'dead-lettered';
    }
    const handler = this.options.handlerFor(envelope.type);
    if (!handler) {
      if (sink.acknowledge) await dataSource.transaction((m) => sink.acknowledge!(message, m));
      return 'ignored';
    }

    const { maxAttempts, initialDelayMs, maxDelayMs } = this.retryOptions;
    const policy = retry(
      handleWhen((e) => !(e instanceof PermanentHandlerError)),
      {
        maxAttempts: maxAttempts - 1,
        backoff: new ExponentialBackoff({ initialDelay: initialDelayMs, maxDelay: maxDelayMs }),
      },
    );
    let attempts = 0;
    const attrs = {
      topic: message.topic,
      key: message.key,
      partition: message.partition,
      offset: message.offset,
      messageId: envelope.eventId,
      consumerGroup: consumer,
      attributes: { 'assent.event.type': envelope.type, 'assent.correlation_id': envelope.correlationId },
    };
    try {
      return await withConsumerSpan(`${envelope.type} process`, message.headers, attrs, () =>
        policy.execute(() => {
          attempts++;
          return dataSource.transaction(async (manager) => {
            const first = await this.inbox.claim(manager, consumer, envelope.eventId, message.topic);
            if (first) await handler(envelope, { manager, message, attempt: attempts });
            await sink.acknowledge?.(message, manager);
            return first ? 'handled' : 'duplicate';
          });
        }),
      );
    } catch (error) {
      await dataSource.transaction((m) =>
        this.deadLetter(sink, message, `handler failed: ${errorText(error)}`, attempts, m),
      );
      return 'dead-lettered';
    }
  }

  private async deadLetter(
    sink: DeliverySink,
    message: BusMessage,
    reason: string,
    attempts: number,
    manager: EntityManager,
  ): Promise<void> {
    await sink.deadLetter(message, reason.slice(0, 2000), attempts, manager);
    await sink.acknowledge?.(message, manager);
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
