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

  /** `priorAttempts`: handler attempts already made for this message (by `dispatchBatch`). */
  async dispatch(message: BusMessage, sink: DeliverySink, priorAttempts = 0): Promise<DispatchOutcome> {
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
        maxAttempts: Math.max(0, maxAttempts - 1 - priorAttempts),
        backoff: new ExponentialBackoff({ initialDelay: initialDelayMs, maxDelay: maxDelayMs }),
      },
    );
    let attempts = priorAttempts;
    try {
      return await withConsumerSpan(
        `${envelope.type} process`,
        message.headers,
        this.spanAttributes(message, envelope),
        () =>
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

  /**
   * Handles a run of messages from one partition in as few transactions as possible: one bulk inbox
   * claim, each handler under a savepoint, one commit. At the first message that cannot be decoded
   * or whose handler fails, it commits what came before, gives that message to `dispatch` (retries,
   * dead letter) and goes on after it, so order and per-message failure handling stay as in
   * `dispatch`. Per-message transactions cost a commit each, which bounds throughput.
   */
  async dispatchBatch(messages: BusMessage[], sink: DeliverySink): Promise<DispatchOutcome[]> {
    const outcomes: DispatchOutcome[] = [];
    while (outcomes.length < messages.length) {
      const { handled, attempted } = await this.handleRun(messages.slice(outcomes.length), sink);
      outcomes.push(...handled);
      if (outcomes.length < messages.length) {
        outcomes.push(await this.dispatch(messages[outcomes.length], sink, attempted ? 1 : 0));
      }
    }
    return outcomes;
  }

  /**
   * How many leading messages were handled (or skipped as duplicates or not ours) and committed, and
   * whether the handler of the next one was tried and failed.
   */
  private async handleRun(
    messages: BusMessage[],
    sink: DeliverySink,
  ): Promise<{ handled: DispatchOutcome[]; attempted: boolean }> {
    const run: Array<{ message: BusMessage; envelope: EventEnvelope; handler: EventHandlerFn | undefined }> = [];
    for (const message of messages) {
      try {
        const envelope = decodeEnvelope(this.options.registry, message.value);
        run.push({ message, envelope, handler: this.options.handlerFor(envelope.type) });
      } catch {
        break;
      }
    }
    if (run.length === 0) return { handled: [], attempted: false };
    const { consumer } = this.options;
    try {
      return await this.options.dataSource.transaction(async (manager) => {
        const claimed = run.filter((r) => r.handler).map((r) => r.envelope.eventId);
        const fresh = await this.inbox.claimMany(manager, consumer, claimed, messages[0].topic);
        const handled: DispatchOutcome[] = [];
        let attempted = false;
        for (const { message, envelope, handler } of run) {
          if (!handler) handled.push('ignored');
          else if (!fresh.delete(envelope.eventId)) handled.push('duplicate');
          else {
            await manager.query('SAVEPOINT assent_event');
            try {
              await withConsumerSpan(
                `${envelope.type} process`,
                message.headers,
                this.spanAttributes(message, envelope),
                () => handler(envelope, { manager, message, attempt: 1 }),
              );
              await manager.query('RELEASE SAVEPOINT assent_event');
            } catch {
              await manager.query('ROLLBACK TO SAVEPOINT assent_event');
              await this.inbox.release(manager, consumer, [envelope.eventId, ...fresh]);
              attempted = true;
              break;
            }
            handled.push('handled');
          }
        }
        if (handled.length > 0) await sink.acknowledge?.(run[handled.length - 1].message, manager);
        return { handled, attempted };
      });
    } catch {
      // The transaction itself failed (the database); `dispatch` retries the first message alone.
      return { handled: [], attempted: false };
    }
  }

  private spanAttributes(message: BusMessage, envelope: EventEnvelope) {
    return {
      topic: message.topic,
      key: message.key,
      partition: message.partition,
      offset: message.offset,
      messageId: envelope.eventId,
      consumerGroup: this.options.consumer,
      attributes: { 'assent.event.type': envelope.type, 'assent.correlation_id': envelope.correlationId },
    };
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
