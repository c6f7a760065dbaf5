import { CartSummary, EventDraft, EventEnvelope } from '@assent/contracts';
import { confirmationAggregate, ConfirmationCommand, ConfirmationState } from './confirmation.aggregate';

const summary: CartSummary = {
  lines: [
    { itemId: 'i1', productId: 'p1', name: 'Kettle', options: {}, quantity: 1, unitPrice: 5000, lineTotal: 5000 },
  ],
  subtotal: 5000,
  shipping: 0,
  tax: 0,
  total: 5000,
  currency: 'USD',
};
const t0 = new Date('2026-11-25T10:00:00Z');
const request: ConfirmationCommand = {
  type: 'RequestConfirmation',
  confirmationId: 'conf-1',
  nonce: 'n'.repeat(32),
  now: t0,
  ttlSeconds: 600,
  checkout: {
    conversationId: 'c1',
    turnId: 't1',
    cartId: 'cart-c1',
    shopperId: 'ann',
    summary,
    cartHash: 'a'.repeat(64),
  },
};
const answer = (over: Partial<Extract<ConfirmationCommand, { type: 'Answer' }>> = {}): ConfirmationCommand => ({
  type: 'Answer',
  turn: { conversationId: 'c1', turnId: 't2' },
  shopperId: 'ann',
  nonce: 'n'.repeat(32),
  answer: 'yes',
  now: new Date(t0.getTime() + 60000),
  mandateId: 'mandate-1',
  mandateTtlSeconds: 600,
  merchant: 'assent-retail',
  ...over,
});

function run(commands: ConfirmationCommand[]): { state: ConfirmationState; events: EventDraft[] } {
  let state = confirmationAggregate.initialState;
  const events: EventDraft[] = [];
  for (const command of commands) {
    for (const draft of confirmationAggregate.decide(command, state)) {
      events.push(draft);
      state = confirmationAggregate.evolve(state, draft as unknown as EventEnvelope);
    }
  }
  return { state, events };
}

describe('confirmation aggregate', () => {
  it("grants a mandate for exactly the summary on the shopper's yes with the nonce", () => {
    const { events } = run([request, answer()]);
    expect(events.map((e) => e.type)).toEqual(['consent.ConfirmationRequested', 'consent.CartMandateGranted']);
    expect(events[1].payload).toMatchObject({
      amount: 5000,
      summary,
      cartHash: 'a'.repeat(64),
      mandateId: 'mandate-1',
    });
  });

  it.each([
    ['another shopper', answer({ shopperId: 'mallory' }), 'not_yours'],
    ['a wrong nonce', answer({ nonce: 'x'.repeat(32) }), 'nonce_mismatch'],
    ['an expired confirmation', answer({ now: new Date(t0.getTime() + 601000) }), 'expired'],
    ['a no', answer({ answer: 'no' }), 'declined'],
  ])('refuses %s', (_, command, code) => {
    const { events } = run([request, command]);
    expect(events[1]).toMatchObject({ type: 'consent.ConsentRefused', payload: { code } });
  });

  it('grants at most once and a stranger cannot close it', () => {
    const { events } = run([request, answer({ shopperId: 'mallory' }), answer(), answer()]);
    expect(events.map((e) => (e.payload as { code?: string }).code ?? e.type)).toEqual([
      'consent.ConfirmationRequested',
      'not_yours',
      'consent.CartMandateGranted',
      'already_granted',
    ]);
  });

  it('a no closes it for good', () => {
    const { events } = run([request, answer({ answer: 'no' }), answer()]);
    expect(events[2]).toMatchObject({ payload: { code: 'closed' } });
  });

  it('asks once per checkout request', () => {
    expect(run([request, request]).events).toHaveLength(1);
  });
});
