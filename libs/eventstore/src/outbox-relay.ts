import { DataSource, EntityManager } from 'typeorm';
import { quoteIdent } from './migrations';

export interface OutboxMessage {
  position: string;
  eventId: string;
  topic: string;
  key: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * Where the relay hands outbox rows: Kafka, or the embedded transport. `publish` runs inside the
 * relay's transaction; the rows are marked published only after it returns, so a crash in between
 * republishes them and consumers' inboxes absorb the duplicates.
 */
export interface OutboxPublisher {
  publish(messages: OutboxMessage[], manager: EntityManager, schema: string): Promise<void>;
  /** Called after the relay's transaction committed the batch. */
  published?(): void;
}

export interface OutboxRelayOptions {
  batchSize?: number;
  /** Sleep when the outbox is empty; a full batch loops at once. */
  idleMs?: number;
  onError?: (error: unknown) => void;
}

interface OutboxRow {
  position: string;
  event_id: string;
  topic: string;
  message_key: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * Publishes a service's outbox in order. One relay per schema is active at a time (a transaction
 * advisory lock), which keeps per-stream order when several replicas of a service run.
 */
export class OutboxRelay {
  private readonly s: string;
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly dataSource: DataSource,
    readonly schema: string,
    private readonly publisher: OutboxPublisher,
    private readonly options: OutboxRelayOptions = {},
  ) {
    this.s = quoteIdent(schema);
  }

  /** Publishes one batch; returns how many rows it published (0 when idle or another relay leads). */
  async publishBatch(): Promise<number> {
    const count = await this.dataSource.transaction(async (manager) => {
      const [{ leader }] = (await manager.query(`SELECT pg_try_advisory_xact_lock(hashtext($1)) AS leader`, [
        `assent.outbox-relay.${this.schema}`,
      ])) as Array<{ leader: boolean }>;
      if (!leader) return 0;
      const rows = (await manager.query(
        `SELECT position, event_id, topic, message_key, headers, body FROM ${this.s}.outbox
         WHERE published_at IS NULL ORDER BY position LIMIT $1`,
        [this.options.batchSize ?? 500],
      )) as OutboxRow[];
      if (rows.length === 0) return 0;
      const messages = rows.map((r) => ({
        position: String(r.position),
        eventId: r.event_id,
        topic: r.topic,
        key: r.message_key,
        headers: r.headers,
        body: r.body,
      }));
      await this.publisher.publish(messages, manager, this.schema);
      await manager.query(`UPDATE ${this.s}.outbox SET published_at = now() WHERE position = ANY($1::bigint[])`, [
        messages.map((m) => m.position),
      ]);
      return rows.length;
    });
    if (count > 0) this.publisher.published?.();
    return count;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Lets the relay look at once instead of after its idle sleep (an in-process append hint). */
  nudge(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.loop = null;
  }

  private async run(): Promise<void> {
    const idleMs = this.options.idleMs ?? 10;
    let failures = 0;
    while (this.running) {
      let published = 0;
      try {
        published = await this.publishBatch();
        failures = 0;
      } catch (error) {
        failures++;
        this.options.onError?.(error);
      }
      if (!this.running) break;
      if (published >= (this.options.batchSize ?? 500)) continue;
      // Back off on repeated failures (a broker or database outage) up to 5 s.
      const sleep = failures > 0 ? Math.min(5000, idleMs * 2 ** Math.min(failures, 9)) : idleMs;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, sleep);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }
}
