import { Logger } from '@nestjs/common';
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
  /**
   * Runs `effect` once this handler's transaction has committed, and never if it rolls back (a
   * rolled-back attempt's effects are dropped with it). For what cannot be part of the transaction,
   * such as sending a message to the shopper. A failing effect is logged; the event stays handled.
   */
  afterCommit(effect: () => Promise<void>): void;
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
  private readonly logger = new Logger('EventDispatcher');
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
      return await this.inConsumerSpan(message, envelope, () =>
        policy.execute(() => {
          attempts++;
          return this.committing(async (manager, afterCommit): Promise<DispatchOutcome> => {
            const first = await this.inbox.claim(manager, consumer, envelope.eventId, message.topic);
            if (first) await handler(envelope, { manager, message, attempt: attempts, afterCommit });
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
   * claim, every handler in turn, one commit. When a handler fails the transaction rolls back
   * whole; the messages before the failing one are replayed in a fresh transaction (their first
   * run left no trace), and the failing one goes to `dispatch` on its own (retries, dead letter).
   * A message that cannot be decoded ends the run the same way. Order per partition holds, every
   * message ends handled, duplicate, ignored or dead-lettered, and none has a second effect.
   */
  async dispatchBatch(messages: BusMessage[], sink: DeliverySink): Promise<DispatchOutcome[]> {
    const outcomes: DispatchOutcome[] = [];
    while (outcomes.length < messages.length) {
      const { handled, priorAttempts, permanent } = await this.handleRun(messages.slice(outcomes.length), sink);
      outcomes.push(...handled);
      if (outcomes.length >= messages.length) break;
      const next = messages[outcomes.length];
      if (permanent) {
        // Its handler already said retrying cannot help.
        const reason = `handler failed: ${errorText(permanent)}`;
        await this.options.dataSource.transaction((m) => this.deadLetter(sink, next, reason, priorAttempts, m));
        outcomes.push('dead-lettered');
      } else outcomes.push(await this.dispatch(next, sink, priorAttempts));
    }
    return outcomes;
  }

  /**
   * Handles the longest leading run it can in one transaction and commits it. Returns the outcomes
   * of that run, how many times the handler of the message after it already failed (0 when that
   * message is undecodable or was not reached), for `dispatch` to count its retries from, and the
   * PermanentHandlerError if that is how it failed.
   */
  private async handleRun(
    messages: BusMessage[],
    sink: DeliverySink,
  ): Promise<{ handled: DispatchOutcome[]; priorAttempts: number; permanent?: PermanentHandlerError }> {
    const run: RunItem[] = [];
    for (const message of messages) {
      try {
        const envelope = decodeEnvelope(this.options.registry, message.value);
        run.push({ message, envelope, handler: this.options.handlerFor(envelope.type) });
      } catch {
        break;
      }
    }
    // Handler failures per index of `run`, over the attempts below.
    const failures = new Map<number, number>();
    let permanent: { index: number; error: PermanentHandlerError } | undefined;
    const after = (handled: DispatchOutcome[]) => ({
      handled,
      priorAttempts: failures.get(handled.length) ?? 0,
      permanent: permanent?.index === handled.length ? permanent.error : undefined,
    });
    let length = run.length;
    while (length > 0) {
      try {
        const handled = await this.committing((manager, afterCommit) =>
          this.runInTransaction(run, length, manager, sink, afterCommit),
        );
        return after(handled);
      } catch (error) {
        if (!(error instanceof RunHandlerFailure)) {
          // The transaction itself failed (the database); `dispatch` retries the first message alone.
          return after([]);
        }
        // Everything rolled back; replay the messages before the failing one without it.
        failures.set(error.index, (failures.get(error.index) ?? 0) + 1);
        if (error.error instanceof PermanentHandlerError) permanent = { index: error.index, error: error.error };
        length = error.index;
      }
    }
    return after([]);
  }

  /** Claims and handles `run[0..length)` in `manager`'s transaction; throws RunHandlerFailure. */
  private async runInTransaction(
    run: RunItem[],
    length: number,
    manager: EntityManager,
    sink: DeliverySink,
    afterCommit: HandlerContext['afterCommit'],
  ): Promise<DispatchOutcome[]> {
    const { consumer } = this.options;
    const claimed: string[] = [];
    for (let i = 0; i < length; i++) if (run[i].handler) claimed.push(run[i].envelope.eventId);
    const fresh = await this.inbox.claimMany(manager, consumer, claimed, run[0].message.topic);
    const handled: DispatchOutcome[] = [];
    for (let i = 0; i < length; i++) {
      const { message, envelope, handler } = run[i];
      if (!handler) handled.push('ignored');
      // A second copy of an event in the same run is a duplicate of the first.
      else if (!fresh.delete(envelope.eventId)) handled.push('duplicate');
      else {
        try {
          await this.inConsumerSpan(message, envelope, () =>
            handler(envelope, { manager, message, attempt: 1, afterCommit }),
          );
        } catch (error) {
          throw new RunHandlerFailure(i, error);
        }
        handled.push('handled');
      }
    }
    await sink.acknowledge?.(run[length - 1].message, manager);
    return handled;
  }

  /** Runs `work` in a transaction, then, only once it has committed, the effects its handlers asked for. */
  private async committing<T>(
    work: (manager: EntityManager, afterCommit: HandlerContext['afterCommit']) => Promise<T>,
  ): Promise<T> {
    const effects: AfterCommitEffect[] = [];
    const result = await this.options.dataSource.transaction((manager) =>
      work(manager, (effect) => void effects.push(effect)),
    );
    for (const effect of effects) {
      Promise.resolve()
        .then(effect)
        .catch((error: unknown) => this.logger.error(`after-commit effect failed: ${errorText(error)}`));
    }
    return result;
  }

  /** The CONSUMER span of one message, parented on its headers (the transport's own, when it has them). */
  private inConsumerSpan<T>(message: BusMessage, envelope: EventEnvelope, fn: () => Promise<T>): Promise<T> {
    return withConsumerSpan(
      `${envelope.type} process`,
      message.rawHeaders ?? message.headers,
      () => this.spanAttributes(message, envelope),
      fn,
    );
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

type AfterCommitEffect = () => Promise<void>;

interface RunItem {
  message: BusMessage;
  envelope: EventEnvelope;
  handler: EventHandlerFn | undefined;
}

/** A handler failed inside a run's transaction: roll it back and replay up to `index`. */
class RunHandlerFailure extends Error {
  constructor(
    readonly index: number,
    readonly error: unknown,
  ) {
    super(`handler of message ${index} in the run failed: ${errorText(error)}`);
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
