import { EventDraft, EventEnvelope, ShoppingIntent, SuggestedItem, TurnAnswer } from '@assent/contracts';
import {
  conversationAggregate,
  ConversationCommand,
  ConversationState,
  dialogueContext,
} from './conversation.aggregate';
import type { Understanding } from './intent-model';
import { answer } from './replies';

const intent: ShoppingIntent = {
  productTypes: ['Coffee Maker'],
  excludedProductTypes: [],
  requiredOptions: { type: ['french press'] },
  excludedOptions: {},
  minPrice: null,
  maxPrice: 25000,
  priceSensitive: false,
  quantity: 1,
  keywords: [],
};
const item: SuggestedItem = {
  itemId: '3020722515',
  productId: '7996920482',
  name: 'Coffee Maker',
  options: { type: 'french press' },
  price: 23864,
  available: true,
  satisfied: ['product is Coffee Maker'],
  score: { total: 1 },
};

let n = 0;
function envelope(draft: EventDraft, causationId: string | null = null): EventEnvelope {
  n++;
  return { ...draft, eventId: `e${n}`, sequence: n, causationId } as unknown as EventEnvelope;
}

class Conversation {
  state: ConversationState = conversationAggregate.initialState;
  emitted: EventDraft[] = [];

  apply(drafts: EventDraft[], causationId: string | null = null): EventDraft[] {
    for (const d of drafts) this.state = conversationAggregate.evolve(this.state, envelope(d, causationId));
    this.emitted.push(...drafts);
    return drafts;
  }

  say(turnId: string, understanding: Understanding, shopperId = 'ann'): EventDraft[] {
    const command: ConversationCommand = {
      type: 'ReceiveUtterance',
      turn: { conversationId: 'c1', turnId },
      shopperId,
      text: 'words',
      understanding,
      model: { name: 'rules', version: '1' },
      fallback: null,
      modelMs: 1,
    };
    return this.apply(conversationAggregate.decide(command, this.state));
  }

  answer(turnId: string, a: TurnAnswer, dialogue = {}, causationId: string | null = null): EventDraft[] {
    const command: ConversationCommand = {
      type: 'AnswerTurn',
      turn: { conversationId: 'c1', turnId },
      answer: a,
      dialogue,
      timings: { modelMs: 1, catalogMs: 2, totalMs: 5 },
    };
    return this.apply(conversationAggregate.decide(command, this.state), causationId);
  }
}

const summary = {
  lines: [
    {
      itemId: item.itemId,
      productId: item.productId,
      name: item.name,
      options: {},
      quantity: 1,
      unitPrice: 23864,
      lineTotal: 23864,
    },
  ],
  subtotal: 23864,
  shipping: 0,
  tax: 0,
  total: 23864,
  currency: 'USD' as const,
};

