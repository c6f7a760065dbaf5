import { activeTelemetry } from '@assent/telemetry';
import { ClientConfig } from 'pg';
import { DataSource, EntityManager } from 'typeorm';
import { isInProcessDatabase } from './database';
import { quoteIdent } from './migrations';
import { onOutboxCommit } from './outbox-signal';
import { bigintArray, relayBackoff, RelayNap } from './relay-leader';
import { relayThread, RelayThreadPublisher, StartRelay } from './relay-thread';

export interface OutboxMessage {
  position: string;
  eventId: string;
  topic: string;
  key: string;
  headers: Record<string, string>;
  /**
   * The bytes the bus carries (the envelope as UTF-8 JSON). Made once, as the rows arrive: a batch
   * lives for a whole send, and holding its JSON as strings made every young-generation GC copy
   * them (measured: 7-10% of the bus's CPU per event).
   */
  body: Buffer;
}

/**
 * Where the relay hands outbox rows: Kafka, or the embedded transport. The rows are marked
 * published only after `publish` returns, so a crash in between republishes them and consumers'
 * inboxes absorb the duplicates.
 */
export interface OutboxPublisher {
  /**
   * Runs inside the relay's transaction, which marks the rows. `messages` are read for this one
   * call (a retry reads them again), so the publisher may add to their headers. Not called for a
   * relay on the relay thread, which publishes through its own copy (see `thread`).
   */
  publish(messages: OutboxMessage[], manager: EntityManager, schema: string): Promise<void>;
  /** Called after the relay marked a batch of `count` rows published. */
  published?(count: number): void;
  /**
   * True when `publish` hands the messages to a broker outside the database and never uses
   * `manager` (Kafka): its rows are deleted once sent. The embedded transport is not external:
   * its publish writes log offsets in the relay's transaction, and its rows are its log.
   */
  readonly external?: boolean;
  /**
   * How the relay thread builds the same publisher. On a PostgreSQL server, the relay of an
   * external publisher that has one runs on the relay thread (see relay-thread.ts).
   */
  readonly thread?: RelayThreadPublisher;
}

export interface OutboxRelayOptions {
  /** Rows per publish. */
  batchSize?: number;
  /**
   * How often an idle relay looks at the outbox. A commit through the relay's own DataSource that
   * appended to this schema's outbox wakes it at once; the poll finds appends made elsewhere.
   * Default: DEFAULT_RELAY_IDLE_MS on a PostgreSQL server, DEFAULT_IN_PROCESS_IDLE_MS on PGlite.
   */
  idleMs?: number;
  onError?: (error: unknown) => void;
  /**
   * Run the relay on the process's relay thread, on a PostgreSQL connection of its own (outside
   * the application's pool) where it holds the leader lock for as long as it runs and pipelines
   * reads, sends and deletes (LeaderRelay). Only for a PostgreSQL server and an external publisher
   * with a `thread`; default true there. Otherwise each batch is one transaction on the pool
   * (PGlite, the embedded transport).
   */
  thread?: boolean;
}

export const DEFAULT_RELAY_BATCH = 1000;
export const DEFAULT_RELAY_IDLE_MS = 10;
/**
 * Idle poll of the relay and of the embedded transport's subscribers on PGlite. Every append there
 * commits in this process and wakes them, so the poll is only a safety net. Polling every few
 * milliseconds kept the single PGlite session busy when nothing happened (a whole core for the six
 * embedded services) and queued every real query behind the polls.
 */
export const DEFAULT_IN_PROCESS_IDLE_MS = 5000;

/**
 * The idle poll of a loop that reads what commits to `dataSource`: DEFAULT_IN_PROCESS_IDLE_MS on
 * PGlite, `onServerMs` on a PostgreSQL server (where other processes write too).
 */
export function idlePollMs(dataSource: DataSource, onServerMs: number): number {
  return isInProcessDatabase(dataSource) ? DEFAULT_IN_PROCESS_IDLE_MS : onServerMs;
}

interface OutboxRow {
  position: string;
  event_id: string;
  topic: string;
  message_key: string;
  headers: Record<string, string>;
  body: string;
}

const toMessage = (r: OutboxRow): OutboxMessage => ({
  position: String(r.position),
  eventId: r.event_id,
  topic: r.topic,
  key: r.message_key,
  headers: r.headers,
  body: Buffer.from(r.body, 'utf8'),
});

/**
 * Publishes a service's outbox in order. One relay per schema is active at a time (an advisory
 * lock on the schema), which keeps per-stream order when several replicas of a service run.
 *
 * Rows are read in position order among those committed and not yet published. A stream's rows
 * commit in position order (an append conflicts with any uncommitted append to the same stream),
 * so a later read never finds a row of a stream older than one already published.
 */
export class OutboxRelay {
  private readonly s: string;
  private readonly lockKey: string;
  private running = false;
  private loop: Promise<void> | null = null;
  private readonly nap = new RelayNap();
  private unlisten: (() => void) | null = null;
  /** Set while the relay runs on the relay thread: where nudges go. */
  private threadNudge: (() => void) | null = null;

  constructor(
    private readonly dataSource: DataSource,
    readonly schema: string,
    private readonly publisher: OutboxPublisher,
    private readonly options: OutboxRelayOptions = {},
  ) {
    this.s = quoteIdent(schema);
    this.lockKey = `assent.outbox-relay.${schema}`;
  }

