import { EntityManager } from 'typeorm';
import { quoteIdent } from './migrations';

/**
 * Handled event ids per consumer, written in the same transaction as the consumer's own writes:
 * a redelivered event finds its id already there and has no second effect.
 */
export class Inbox {
  private readonly s: string;

  constructor(readonly schema: string) {
    this.s = quoteIdent(schema);
  }

  /** True the first time this consumer sees the event; false for a duplicate delivery. */
  async claim(manager: EntityManager, consumer: string, eventId: string, topic: string): Promise<boolean> {
    const rows = (await manager.query(
      `INSERT INTO ${this.s}.inbox (consumer, event_id, topic) VALUES ($1, $2, $3)
       ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id`,
      [consumer, eventId, topic],
    )) as unknown[];
    return rows.length === 1;
  }

  /** Claims many at once; returns the ids this consumer had not seen before. */
  async claimMany(manager: EntityManager, consumer: string, eventIds: string[], topic: string): Promise<Set<string>> {
    if (eventIds.length === 0) return new Set();
    const rows = (await manager.query(
      `INSERT INTO ${this.s}.inbox (consumer, event_id, topic) SELECT $1, id, $3 FROM unnest($2::uuid[]) AS id
       ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id`,
      [consumer, eventIds, topic],
    )) as Array<{ event_id: string }>;
    return new Set(rows.map((r) => r.event_id));
  }

  /** Gives claims back inside the same transaction, for messages that were not handled after all. */
  async release(manager: EntityManager, consumer: string, eventIds: string[]): Promise<void> {
    if (eventIds.length === 0) return;
    await manager.query(`DELETE FROM ${this.s}.inbox WHERE consumer = $1 AND event_id = ANY($2::uuid[])`, [
      consumer,
      eventIds,
    ]);
  }
}
