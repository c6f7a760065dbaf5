import { createHash } from 'node:crypto';
import { CartSummary } from './common';

/**
 * SHA-256 over the canonical form of a priced cart: what the shopper approves, what the mandate
 * binds and what payment checks against the live cart. Key order and number formatting are fixed
 * here, so two services compute the same hash for the same cart.
 */
export function cartHash(cartId: string, shopperId: string, summary: CartSummary): string {
  const canonical = JSON.stringify([
    cartId,
    shopperId,
    summary.currency,
    summary.lines.map((l) => [l.itemId, l.quantity, l.unitPrice]),
    summary.subtotal,
    summary.shipping,
    summary.tax,
    summary.total,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}
