import { EventDraft, EventEnvelope, shoppingRegistry } from '@assent/contracts';
import { foldEvents } from '@assent/eventstore';
import { CartMandate, mandateProblem, PaymentCommand, paymentAggregate, PaymentState } from './payment.aggregate';

const now = new Date('2025-06-01T12:00:00Z');

const mandate = (overrides: Partial<CartMandate> = {}): CartMandate => ({
  conversationId: 'conv-1',
  turnId: 'turn-7',
  confirmationId: 'conf-1',
  shopperId: 'ava_1',
  cartId: 'cart-1',
  mandateId: 'mandate-1',
  summary: {
    lines: [
      {
        itemId: '1111111111',
        productId: 'p1',
        name: 'Coffee Maker',
        options: { type: 'drip' },
        quantity: 2,
        unitPrice: 4_999,
        lineTotal: 9_998,
      },
    ],
    subtotal: 9_998,
    shipping: 500,
    tax: 800,
    total: 11_298,
    currency: 'USD',
  },
  cartHash: 'hash',
  lineChanges: 1,
  intentMandateIds: ['im-turn-3'],
  ceiling: 11_298,
  amount: 11_298,
  currency: 'USD',
  merchant: 'assent',
  expiresAt: '2025-06-01T12:15:00Z',
  jws: 'signed.mandate.placeholder-of-enough-length',
  ...overrides,
});

const approved = { reference: 'sbx_auth', outcome: 'approved' as const };
const authorize = (extra: Partial<Extract<PaymentCommand, { type: 'Authorize' }>> = {}): PaymentCommand => ({
  type: 'Authorize',
  mandate: mandate(),
  now,
  attempt: { paymentMethodId: 'credit_card_1', result: approved },
  ...extra,
});

const registry = shoppingRegistry();
let seq = 0;
/** Turns drafts into envelopes and checks each payload against its registered schema, as the store would. */
function envelopes(drafts: EventDraft[]): EventEnvelope[] {
  return drafts.map((d) => ({
    eventId: '0190f2a0-0000-7000-8000-000000000001',
    type: d.type,
    schemaVersion: 1,
    streamId: 'payment-mandate-1',
    sequence: ++seq,
    occurredAt: now.toISOString(),
    correlationId: 'conv-1',
    causationId: null,
    actor: { kind: 'system', id: 'payment' },
    traceparent: null,
    payload: registry.validateForWrite(d.type, d.payload),
  }));
}

function run(commands: PaymentCommand[]): { state: PaymentState; decided: EventDraft[][] } {
  let state = paymentAggregate.initialState;
  const decided: EventDraft[][] = [];
  for (const c of commands) {
    const drafts = paymentAggregate.decide(c, state);
    decided.push(drafts);
    state = foldEvents({ initialState: state, evolve: paymentAggregate.evolve }, envelopes(drafts));
  }
  return { state, decided };
}

describe('payment aggregate', () => {
  it('authorizes the exact mandate amount with the provider reference and the approved summary', () => {
    const { state, decided } = run([authorize()]);
    expect(decided[0]).toEqual([
      {
        type: 'payment.PaymentAuthorized',
        payload: {
          conversationId: 'conv-1',
          turnId: 'turn-7',
          paymentId: 'pay-mandate-1',
          mandateId: 'mandate-1',
          shopperId: 'ava_1',
          cartId: 'cart-1',
          amount: 11_298,
          currency: 'USD',
          paymentMethodId: 'credit_card_1',
          providerReference: 'sbx_auth',
          summary: mandate().summary,
        },
      },
    ]);
    expect(state).toMatchObject({ status: 'authorized', amount: 11_298, authorizationReference: 'sbx_auth' });
  });

  it('captures in the same decision when the handler captured at once', () => {
    const { state, decided } = run([authorize({ capture: { reference: 'sbx_cap', outcome: 'approved' } })]);
    expect(decided[0].map((e) => e.type)).toEqual(['payment.PaymentAuthorized', 'payment.PaymentCaptured']);
    expect(decided[0][1].payload).toMatchObject({ amount: 11_298, providerReference: 'sbx_cap' });
    expect(state.status).toBe('captured');
  });

  it('captures later, once', () => {
    const capture: PaymentCommand = { type: 'Capture', result: { reference: 'sbx_cap', outcome: 'approved' } };
    const { state, decided } = run([authorize(), capture, capture]);
    expect(decided[1].map((e) => e.type)).toEqual(['payment.PaymentCaptured']);
    expect(decided[2]).toEqual([]);
    expect(state).toMatchObject({ status: 'captured', captureReference: 'sbx_cap' });
    expect(run([capture]).decided[0]).toEqual([]);
  });

  it('decides nothing for a second Authorize of the same mandate (redelivery never charges twice)', () => {
    const { decided } = run([
      authorize(),
      authorize(),
      authorize({ attempt: { refused: 'x', code: 'declined', reconfirm: false } }),
    ]);
    expect(decided[1]).toEqual([]);
    expect(decided[2]).toEqual([]);
  });

  it('records a provider decline and never authorizes that mandate later', () => {
    const declined = authorize({
      attempt: {
        paymentMethodId: 'gift_card_1',
        result: { reference: 'sbx_1', outcome: 'declined', reason: 'insufficient gift card balance' },
      },
    });
    const { state, decided } = run([declined, authorize()]);
    expect(decided[0]).toEqual([
      {
        type: 'payment.PaymentRejected',
        payload: expect.objectContaining({
          mandateId: 'mandate-1',
          reason: 'the payment was declined: insufficient gift card balance',
        }),
      },
    ]);
    expect(decided[1]).toEqual([]);
    expect(state).toMatchObject({ status: 'rejected', reason: expect.stringContaining('insufficient') });
  });

  it('rejects with the handler reason when nothing was charged', () => {
    const { decided } = run([
      authorize({ attempt: { refused: 'no gift card covers $112.98', code: 'no_payment_method', reconfirm: false } }),
    ]);
    expect(decided[0][0]).toMatchObject({
      type: 'payment.PaymentRejected',
      payload: { reason: 'no gift card covers $112.98' },
    });
  });

  it.each([
    ['an amount other than the approved total', { amount: 11_297 }, 'differs from the approved total'],
    ['a currency other than USD', { currency: 'EUR' as 'USD' }, 'is not USD'],
    ['an expired mandate', { expiresAt: '2025-06-01T11:59:59Z' }, 'expired'],
    ['a mandate expiring this very instant', { expiresAt: now.toISOString() }, 'expired'],
    ['an unparseable expiry', { expiresAt: 'soon' }, 'expired'],
  ])('rejects %s even if the provider approved', (_name, overrides, reason) => {
    const { decided } = run([authorize({ mandate: mandate(overrides) })]);
    expect(decided[0]).toEqual([
      {
        type: 'payment.PaymentRejected',
        payload: expect.objectContaining({ reason: expect.stringContaining(reason) }),
      },
    ]);
  });

  it('rejects a summary that does not add up', () => {
    const m = mandate();
    const tampered = { ...m, summary: { ...m.summary, lines: [{ ...m.summary.lines[0], unitPrice: 1 }] } };
    expect(mandateProblem(tampered, now)).toMatch(/does not add up/);
    const padded = { ...m, summary: { ...m.summary, tax: 0 } };
    expect(mandateProblem(padded, now)).toMatch(/does not add up/);
    expect(mandateProblem(m, now)).toBeNull();
  });
});
