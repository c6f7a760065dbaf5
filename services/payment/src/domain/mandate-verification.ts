import {
  CartMandateGranted,
  cartHash,
  IntentBounds,
  lineOutsideIntent,
  PayloadOf,
  priceCart,
  PricingPolicy,
} from '@assent/contracts';
import type { CartMandateClaims } from '@assent/mandates';
import type { Refusal } from './payment.aggregate';

export interface LiveCart {
  cartId: string;
  shopperId: string;
  lineChanges: number;
  lines: Array<{ itemId: string; quantity: number }>;
}

export interface LivePrice {
  itemId: string;
  name: string;
  options: Record<string, string>;
  price: number;
  available: boolean;
}

export interface LiveIntentMandate {
  intentMandateId: string;
  shopperId: string;
  bounds: IntentBounds;
  expiresAt: string;
}

/** Payment's projection of the cart has not yet seen the changes the mandate was priced after. */
export class LiveCartBehindError extends Error {
  constructor(cartId: string, seen: number, needed: number) {
    super(`payment has seen ${seen} of ${needed} changes of cart ${cartId}; retry`);
    this.name = 'LiveCartBehindError';
  }
}

/**
 * The event must say exactly what consent signed: nothing unsigned is trusted. Checked before the
 * mandate is spent, so a doctored copy of a used mandate is reported as what it is.
 */
export function signedFieldsProblem(
  event: PayloadOf<typeof CartMandateGranted>,
  claims: CartMandateClaims,
): Refusal | null {
  const invalid = (refused: string): Refusal => ({ refused, code: 'invalid_mandate', reconfirm: false });
  if (claims.jti !== event.mandateId) return invalid('the mandate id is not the signed one');
  if (claims.sub !== event.shopperId) return invalid('the mandate was signed for another shopper');
  if (claims.cart.id !== event.cartId || claims.cart.hash !== event.cartHash)
    return invalid('the cart is not the signed one');
  if (claims.cart.total !== event.amount || claims.cart.total !== event.summary.total) {
    return invalid('the amount is not the signed total');
  }
  const signedLines = JSON.stringify(claims.cart.lines);
  const eventLines = JSON.stringify(
    event.summary.lines.map((l) => ({ itemId: l.itemId, quantity: l.quantity, unitPrice: l.unitPrice })),
  );
  if (signedLines !== eventLines) return invalid('the lines are not the signed ones');

  return null;
}

/**
 * Checks a signed mandate (already verified: signature, key id, expiry) against what it claims to
 * bind and against the world as payment sees it now. Returns a refusal or null (charge it).
 * - the event's fields must be exactly the signed ones (nothing unsigned is trusted);
 * - the live cart must be the one approved: same lines and prices now (a changed price or a swapped
 *   item asks the shopper again);
 * - the total must stay within the intent mandates' ceiling, recomputed from payment's own copy.
 */
export function checkMandate(input: {
  event: PayloadOf<typeof CartMandateGranted>;
  claims: CartMandateClaims;
  liveCart: LiveCart | null;
  prices: Map<string, LivePrice>;
  intentMandates: LiveIntentMandate[];
  pricing: PricingPolicy;
  now: Date;
}): Refusal | null {
  const { event, claims, liveCart, prices, intentMandates, pricing, now } = input;
  const mismatch = signedFieldsProblem(event, claims);
  if (mismatch) return mismatch;
  const invalid = (refused: string): Refusal => ({ refused, code: 'invalid_mandate', reconfirm: false });
  if (!liveCart || liveCart.shopperId !== claims.sub) return invalid('there is no such cart for this shopper');
  if (liveCart.lineChanges < claims.cart.lineChanges) {
    throw new LiveCartBehindError(liveCart.cartId, liveCart.lineChanges, claims.cart.lineChanges);
  }
  const changed = (refused: string): Refusal => ({ refused, code: 'cart_changed', reconfirm: true });
  if (liveCart.lineChanges > claims.cart.lineChanges) return changed('the cart changed after you approved it');
  // In the approved order: the cart hash depends on it, and the live cart is a set of quantities.
  const liveQuantities = new Map(liveCart.lines.map((l) => [l.itemId, l.quantity]));
  if (liveQuantities.size !== event.summary.lines.length) return changed('the cart changed after you approved it');
  const lines = [];
  for (const approved of event.summary.lines) {
    if (liveQuantities.get(approved.itemId) !== approved.quantity)
      return changed('the cart changed after you approved it');
    const price = prices.get(approved.itemId);
    if (!price || !price.available) return changed(`${approved.name} is no longer available`);
    lines.push({ ...approved, unitPrice: price.price });
  }
  const live = priceCart(lines, pricing);
  if (cartHash(liveCart.cartId, liveCart.shopperId, live) !== claims.cart.hash) {
    const repriced = lines.find(
      (l) => l.unitPrice !== event.summary.lines.find((a) => a.itemId === l.itemId)?.unitPrice,
    );
    return changed(
      repriced
        ? `the price of ${repriced.name} changed after you approved it`
        : 'the cart total changed after you approved it',
    );
  }

  // The ceiling from payment's own copy of the intent mandates, not the one consent wrote down.
  let ceiling = claims.cart.shipping + claims.cart.tax;
  for (const line of event.summary.lines) {
    const mandate = intentMandates.find(
      (m) =>
        claims.intentMandates.includes(m.intentMandateId) &&
        m.shopperId === claims.sub &&
        Date.parse(m.expiresAt) > now.getTime() &&
        lineOutsideIntent(line, m.bounds) === null,
    );
    if (!mandate)
      return { refused: `${line.name} is outside what you asked for`, code: 'over_ceiling', reconfirm: false };
    ceiling += (mandate.bounds.maxPrice ?? line.unitPrice) * line.quantity;
  }
  if (claims.cart.total > ceiling || claims.cart.total > claims.ceiling) {
    return { refused: 'the total is above what you asked to spend', code: 'over_ceiling', reconfirm: false };
  }
  return null;
}
