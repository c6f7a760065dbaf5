import { choosePaymentMethod, PaymentMethodView } from './payment-method-choice';

const method = (id: string, source: PaymentMethodView['source'], balance: number | null = null): PaymentMethodView => ({
  id,
  shopperId: 'ava_1',
  source,
  brand: source === 'credit_card' ? 'visa' : null,
  lastFour: source === 'credit_card' ? '4242' : null,
  balance: source === 'gift_card' ? balance : null,
});

const gift50 = method('gift_card_2', 'gift_card', 5_000);
const gift200 = method('gift_card_1', 'gift_card', 20_000);
const paypal = method('paypal_1', 'paypal');
const visa = method('credit_card_9', 'credit_card');
const amex = method('credit_card_3', 'credit_card');

describe('choosePaymentMethod', () => {
  it('honours an explicit, valid choice over every default', () => {
    expect(choosePaymentMethod([visa, paypal, gift200], 10_000, 'gift_card_1')).toEqual({
      ok: true,
      method: gift200,
      basis: 'explicit',
    });
    expect(choosePaymentMethod([visa, paypal], 10_000, 'paypal_1')).toMatchObject({ ok: true, method: paypal });
  });

  it('refuses an explicit choice that cannot pay instead of silently paying with something else', () => {
    const short = choosePaymentMethod([visa, gift50], 10_000, 'gift_card_2');
    expect(short).toEqual({ ok: false, reason: 'gift card gift_card_2 has $50.00, not enough for $100.00' });
    const foreign = choosePaymentMethod([visa], 10_000, 'credit_card_someone_else');
    expect(foreign).toMatchObject({ ok: false, reason: expect.stringContaining('not one of the shopper') });
  });

  it('defaults to a credit card (lowest id), then PayPal', () => {
    expect(choosePaymentMethod([gift200, paypal, visa, amex], 1_000)).toEqual({
      ok: true,
      method: amex,
      basis: 'credit_card',
    });
    expect(choosePaymentMethod([gift200, paypal], 1_000)).toEqual({ ok: true, method: paypal, basis: 'paypal' });
  });

  it('falls back to the gift card with the smallest balance that covers the amount', () => {
    expect(choosePaymentMethod([gift200, gift50], 4_000)).toEqual({ ok: true, method: gift50, basis: 'gift_card' });
    expect(choosePaymentMethod([gift200, gift50], 6_000)).toEqual({ ok: true, method: gift200, basis: 'gift_card' });
    expect(choosePaymentMethod([gift200, gift50], 20_000)).toMatchObject({ ok: true, method: gift200 });
  });

  it('gives a reason when nothing can pay', () => {
    expect(choosePaymentMethod([gift200, gift50], 20_001)).toEqual({
      ok: false,
      reason: 'no gift card covers $200.01 (the largest balance is $200.00)',
    });
    expect(choosePaymentMethod([], 100)).toEqual({ ok: false, reason: 'the shopper has no payment method on file' });
    expect(choosePaymentMethod([visa], 0)).toMatchObject({ ok: false });
    expect(choosePaymentMethod([visa], 10.5)).toMatchObject({ ok: false });
  });
});