describe('conversation aggregate', () => {
  it('a search records the words and the captured intent, and waits for the catalog', () => {
    const c = new Conversation();
    const events = c.say('t1', { kind: 'search', intent, refinement: false, confidence: 0.9 });
    expect(events.map((e) => e.type)).toEqual(['intent.UtteranceReceived', 'intent.IntentCaptured']);
    expect(c.state.openTurns).toEqual(['t1']);
  });

  it('remembers the suggestions and the suggestion event the shopper can pick from', () => {
    const c = new Conversation();
    c.say('t1', { kind: 'search', intent, refinement: false, confidence: 0.9 });
    c.answer('t1', answer('suggestions', 'here', { suggestions: [item] }), { intent, suggestionEventId: 'sugg-1' });
    expect(c.state.openTurns).toEqual([]);
    expect(dialogueContext(c.state)).toMatchObject({ lastIntent: intent, suggestions: [{ itemId: item.itemId }] });
    const [, requested] = c.say('t2', { kind: 'add_to_cart', itemId: item.itemId, quantity: 1 });
    expect(requested).toMatchObject({
      type: 'intent.CartItemRequested',
      payload: { itemId: item.itemId, suggestionEventId: 'sugg-1' },
    });
  });

  it('will not add an item that was never suggested', () => {
    const c = new Conversation();
    const events = c.say('t1', { kind: 'add_to_cart', itemId: '999', quantity: 1 });
    expect(events.map((e) => e.type)).toEqual(['intent.UtteranceReceived', 'intent.TurnAnswered']);
    expect(events[1].payload).toMatchObject({ answer: { kind: 'clarification' } });
  });

  it('relays a yes only for a pending confirmation, once', () => {
    const c = new Conversation();
    const yes: Understanding = { kind: 'confirm' };
    const idle = c.say('t1', yes);
    expect(idle[1]).toMatchObject({
      type: 'intent.TurnAnswered',
      payload: { answer: { kind: 'info', orderId: null } },
    });

    c.say('t2', { kind: 'checkout' });
    const confirmation = { id: 'conf-1', nonce: 'n'.repeat(32), expiresAt: '2026-11-25T12:00:00Z' };
    c.answer('t2', answer('confirmation_required', 'confirm?', { summary, confirmation }), {
      confirmationPending: true,
    });
    expect(c.state.pendingConfirmation).toMatchObject({ id: 'conf-1' });

    const relayed = c.say('t3', yes);
    expect(relayed[1]).toMatchObject({
      type: 'intent.ConfirmationAnswered',
      payload: { confirmationId: 'conf-1', nonce: 'n'.repeat(32), answer: 'yes', shopperId: 'ann' },
    });
    // Pending until consent's verdict; a second yes is consent's to refuse (it grants once).
    expect(c.say('t4', yes)[1].type).toBe('intent.ConfirmationAnswered');
    c.answer('t3', answer('order_placed', 'placed', { orderId: '#W1234567' }), {
      confirmationPending: false,
      cartCleared: true,
    });
    expect(c.say('t5', yes)[1]).toMatchObject({ type: 'intent.TurnAnswered', payload: { answer: { kind: 'info' } } });
  });

  it('six digits answer a confirmation waiting for its step-up code, and nothing else', () => {
    const c = new Conversation();
    const digits: Understanding = { kind: 'clarify', question: '?', reason: 'vague' };
    expect(c.say('t0', digits).map((e) => e.type)).not.toContain('intent.ConfirmationAnswered');
    c.say('t1', { kind: 'checkout' });
    c.answer(
      't1',
      answer('confirmation_required', 'confirm?', {
        summary,
        confirmation: { id: 'conf-9', nonce: 'k'.repeat(32), expiresAt: '2026-11-25T12:00:00Z' },
      }),
      {
        confirmationPending: true,
      },
    );
    c.say('t2', { kind: 'confirm' });
    c.answer('t2', answer('info', 'code sent'), { stepUpPending: true });
    const command: ConversationCommand = {
      type: 'ReceiveUtterance',
      turn: { conversationId: 'c1', turnId: 't3' },
      shopperId: 'ann',
      text: ' 042917 ',
      understanding: digits,
      model: { name: 'rules', version: '1' },
      fallback: null,
      modelMs: 1,
    };
    const [, relayed] = conversationAggregate.decide(command, c.state);
    expect(relayed).toMatchObject({
      type: 'intent.ConfirmationAnswered',
      payload: { confirmationId: 'conf-9', answer: 'yes', code: '042917' },
    });
  });

  it('a no is relayed as a no', () => {
    const c = new Conversation();
    c.say('t1', { kind: 'checkout' });
    c.answer(
      't1',
      answer('confirmation_required', 'confirm?', {
        summary,
        confirmation: { id: 'c', nonce: 'x'.repeat(32), expiresAt: '2026-11-25T12:00:00Z' },
      }),
      {
        confirmationPending: true,
      },
    );
    expect(c.say('t2', { kind: 'decline' })[1]).toMatchObject({ payload: { answer: 'no' } });
  });

  it('answers a turn once; late answers and strangers change nothing', () => {
    const c = new Conversation();
    c.say('t1', { kind: 'search', intent, refinement: false, confidence: 0.9 });
    expect(c.answer('t1', answer('no_match', 'none'))).toHaveLength(1);
    expect(c.answer('t1', answer('suggestions', 'late', { suggestions: [item] }))).toEqual([]);
    expect(c.answer('t9', answer('info', 'unknown turn'))).toEqual([]);
    expect(() => c.say('t2', { kind: 'help' }, 'mallory')).toThrow(/one shopper/);
  });

  it('a clarification is answered at once and buys nothing', () => {
    const c = new Conversation();
    const events = c.say('t1', { kind: 'clarify', question: 'What are you looking for?', reason: 'vague' });
    expect(events.map((e) => e.type)).toEqual([
      'intent.UtteranceReceived',
      'intent.ClarificationRequested',
      'intent.TurnAnswered',
    ]);
    expect(c.emitted.some((e) => /Confirmation|Cart|Checkout/.test(e.type))).toBe(false);
  });
});
