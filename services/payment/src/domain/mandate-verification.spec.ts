import { CartMandateGranted, cartHash, CartSummary, PayloadOf, priceCart, PricingPolicy } from '@assent/contracts';
import type { CartMandateClaims } from '@assent/mandates';
import { checkMandate, LiveCartBehindError, LiveIntentMandate, LivePrice } from './mandate-verification';

const pricing = new PricingPolicy(599, 5000, 0);
const line = {
  itemId: 'i1',
  productId: 'p1',
  name: 'Coffee Maker',
  options: { type: 'french press' },
  quantity: 1,
  unitPrice: 23864,
};
const summary: CartSummary = priceCart([line], pricing);
const hash = cartHash('cart-1', 'ann', summary);
const now = new Date('2026-11-25T10:00:00Z');

const event: PayloadOf<typeof CartMandateGranted> = {
  conversationId: 'c1',
  turnId: 't3',
  confirmationId: 'conf-1',
  shopperId: 'ann',
  cartId: 'cart-1',
  mandateId: 'mandate-1',
  summary,
  cartHash: hash,
  lineChanges: 1,
  intentMandateIds: ['im-t1'],
  ceiling: 25000,
  amount: summary.total,
  currency: 'USD',
  merchant: 'assent-retail',
  expiresAt: '2026-11-25T10:10:00Z',
  jws: 'x'.repeat(40),
};
const claims: CartMandateClaims = {
  iss: 'assent-consent',
  aud: 'assent-payment',
  sub: 'ann',
  jti: 'mandate-1',
  iat: 0,
  exp: 0,
  cart: {
    id: 'cart-1',
    hash,
    lineChanges: 1,
    lines: [{ itemId: 'i1', quantity: 1, unitPrice: 23864 }],
    subtotal: summary.subtotal,
    shipping: summary.shipping,
    tax: summary.tax,
    total: summary.total,
    currency: 'USD',
  },
  merchant: 'assent-retail',
  confirmation: { id: 'conf-1', nonce: 'n'.repeat(32) },
  conversationId: 'c1',
  intentMandates: ['im-t1'],
  ceiling: 25000,
};
const price: LivePrice = {
  itemId: 'i1',
  name: 'Coffee Maker',
  options: { type: 'french press' },
  price: 23864,
  available: true,
};
const intent: LiveIntentMandate = {
  intentMandateId: 'im-t1',
  shopperId: 'ann',
  bounds: {
    productTypes: ['Coffee Maker'],
    excludedProductTypes: [],
    requiredOptions: { type: ['french press'] },
    excludedOptions: {},
    maxPrice: 25000,
  },
  expiresAt: '2026-11-26T10:00:00Z',
};

const check = (over: Partial<Parameters<typeof checkMandate>[0]> = {}) =>
  checkMandate({
    event,
    claims,
    liveCart: { cartId: 'cart-1', shopperId: 'ann', lineChanges: 1, lines: [{ itemId: 'i1', quantity: 1 }] },
    prices: new Map([['i1', price]]),
    intentMandates: [intent],
    pricing,
    now,
    ...over,
  });

describe('checking a verified mandate against what it binds and the live cart', () => {
  it('accepts the approved cart at the approved prices within the intent', () => {
    expect(check()).toBeNull();
  });

  it.each([
    ['another mandate id', { event: { ...event, mandateId: 'mandate-2' } }],
    ['another shopper', { event: { ...event, shopperId: 'mallory' } }],
    ['another amount', { event: { ...event, amount: 1 } }],
    ['other lines', { event: { ...event, summary: { ...summary, lines: [{ ...summary.lines[0], quantity: 2 }] } } }],
  ])('refuses an event that says something other than what was signed: %s', (_, over) => {
    expect(check(over)).toMatchObject({ code: 'invalid_mandate', reconfirm: false });
  });

  it('asks again when the price changed or the cart changed since approval', () => {
    expect(check({ prices: new Map([['i1', { ...price, price: 24864 }]]) })).toMatchObject({
      code: 'cart_changed',
      reconfirm: true,
      refused: expect.stringMatching(/price of Coffee Maker changed/),
    });
    expect(
      check({
        liveCart: { cartId: 'cart-1', shopperId: 'ann', lineChanges: 2, lines: [{ itemId: 'i1', quantity: 1 }] },
      }),
    ).toMatchObject({
      code: 'cart_changed',
      reconfirm: true,
    });
    expect(check({ prices: new Map([['i1', { ...price, available: false }]]) })).toMatchObject({
      code: 'cart_changed',
    });
  });

  it('waits (retries) when payment has not yet seen the changes the mandate was priced after', () => {
    expect(() => check({ liveCart: { cartId: 'cart-1', shopperId: 'ann', lineChanges: 0, lines: [] } })).toThrow(
      LiveCartBehindError,
    );
  });

  it('refuses a total above the intent ceiling, or lines outside the intent, from its own copy of the intent mandates', () => {
    expect(check({ intentMandates: [{ ...intent, bounds: { ...intent.bounds, maxPrice: 20000 } }] })).toMatchObject({
      code: 'over_ceiling',
    });
    expect(
      check({ intentMandates: [{ ...intent, bounds: { ...intent.bounds, requiredOptions: { type: ['drip'] } } }] }),
    ).toMatchObject({
      code: 'over_ceiling',
    });
    expect(check({ intentMandates: [{ ...intent, expiresAt: '2026-11-25T09:00:00Z' }] })).toMatchObject({
      code: 'over_ceiling',
    });
    expect(check({ intentMandates: [] })).toMatchObject({ code: 'over_ceiling' });
    expect(check({ claims: { ...claims, ceiling: 100 } })).toMatchObject({ code: 'over_ceiling' });
  });
});
