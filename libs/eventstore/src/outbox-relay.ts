import { Client, ClientConfig } from 'pg';
import { DataSource, EntityManager } from 'typeorm';
import { isInProcessDatabase } from './database';
import { quoteIdent } from './migrations';
import { onOutboxCommit } from './outbox-signal';

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
   * Runs inside the relay's transaction, which marks the rows, unless the publisher is `external`
   * and the relay has a connection of its own (then `manager` is the DataSource's own manager).
   * `messages` are read for this one call (a retry reads them again), so the publisher may add to
   * their headers.
   */
  publish(messages: OutboxMessage[], manager: EntityManager, schema: string): Promise<void>;
  /** Called after the relay marked a batch published. */
  published?(): void;
  /**
   * True when `publish` hands the messages to a broker outside the database and never uses
   * `manager` (Kafka). The relay may then publish outside a transaction and read the next batch
   * and mark the previous one while a send is in flight. The embedded transport is not external:
   * its publish writes log offsets in the relay's transaction.
   */
  readonly external?: boolean;
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
   * Give the relay a PostgreSQL connection of its own (outside the application's pool), on which
   * it holds the leader lock for as long as it runs and pipelines reads, sends and marks. Only for
   * a PostgreSQL server and an `external` publisher; default true there. Otherwise each batch is
   * one transaction on the pool (PGlite, the embedded transport).
   */
  ownConnection?: boolean;
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

/** A bigint[] literal of positions (digit strings from the outbox), without pg's per-element quoting. */
const bigintArray = (positions: string[]): string => `{${positions.join(',')}}`;

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
  private wake: (() => void) | null = null;
  /** A nudge arrived while the relay was busy: look again before sleeping. */
  private nudged = false;
  private unlisten: (() => void) | null = null;

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
    if (count > 0) this.publisher.published?.();
    return count;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unlisten = onOutboxCommit(this.dataSource, (schema) => {
      if (schema === this.schema) this.nudge();
    });
    const config = this.ownConnectionConfig();
    this.loop = config ? this.runOnOwnConnection(config) : this.runInTransactions();
  }

  /** Lets the relay look at once instead of after its idle sleep (an in-process append hint). */
  nudge(): void {
    this.nudged = true;
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unlisten?.();
    this.unlisten = null;
    this.wake?.();
    await this.loop;
    this.loop = null;
  }

  /** Sleeps `ms`, or less if nudged or stopped; not at all if a nudge came in meanwhile. */
  private async pause(ms: number): Promise<void> {
    if (this.nudged || !this.running) {
      this.nudged = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = null;
    this.nudged = false;
  }

  private backoff(failures: number): number {
    // Back off on repeated failures (a broker or database outage) from 20 ms up to 5 s.
    return Math.min(5000, 10 * 2 ** Math.min(failures, 9));
  }

  private async runInTransactions(): Promise<void> {
    let failures = 0;
    while (this.running) {
      this.nudged = false;
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
      await this.pause(failures > 0 ? this.backoff(failures) : this.idleMs);
    }
  }

  /** Connection settings for a relay connection of its own, or undefined where there is none. */
  private ownConnectionConfig(): ClientConfig | undefined {
    if (this.options.ownConnection === false || !this.publisher.external) return undefined;
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
    // PGlite has one session; it cannot spare one for the relay.
    if (o.type !== 'postgres' || isInProcessDatabase(this.dataSource) || o.replication) return undefined;
    return {
      connectionString: o.url,
      host: o.host,
      port: o.port,
      user: o.username,
      password: o.password,
      database: o.database,
      ssl: o.ssl,
      connectionTimeoutMillis: o.connectTimeoutMS,
      application_name: `${o.applicationName ?? 'assent'}-relay`.slice(0, 63),
    };
  }

  private async runOnOwnConnection(config: ClientConfig): Promise<void> {
    let failures = 0;
    while (this.running) {
      const client = new Client(config);
      // A broken connection also fails the pending query, which is where it is handled.
      client.on('error', () => undefined);
      try {
        await client.connect();
        await this.leadAndPublish(client, () => (failures = 0));
      } catch (error) {
        failures++;
        this.options.onError?.(error);
      } finally {
        // Closing the session also gives up the leader lock.
        await client.end().catch(() => undefined);
      }
      if (this.running && failures > 0) await this.pause(this.backoff(failures));
    }
  }

  /**
   * Becomes the leader (a session advisory lock, held until the connection closes), then publishes
   * until stopped. While batch k is being sent, the read of batch k+1 (which skips batch k's rows)
   * runs; when the send returns, batch k's mark is queued on the connection before the read of
   * batch k+2, so every read sees every earlier mark. Sends never overlap, so order holds.
   */
  private async leadAndPublish(client: Client, healthy: () => void): Promise<void> {
    // This session runs only the two statements below. Its read must walk the unpublished index in
    // position order and stop after a batch, and its mark must find rows by primary key, whatever
    // the statistics say: a freshly filled outbox otherwise gets a bitmap scan of every unpublished
    // row (and a sort), or a sequential scan, costing more with every row waiting.
    await client.query('SET enable_bitmapscan = off; SET enable_seqscan = off');
    while (this.running) {
      const { rows } = await client.query<{ leader: boolean }>(`SELECT pg_try_advisory_lock(hashtext($1)) AS leader`, [
        this.lockKey,
      ]);
      healthy();
      if (rows[0].leader) break;
      // Another relay leads; take over when it goes.
      await this.pause(Math.max(this.idleMs, 250));
    }
    const read = (exclude: string[]) => {
      // The read sees every commit before this point; a nudge from now on means a newer one.
      this.nudged = false;
      // Rows come back shaped as messages (pg gives bigint positions as strings), no copy per row;
      // only the body turns from text into bytes.
      return client
        .query<Omit<OutboxMessage, 'body'> & { body: string | Buffer }>(
          `SELECT position, event_id AS "eventId", topic, message_key AS key, headers, body FROM ${this.s}.outbox
           WHERE published_at IS NULL AND position <> ALL($2::bigint[]) ORDER BY position LIMIT $1`,
          [this.batchSize, bigintArray(exclude)],
        )
        .then(({ rows }) => {
          for (const row of rows) row.body = Buffer.from(row.body as string, 'utf8');
          return rows as OutboxMessage[];
        });
    };
    const mark = (positions: string[]) => client.query(this.markSql, [bigintArray(positions)]);

    let marking: Promise<unknown> = Promise.resolve();
    let next: Promise<OutboxMessage[]> | null = null;
    try {
      while (this.running) {
        const messages = await (next ?? read([]));
        next = null;
        if (messages.length === 0) {
          await marking;
          await this.pause(this.idleMs);
          continue;
        }
        const positions = messages.map((m) => m.position);
        const sending = this.publisher.publish(messages, this.dataSource.manager, this.schema);
        next = read(positions);
        // Keep a failed read from being an unhandled rejection while the send runs.
        next.catch(() => undefined);
        await sending;
        await marking;
        marking = mark(positions).then(() => this.publisher.published?.());
        marking.catch(() => undefined);
      }
      await marking;
    } finally {
      // Settle what is still queued on the connection before it closes.
      await Promise.allSettled([marking, next ?? Promise.resolve()]);
    }
  }
}
