import { EntityManager } from 'typeorm';
import { TurnAnswer } from '@assent/contracts';
import { quoteIdent } from '@assent/eventstore';

export interface TurnView {
  turnId: string;
  conversationId: string;
  position: number;
  answer: TurnAnswer | null;
  createdAt: string;
  answeredAt: string | null;
}

interface TurnRow {
  turn_id: string;
  conversation_id: string;
  position: number;
  answer: TurnAnswer | null;
  created_at: Date | string;
  answered_at: Date | string | null;
}

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());
const toView = (r: TurnRow): TurnView => ({
  turnId: r.turn_id,
  conversationId: r.conversation_id,
  position: r.position,
  answer: r.answer,
  createdAt: iso(r.created_at)!,
  answeredAt: iso(r.answered_at),
});

/** Conversations and turns as the shopper reads them; always scoped by the shopper. */
export class ConversationViews {
  private readonly s: string;

  constructor(schema: string) {
    this.s = quoteIdent(schema);
  }

  async startConversation(manager: EntityManager, conversationId: string, shopperId: string): Promise<void> {
    await manager.query(`INSERT INTO ${this.s}.conversations (conversation_id, shopper_id) VALUES ($1, $2)`, [
      conversationId,
      shopperId,
    ]);
  }

  async ownerOf(manager: EntityManager, conversationId: string): Promise<string | null> {
    const rows = (await manager.query(`SELECT shopper_id FROM ${this.s}.conversations WHERE conversation_id = $1`, [
      conversationId,
    ])) as Array<{ shopper_id: string }>;
    return rows[0]?.shopper_id ?? null;
  }

  async listConversations(manager: EntityManager, shopperId: string, limit = 50) {
    const rows = (await manager.query(
      `SELECT c.conversation_id, c.created_at, count(t.turn_id)::int AS turns
       FROM ${this.s}.conversations c LEFT JOIN ${this.s}.turns t USING (conversation_id)
       WHERE c.shopper_id = $1 GROUP BY c.conversation_id, c.created_at ORDER BY c.created_at DESC LIMIT $2`,
      [shopperId, limit],
    )) as Array<{ conversation_id: string; created_at: Date | string; turns: number }>;
    return rows.map((r) => ({ conversationId: r.conversation_id, createdAt: iso(r.created_at)!, turns: r.turns }));
  }

  async openTurn(manager: EntityManager, turnId: string, conversationId: string, position: number): Promise<void> {
    await manager.query(`INSERT INTO ${this.s}.turns (turn_id, conversation_id, position) VALUES ($1, $2, $3)`, [
      turnId,
      conversationId,
      position,
    ]);
  }

  async answerTurn(manager: EntityManager, turnId: string, answer: TurnAnswer): Promise<void> {
    await manager.query(
      `UPDATE ${this.s}.turns SET answer = $2::jsonb, answered_at = now() WHERE turn_id = $1 AND answer IS NULL`,
      [turnId, JSON.stringify(answer)],
    );
  }

  /** Turns still unanswered `olderThanMs` after they were said, oldest first. */
  async overdueTurns(
    manager: EntityManager,
    olderThanMs: number,
    limit: number,
  ): Promise<Array<{ conversationId: string; turnId: string }>> {
    const rows = (await manager.query(
      `SELECT conversation_id, turn_id FROM ${this.s}.turns
       WHERE answer IS NULL AND created_at < now() - make_interval(secs => $1::double precision / 1000)
       ORDER BY created_at LIMIT $2`,
      [olderThanMs, limit],
    )) as Array<{ conversation_id: string; turn_id: string }>;
    return rows.map((r) => ({ conversationId: r.conversation_id, turnId: r.turn_id }));
  }

  async turn(manager: EntityManager, conversationId: string, turnId: string): Promise<TurnView | null> {
    const rows = (await manager.query(`SELECT * FROM ${this.s}.turns WHERE conversation_id = $1 AND turn_id = $2`, [
      conversationId,
      turnId,
    ])) as TurnRow[];
    return rows[0] ? toView(rows[0]) : null;
  }

  async turns(manager: EntityManager, conversationId: string): Promise<TurnView[]> {
    const rows = (await manager.query(`SELECT * FROM ${this.s}.turns WHERE conversation_id = $1 ORDER BY position`, [
      conversationId,
    ])) as TurnRow[];
    return rows.map(toView);
  }
}
