import {
  CartSummary,
  EventDraft,
  IntentBounds,
  IntentCaptured,
  lineOutsideIntent,
  PayloadOf,
  describeIntent,
} from '@assent/contracts';

export const intentMandateIdFor = (turnId: string) => `im-${turnId}`;

/** The intent mandate recorded for a captured search: its bounds, its expiry, and the same in plain words. */
export function decideIntentMandate(
  captured: PayloadOf<typeof IntentCaptured>,
  now: Date,
  ttlSeconds: number,
): EventDraft {
  const { productTypes, excludedProductTypes, requiredOptions, excludedOptions, maxPrice } = captured.intent;
  const bounds: IntentBounds = { productTypes, excludedProductTypes, requiredOptions, excludedOptions, maxPrice };
  return {
    type: 'consent.IntentMandateCreated',
    payload: {
      conversationId: captured.conversationId,
      turnId: captured.turnId,
      intentMandateId: intentMandateIdFor(captured.turnId),
      shopperId: captured.shopperId,
      bounds,
      statement: describeIntent(bounds),
      expiresAt: new Date(now.getTime() + ttlSeconds * 1000).toISOString(),
    },
  };
}

export interface IntentMandateRef {
  intentMandateId: string;
  shopperId: string;
  bounds: IntentBounds;
  expiresAt: string;
}

export type IntentCheck = { ok: true; intentMandateIds: string[]; ceiling: number } | { ok: false; reason: string };

/**
 * Every line must come from a search of this shopper whose intent mandate is still valid and allows
 * it (product, attributes, price). The ceiling is what those mandates allow for the lines (their
 * price caps, or the line price when no cap was stated), plus the shipping and tax shown.
 */
export function checkWithinIntent(
  summary: CartSummary,
  shopperId: string,
  mandateOf: (itemId: string) => IntentMandateRef | undefined,
  now: Date,
): IntentCheck {
  const ids = new Set<string>();
  let ceiling = summary.shipping + summary.tax;
  for (const line of summary.lines) {
    const mandate = mandateOf(line.itemId);
    if (!mandate || mandate.shopperId !== shopperId) {
      return { ok: false, reason: `${line.name} was not picked from one of your own searches` };
    }
    if (Date.parse(mandate.expiresAt) <= now.getTime()) {
      return { ok: false, reason: `your request for ${line.name} is too old; ask again` };
    }
    const outside = lineOutsideIntent(line, mandate.bounds);
    if (outside) return { ok: false, reason: outside };
    ids.add(mandate.intentMandateId);
    ceiling += (mandate.bounds.maxPrice ?? line.unitPrice) * line.quantity;
  }
  return { ok: true, intentMandateIds: [...ids], ceiling };
}
