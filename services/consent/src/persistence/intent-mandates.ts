import { EntityManager } from 'typeorm';
import { IntentBounds } from '@assent/contracts';
import { quoteIdent } from '@assent/eventstore';

export interface StoredIntentMandate {
  intentMandateId: string;
  turnId: string;
  shopperId: string;
  bounds: IntentBounds;
  expiresAt: string;
}

/** Intent mandates by id, and the search (turn) behind each suggestion event. */
export class IntentMandates {
  private readonly s: string;

  constructor(schema: string) {
    this.s = quoteIdent(schema);
  }

  async save(manager: EntityManager, m: StoredIntentMandate & { conversationId: string }): Promise<void> {
    await manager.query(
      `INSERT INTO ${this.s}.intent_mandates (intent_mandate_id, turn_id, conversation_id, shopper_id, bounds, expires_at)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6) ON CONFLICT DO NOTHING`,
      [m.intentMandateId, m.turnId, m.conversationId, m.shopperId, JSON.stringify(m.bounds), m.expiresAt],
    );
  }

  async noteSuggestion(manager: EntityManager, suggestionEventId: string, turnId: string): Promise<void> {
    await manager.query(
      `INSERT INTO ${this.s}.suggestion_origins (suggestion_event_id, turn_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
      [suggestionEventId, turnId],
    );
  }

  /** The intent mandate behind each suggestion event (absent when not known yet). */
  async forSuggestions(
    manager: EntityManager,
    suggestionEventIds: string[],
  ): Promise<Map<string, StoredIntentMandate>> {
    const rows = (await manager.query(
      `SELECT o.suggestion_event_id, m.intent_mandate_id, m.turn_id, m.shopper_id, m.bounds, m.expires_at
       FROM ${this.s}.suggestion_origins o JOIN ${this.s}.intent_mandates m USING (turn_id)
       WHERE o.suggestion_event_id = ANY($1::text[])`,
      [suggestionEventIds],
    )) as Array<{
      suggestion_event_id: string;
      intent_mandate_id: string;
      turn_id: string;
      shopper_id: string;
      bounds: IntentBounds;
      expires_at: Date | string;
    }>;
    return new Map(
      rows.map((r) => [
        r.suggestion_event_id,
        {
          intentMandateId: r.intent_mandate_id,
          turnId: r.turn_id,
          shopperId: r.shopper_id,
          bounds: r.bounds,
          expiresAt: new Date(r.expires_at).toISOString(),
        },
      ]),
    );
  }
}
