import { toDollars, TurnAnswer } from '@assent/contracts';
import { TurnView } from '../persistence/conversation-views';

/**
 * A turn in the shopper-facing format of the conversation API and the batch output
 * (snake_case, dollars with cents; integer cents stay inside the platform).
 */
export function shopperTurn(turn: TurnView) {
  const a: TurnAnswer | null = turn.answer;
  const item = (s: TurnAnswer['suggestions'][number]) => ({
    item_id: s.itemId,
    product_id: s.productId,
    name: s.name,
    price: toDollars(s.price),
    options: s.options,
    available: s.available,
    why: s.satisfied,
    score: s.score,
  });
  return {
    turn_id: turn.turnId,
    position: turn.position,
    kind: a?.kind ?? 'pending',
    reply: a?.reply ?? 'Still working on it; fetch this turn again in a moment.',
    suggestions: a?.suggestions.map(item) ?? [],
    alternatives: a?.alternatives.map((s) => ({ ...item(s), broken: s.broken })) ?? [],
    summary: a?.summary
      ? {
          lines: a.summary.lines.map((l) => ({
            item_id: l.itemId,
            product_id: l.productId,
            name: l.name,
            options: l.options,
            quantity: l.quantity,
            unit_price: toDollars(l.unitPrice),
            line_total: toDollars(l.lineTotal),
          })),
          subtotal: toDollars(a.summary.subtotal),
          shipping: toDollars(a.summary.shipping),
          tax: toDollars(a.summary.tax),
          total: toDollars(a.summary.total),
          currency: a.summary.currency,
        }
      : null,
    order_id: a?.orderId ?? null,
    confirmation: a?.confirmation
      ? { id: a.confirmation.id, nonce: a.confirmation.nonce, expires_at: a.confirmation.expiresAt }
      : null,
  };
}
