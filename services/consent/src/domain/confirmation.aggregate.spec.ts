import { CartSummary, EventDraft, EventEnvelope } from '@assent/contracts';
import {
  confirmationAggregate,
  ConfirmationCommand,
  ConfirmationState,
  mandateContent,
} from './confirmation.aggregate';

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
const request = (
  over: Partial<Extract<ConfirmationCommand, { type: 'RequestConfirmation' }>> = {},
): ConfirmationCommand => ({
  type: 'RequestConfirmation',
  confirmationId: 'conf-1',
  nonce: 'n'.repeat(32),
  now: t0,
  ttlSeconds: 600,
  within: { ok: true, intentMandateIds: ['im-t0'], ceiling: 25000 },
  stepUpThreshold: 100000,
  checkout: {
    conversationId: 'c1',
    turnId: 't1',
    cartId: 'cart-c1',
    shopperId: 'ann',
    summary,
    cartHash: 'a'.repeat(64),
    lineOrigins: { i1: 'sugg-1' },
    lineChanges: 1,
  },
  ...over,
});
const signed = {
  mandateId: 'mandate-1',
  expiresAt: '2026-11-25T10:11:00.000Z',
  merchant: 'assent-retail',
  jws: 'x'.repeat(40),
};
const answer = (over: Partial<Extract<ConfirmationCommand, { type: 'Answer' }>> = {}): ConfirmationCommand => ({
  type: 'Answer',
  turn: { conversationId: 'c1', turnId: 't2' },
  shopperId: 'ann',
  nonce: 'n'.repeat(32),
  answer: 'yes',
  now: new Date(t0.getTime() + 60000),
  stepUp: 'not_needed',
  mandate: signed,
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

const codes = (events: EventDraft[]) => events.map((e) => (e.payload as { code?: string }).code ?? e.type);

describe('confirmation aggregate', () => {
  it("grants the signed mandate for exactly the summary on the shopper's yes with the nonce", () => {
    const { events } = run([request(), answer()]);
    expect(events.map((e) => e.type)).toEqual(['consent.ConfirmationRequested', 'consent.CartMandateGranted']);
    expect(events[1].payload).toMatchObject({
      amount: 5000,
      summary,
      cartHash: 'a'.repeat(64),
      mandateId: 'mandate-1',
      jws: signed.jws,
      intentMandateIds: ['im-t0'],
      ceiling: 25000,
      lineChanges: 1,
    });
  });

  it('refuses to ask for a cart outside what the shopper asked for', () => {
    const { events, state } = run([
      request({ within: { ok: false, reason: 'Espresso Machine is not the Coffee Maker asked for' } }),
      answer(),
    ]);
    expect(codes(events)).toEqual(['outside_intent', 'unknown']);
    expect(state.status).toBe('none');
  });

  it.each([
    ['another shopper', answer({ shopperId: 'mallory' }), 'not_yours'],
    ['a wrong nonce', answer({ nonce: 'x'.repeat(32) }), 'nonce_mismatch'],
    ['an expired confirmation', answer({ now: new Date(t0.getTime() + 601000) }), 'expired'],
    ['a no', answer({ answer: 'no' }), 'declined'],
  ])('refuses %s', (_, command, code) => {
    expect(codes(run([request(), command]).events)[1]).toBe(code);
  });

  it('grants at most once and a stranger cannot close it', () => {
    const { events } = run([request(), answer({ shopperId: 'mallory' }), answer(), answer()]);
    expect(codes(events)).toEqual([
      'consent.ConfirmationRequested',
      'not_yours',
      'consent.CartMandateGranted',
      'already_granted',
    ]);
  });

  it('a no closes it for good', () => {
    expect(codes(run([request(), answer({ answer: 'no' }), answer()]).events)[2]).toBe('closed');
  });

  it('asks once per checkout request', () => {
    expect(run([request(), request()]).events).toHaveLength(1);
  });

  describe('above the step-up threshold', () => {
    const big = request({ stepUpThreshold: 4999 });

    it('a yes sends a code instead of granting; the right code grants', () => {
      const { events } = run([
        big,
        answer({ stepUp: 'code_sent', mandate: undefined }),
        answer({ stepUp: 'verified' }),
      ]);
      expect(events.map((e) => e.type)).toEqual([
        'consent.ConfirmationRequested',
        'consent.StepUpRequired',
        'consent.CartMandateGranted',
      ]);
      expect(events[0].payload).toMatchObject({ stepUp: true });
    });

    it('a wrong code refuses but keeps it open; too many close it', () => {
      const { events } = run([
        big,
        answer({ stepUp: 'wrong_code', mandate: undefined }),
        answer({ stepUp: 'locked', mandate: undefined }),
        answer({ stepUp: 'verified' }),
      ]);
      expect(codes(events)).toEqual(['consent.ConfirmationRequested', 'step_up_failed', 'step_up_locked', 'closed']);
    });

    it('never grants without the code', () => {
      expect(() => run([big, answer({ stepUp: 'not_needed' })])).toThrow(/needs its code/);
    });
  });

  it('signs exactly what was shown', () => {
    const { state } = run([request()]);
    expect(mandateContent(state, 'mandate-1', 'assent-retail')).toEqual({
      sub: 'ann',
      jti: 'mandate-1',
      cart: {
        id: 'cart-c1',
        hash: 'a'.repeat(64),
        lineChanges: 1,
        lines: [{ itemId: 'i1', quantity: 1, unitPrice: 5000 }],
        subtotal: 5000,
        shipping: 0,
        tax: 0,
        total: 5000,
        currency: 'USD',
      },
      merchant: 'assent-retail',
      confirmation: { id: 'conf-1', nonce: 'n'.repeat(32) },
      conversationId: 'c1',
      intentMandates: ['im-t0'],
      ceiling: 25000,
    });
  });
});
