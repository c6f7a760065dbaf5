import { Client, ClientConfig } from 'pg';
import type { OutboxMessage } from './outbox-relay';

/** A bigint[] literal of positions (digit strings from the outbox), without pg's per-element quoting. */
export const bigintArray = (positions: string[]): string => `{${positions.join(',')}}`;

/** Back off on repeated failures (a broker or database outage) from 20 ms up to 5 s. */
export const relayBackoff = (failures: number): number => Math.min(5000, 10 * 2 ** Math.min(failures, 9));

/**
 * A relay's sleep between looks: `nudge` (a commit) ends it early, and a nudge that comes while
 * the relay is busy makes the next sleep a no-op; `wake` (a stop) ends it without a nudge.
 */
export class RelayNap {
  private nudged = false;
  private wakeUp: (() => void) | null = null;

  nudge(): void {
    this.nudged = true;
    this.wakeUp?.();
  }

  wake(): void {
    this.wakeUp?.();
  }

  /** A look at the outbox starts: it sees every commit so far, so earlier nudges are spent. */
  spend(): void {
    this.nudged = false;
  }

  /** Sleeps `ms`, or less if nudged or woken; not at all if nudged meanwhile or `awake` is false. */
  async sleep(ms: number, awake: boolean): Promise<void> {
    if (this.nudged || !awake) {
      this.nudged = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wakeUp = null;
    this.nudged = false;
  }
}

/** What the leader loop needs; plain data, so it crosses to the relay thread as it is. */
export interface LeaderRelaySpec {
  connection: ClientConfig;
  /** The schema, unquoted and quoted for SQL. */
  schema: string;
  quotedSchema: string;
  lockKey: string;
  batchSize: number;
  idleMs: number;
}

/** Publishes a batch of outbox rows to a broker outside the database (never in a transaction). */
export type SendBatch = (messages: OutboxMessage[]) => Promise<void>;

export interface LeaderRelayEvents {
  /** A batch was sent and its rows deleted from the outbox. */
  published?(count: number): void;
  error(error: unknown): void;
  /** A read of the outbox starts: it will see every commit so far, so earlier nudges are spent. */
  looking?(): void;
}

/**
 * The relay of an outbox whose rows go to an external broker, on a PostgreSQL connection of its
 * own: it holds the leader lock for as long as it runs (one relay per schema publishes, whatever
 * the replicas) and pipelines reads, sends and deletes. It runs on the relay thread (see
 * relay-thread.ts); it needs pg and nothing of TypeORM.
 */
export class LeaderRelay {
  private running = false;
  private loop: Promise<void> | null = null;
  private readonly nap = new RelayNap();

  constructor(
    private readonly spec: LeaderRelaySpec,
    private readonly send: SendBatch,
    private readonly events: LeaderRelayEvents,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  nudge(): void {
    this.nap.nudge();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.nap.wake();
    await this.loop;
    this.loop = null;
  }

  private pause(ms: number): Promise<void> {
    return this.nap.sleep(ms, this.running);
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      const client = new Client(this.spec.connection);
      // A broken connection also fails the pending query, which is where it is handled.
      client.on('error', () => undefined);
      try {
        await client.connect();
        await this.leadAndPublish(client, () => (failures = 0));
      } catch (error) {
        failures++;
        this.events.error(error);
      } finally {
        // Closing the session also gives up the leader lock.
        await client.end().catch(() => undefined);
      }
      if (this.running && failures > 0) await this.pause(relayBackoff(failures));
    }
  }

  /**
   * Becomes the leader (a session advisory lock, held until the connection closes), then publishes
   * until stopped. While batch k is being sent, the read of batch k+1 (which skips batch k's rows)
   * runs; when the send returns, batch k's delete is queued on the connection before the read of
   * batch k+2, so every read sees every earlier delete. Sends never overlap, so order holds.
   */
  private async leadAndPublish(client: Client, healthy: () => void): Promise<void> {
    const { quotedSchema: s, batchSize, idleMs, lockKey } = this.spec;
    // This session runs only the two statements below. Its read must walk the unpublished index in
    // position order and stop after a batch, and its delete must find rows by primary key, whatever
    // the statistics say: a freshly filled outbox otherwise gets a bitmap scan of every unpublished
    // row (and a sort), or a sequential scan, costing more with every row waiting.
    await client.query('SET enable_bitmapscan = off; SET enable_seqscan = off');
    while (this.running) {
      const { rows } = await client.query<{ leader: boolean }>(`SELECT pg_try_advisory_lock(hashtext($1)) AS leader`, [
        lockKey,
      ]);
      if (rows[0].leader) break;
      // A follower is healthy while it can ask.
      healthy();
      // Another relay leads; take over when it goes.
      await this.pause(Math.max(idleMs, 250));
    }
    const read = (exclude: string[]) => {
      // The read sees every commit before this point; a nudge from now on means a newer one.
      this.nap.spend();
      this.events.looking?.();
      // Rows come back shaped as messages (pg gives bigint positions as strings), no copy per row;
      // only the body turns from text into bytes.
      return client
        .query<Omit<OutboxMessage, 'body'> & { body: string | Buffer }>(
          `SELECT position, event_id AS "eventId", topic, message_key AS key, headers, body FROM ${s}.outbox
           WHERE published_at IS NULL AND position <> ALL($2::bigint[]) ORDER BY position LIMIT $1`,
          [batchSize, bigintArray(exclude)],
        )
        .then(({ rows }) => {
          // Healthy only once the outbox answers: a read that keeps failing (a missing table, a
          // revoked grant) backs off instead of reconnecting every few milliseconds.
          healthy();
          for (const row of rows) row.body = Buffer.from(row.body as string, 'utf8');
          return rows as OutboxMessage[];
        });
    };
    // Rows handed to an external broker are deleted: the broker's log and the event store keep the
    // events, and a DELETE costs the database a fifth of an UPDATE and leaves the outbox small.
    const mark = (positions: string[]) =>
      client.query(`DELETE FROM ${s}.outbox WHERE position = ANY($1::bigint[])`, [bigintArray(positions)]);

    let marking: Promise<unknown> = Promise.resolve();
    let next: Promise<OutboxMessage[]> | null = null;
    try {
      while (this.running) {
        const messages = await (next ?? read([]));
        next = null;
        if (messages.length === 0) {
          await marking;
          await this.pause(idleMs);
          continue;
        }
        const positions = messages.map((m) => m.position);
        const sending = this.send(messages);
        next = read(positions);
        // Keep a failed read from being an unhandled rejection while the send runs.
        next.catch(() => undefined);
        await sending;
        await marking;
        marking = mark(positions).then(() => this.events.published?.(positions.length));
        marking.catch(() => undefined);
      }
      await marking;
    } finally {
      // Settle what is still queued on the connection before it closes.
      await Promise.allSettled([marking, next ?? Promise.resolve()]);
    }
  }
}
