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
}
