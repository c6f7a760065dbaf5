/** A shopper's payment method as the payment service keeps it; a gift card's balance is cents. */
export interface PaymentMethodView {
  id: string;
  shopperId: string;
  source: 'gift_card' | 'paypal' | 'credit_card';
  brand: string | null;
  lastFour: string | null;
  /** Cents; null for anything but a gift card. */
  balance: number | null;
}

export type MethodChoiceBasis = 'explicit' | 'credit_card' | 'paypal' | 'gift_card';

export type MethodChoice =
  { ok: true; method: PaymentMethodView; basis: MethodChoiceBasis } | { ok: false; reason: string };

const byId = (a: PaymentMethodView, b: PaymentMethodView): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function covers(method: PaymentMethodView, amount: number): boolean {
  return method.source !== 'gift_card' || (method.balance ?? 0) >= amount;
}

function describe(method: PaymentMethodView): string {
  if (method.source === 'credit_card') return `${method.brand ?? 'credit'} card ending ${method.lastFour ?? '????'}`;
  if (method.source === 'paypal') return 'PayPal';
  return `gift card ${method.id}`;
}

function cents(amount: number): string {
  return `$${(amount / 100).toFixed(2)}`;
}

/**
 * Which of the shopper's methods pays `amount` (cents). An explicit choice that cannot pay is
 * refused with a reason rather than replaced: paying with something the shopper did not pick would
 * be a silent substitution. Without a choice: a credit card, else PayPal, else the gift card with
 * the smallest balance that still covers the amount (keeping larger cards for larger purchases).
 * Ties go to the lowest id so the same inputs always give the same method.
 */
export function choosePaymentMethod(
  methods: readonly PaymentMethodView[],
  amount: number,
  explicitMethodId?: string | null,
): MethodChoice {
  if (!Number.isInteger(amount) || amount <= 0) return { ok: false, reason: 'the amount to pay must be positive' };
  if (explicitMethodId) {
    const chosen = methods.find((m) => m.id === explicitMethodId);
    if (!chosen) return { ok: false, reason: `payment method ${explicitMethodId} is not one of the shopper's methods` };
    if (!covers(chosen, amount)) {
      return {
        ok: false,
        reason: `${describe(chosen)} has ${cents(chosen.balance ?? 0)}, not enough for ${cents(amount)}`,
      };
    }
    return { ok: true, method: chosen, basis: 'explicit' };
  }
  const sorted = [...methods].sort(byId);
  const card = sorted.find((m) => m.source === 'credit_card');
  if (card) return { ok: true, method: card, basis: 'credit_card' };
  const paypal = sorted.find((m) => m.source === 'paypal');
  if (paypal) return { ok: true, method: paypal, basis: 'paypal' };
  const giftCards = sorted.filter((m) => m.source === 'gift_card');
  const gift = giftCards
    .filter((m) => covers(m, amount))
    .sort((a, b) => (a.balance ?? 0) - (b.balance ?? 0) || byId(a, b))[0];
  if (gift) return { ok: true, method: gift, basis: 'gift_card' };
  if (giftCards.length > 0) {
    const best = Math.max(...giftCards.map((m) => m.balance ?? 0));
    return { ok: false, reason: `no gift card covers ${cents(amount)} (the largest balance is ${cents(best)})` };
  }
  return { ok: false, reason: 'the shopper has no payment method on file' };
}