  private get batchSize(): number {
    return this.options.batchSize ?? DEFAULT_RELAY_BATCH;
  }

  private get idleMs(): number {
    return this.options.idleMs ?? idlePollMs(this.dataSource, DEFAULT_RELAY_IDLE_MS);
  }

  /**
   * How published rows are marked. Rows handed to an external broker are deleted: the broker's log
   * and the event store keep the events, and a DELETE costs the database a fifth of an UPDATE
   * (which writes a new row version and an entry in each of the table's indexes) and leaves the
   * outbox small. The embedded transport's rows are its log, so they stay, marked published.
   */
  private get markSql(): string {
    return this.publisher.external
      ? `DELETE FROM ${this.s}.outbox WHERE position = ANY($1::bigint[])`
      : `UPDATE ${this.s}.outbox SET published_at = now() WHERE position = ANY($1::bigint[])`;
  }

  /**
   * Publishes one batch in one transaction (leader lock, read, publish, mark); returns how many
   * rows it published (0 when idle or another relay leads).
   */
  async publishBatch(): Promise<number> {
    const count = await this.dataSource.transaction(async (manager) => {
      const [{ leader }] = (await manager.query(`SELECT pg_try_advisory_xact_lock(hashtext($1)) AS leader`, [
        this.lockKey,
      ])) as Array<{ leader: boolean }>;
      if (!leader) return 0;
      const rows = (await manager.query(
        `SELECT position, event_id, topic, message_key, headers, body FROM ${this.s}.outbox
         WHERE published_at IS NULL ORDER BY position LIMIT $1`,
        [this.batchSize],
      )) as OutboxRow[];
      if (rows.length === 0) return 0;
      const messages = rows.map(toMessage);
      await this.publisher.publish(messages, manager, this.schema);
      await manager.query(this.markSql, [bigintArray(messages.map((m) => m.position))]);
      return rows.length;
    });
    if (count > 0) this.publisher.published?.(count);
    return count;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unlisten = onOutboxCommit(this.dataSource, (schema) => {
      if (schema === this.schema) this.nudge();
    });
    const onThread = this.threadStart();
    this.loop = onThread ? this.runOnThread(onThread) : this.runInTransactions();
  }

  /** Lets the relay look at once instead of after its idle sleep (an in-process append hint). */
  nudge(): void {
    if (this.threadNudge) return this.threadNudge();
    this.nap.nudge();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unlisten?.();
    this.unlisten = null;
    this.nap.wake();
    await this.loop;
    this.loop = null;
  }

  private pause(ms: number): Promise<void> {
    return this.nap.sleep(ms, this.running);
  }

  private async runInTransactions(): Promise<void> {
    let failures = 0;
    while (this.running) {
      this.nap.spend();
      let published = 0;
      try {
        published = await this.publishBatch();
        failures = 0;
      } catch (error) {
        failures++;
        this.options.onError?.(error);
      }
      if (!this.running) break;
      if (published >= this.batchSize) continue;
      await this.pause(failures > 0 ? relayBackoff(failures) : this.idleMs);
    }
  }

  /**
   * How the relay thread runs this relay, or undefined where it cannot: PGlite has one session and
   * cannot spare one; the embedded transport writes in the relay's transaction; a publisher the
   * thread cannot rebuild (no `thread`) stays in the calling thread.
   */
  private threadStart(): Omit<StartRelay, 'id' | 'type' | 'nudgePending'> | undefined {
    if (this.options.thread === false || !this.publisher.external || !this.publisher.thread) return undefined;
    const o = this.dataSource.options as {
      type: string;
      replication?: unknown;
      url?: string;
      host?: string;
      port?: number;
      username?: string;
      password?: ClientConfig['password'];
      database?: string;
      ssl?: ClientConfig['ssl'];
      connectTimeoutMS?: number;
      applicationName?: string;
    };
    if (o.type !== 'postgres' || isInProcessDatabase(this.dataSource) || o.replication) return undefined;
    // A password callback cannot cross to the thread.
    if (typeof o.password === 'function') return undefined;
    return {
      leader: {
        connection: {
          connectionString: o.url,
          host: o.host,
          port: o.port,
          user: o.username,
          password: o.password,
          database: o.database,
          ssl: o.ssl,
          connectionTimeoutMillis: o.connectTimeoutMS,
          application_name: `${o.applicationName ?? 'assent'}-relay`.slice(0, 63),
        },
        schema: this.schema,
        quotedSchema: this.s,
        lockKey: this.lockKey,
        batchSize: this.batchSize,
        idleMs: this.idleMs,
      },
      publisher: this.publisher.thread,
      telemetry: activeTelemetry()?.enabled === true,
      reportPublished: this.publisher.published !== undefined,
    };
  }

  /** Runs the relay on the relay thread until stopped. */
  private async runOnThread(start: Omit<StartRelay, 'id' | 'type' | 'nudgePending'>): Promise<void> {
    const id = relayThread.start({
      start,
      published: (count) => this.publisher.published?.(count),
      error: (error) => this.options.onError?.(error),
    });
    this.threadNudge = () => relayThread.nudge(id);
    // Nudges go to the thread; here the nap only waits for stop() to wake it.
    while (this.running) await this.pause(DEFAULT_IN_PROCESS_IDLE_MS);
    this.threadNudge = null;
    await relayThread.stop(id);
  }
}
