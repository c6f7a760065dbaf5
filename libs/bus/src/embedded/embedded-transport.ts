import { EntityManager } from 'typeorm';
import { idlePollMs, OutboxMessage, quoteIdent } from '@assent/eventstore';
import { DeliverySink } from '../dispatcher';
import { BusMessage } from '../message';
import { BusTransport, ClosablePublisher, RunningSubscription, SubscriptionSpec } from '../transport';

/** Idle poll of an embedded subscriber on a PostgreSQL server. */
export const DEFAULT_SUBSCRIBER_IDLE_MS = 25;

export interface EmbeddedTransportOptions {
  /**
   * Poll interval of an idle subscriber. A publish through this transport wakes its subscribers at
   * once; the poll finds what other processes published (services sharing one PostgreSQL server).
   * Default: DEFAULT_SUBSCRIBER_IDLE_MS on a server, DEFAULT_IN_PROCESS_IDLE_MS on PGlite, where every
   * publish is here.
   */
  idleMs?: number;
  batchSize?: number;
  onError?: (error: unknown) => void;
}

interface LogRow {
  log_offset: string;
  event_id: string;
  topic: string;
  message_key: string;
  headers: Record<string, string>;
  body: string | null;
}

/**
 * The single-process transport of the embedded default. The outbox tables are the log: the relay
 * "publishes" a row by giving it the next `log_offset` of its outbox (one relay per schema at a time,
 * so offsets follow commit order), and each consumer keeps a durable cursor per topic, moved in the
 * same transaction as its handler's writes. Nothing lives only in memory, so a restart resumes where
 * it stopped, with Kafka's ordering (per topic, hence per stream) and at-least-once delivery.
 * All services share one database here (PGlite or one PostgreSQL), which is what makes this work.
 */
export class EmbeddedTransport implements BusTransport {
  readonly kind = 'embedded' as const;
  /** topic -> schema whose outbox holds it; registered by each service's publisher. */
  private readonly sources = new Map<string, string>();
  private readonly wakers = new Set<() => void>();
  private readonly closers = new Set<() => Promise<void>>();

  constructor(private readonly options: EmbeddedTransportOptions = {}) {}

  async createPublisher(topics: string[], schema: string): Promise<ClosablePublisher> {
    // Consumers find a topic's log through this, also for rows published before a restart.
    for (const t of topics) this.sources.set(t, schema);
    return {
      publish: async (messages: OutboxMessage[], manager: EntityManager) => {
        const s = quoteIdent(schema);
        await manager.query(
          `UPDATE ${s}.outbox o SET log_offset = base.b + ranked.ord
           FROM (SELECT coalesce(max(log_offset), 0) AS b FROM ${s}.outbox) base,
                unnest($1::bigint[]) WITH ORDINALITY AS ranked(position, ord)
           WHERE o.position = ranked.position`,
          [messages.map((m) => m.position)],
        );
      },
      published: () => this.wakeAll(),
      close: async () => {},
    };
  }

  async subscribe(spec: SubscriptionSpec): Promise<RunningSubscription> {
    const own = quoteIdent(spec.schema);
    const sink: DeliverySink = {
      deadLetter: async (message: BusMessage, reason: string, attempts: number, manager: EntityManager) => {
        await manager.query(
          `INSERT INTO ${own}.dead_letters (consumer, topic, message_key, event_id, headers, body, reason, attempts)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
          [
            spec.consumer,
            message.topic,
            message.key,
            message.headers['event-id'] ?? null,
            JSON.stringify({ ...message.headers, 'dlq-original-offset': message.offset }),
            message.value?.toString('utf8') ?? null,
            reason,
            attempts,
          ],
        );
      },
      acknowledge: async (message: BusMessage, manager: EntityManager) => {
        await manager.query(
          `INSERT INTO ${own}.subscription_cursors (consumer, topic, log_offset) VALUES ($1, $2, $3)
           ON CONFLICT (consumer, topic) DO UPDATE SET log_offset = excluded.log_offset`,
          [spec.consumer, message.topic, message.offset],
        );
      },
    };

    let running = true;
    let wake: (() => void) | null = null;
    // A publish while the subscriber is reading: look again before sleeping, or it waits a poll.
    let woken = false;
    const waker = () => {
      woken = true;
      wake?.();
    };
    this.wakers.add(waker);
    const idleMs = this.options.idleMs ?? idlePollMs(spec.dataSource, DEFAULT_SUBSCRIBER_IDLE_MS);

    const pollTopic = async (topic: string): Promise<number> => {
      const source = this.sources.get(topic);
      if (!source) return 0;
      const rows = (await spec.dataSource.query(
        `SELECT o.log_offset, o.event_id, o.topic, o.message_key, o.headers, o.body
         FROM ${quoteIdent(source)}.outbox o
         WHERE o.topic = $1 AND o.log_offset > coalesce(
           (SELECT c.log_offset FROM ${own}.subscription_cursors c WHERE c.consumer = $2 AND c.topic = $1), 0)
         ORDER BY o.log_offset LIMIT $3`,
        [topic, spec.consumer, this.options.batchSize ?? 200],
      )) as LogRow[];
      if (rows.length === 0 || !running) return 0;
      await spec.dispatcher.dispatchBatch(
        rows.map((row) => ({
          topic,
          partition: 0,
          offset: String(row.log_offset),
          key: row.message_key,
          headers: row.headers,
          value: row.body === null ? null : Buffer.from(row.body, 'utf8'),
        })),
        sink,
      );
      return rows.length;
    };

    const loop = (async () => {
      let failures = 0;
      while (running) {
        woken = false;
        let delivered = 0;
        try {
          for (const topic of spec.topics) delivered += await pollTopic(topic);
          failures = 0;
        } catch (error) {
          // The database is unavailable; the cursor did not move, so the next poll retries.
          failures++;
          this.options.onError?.(error);
        }
        if (!running || delivered > 0 || (woken && failures === 0)) continue;
        const idle = failures > 0 ? Math.min(5000, 50 * 2 ** Math.min(failures, 7)) : idleMs;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, idle);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = null;
      }
    })();

    const close = async () => {
      running = false;
      this.wakers.delete(waker);
      waker();
      await loop;
    };
    this.closers.add(close);
    return {
      ready: Promise.resolve(),
      close: async () => {
        this.closers.delete(close);
        await close();
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.closers].map((c) => c()));
    this.closers.clear();
  }

  private wakeAll(): void {
    for (const w of this.wakers) w();
  }
}
