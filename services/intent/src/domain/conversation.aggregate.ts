import { Aggregate } from '@assent/eventstore';
import {
  CartSummary,
  ConfirmationAnswered,
  DialogueUpdate,
  IntentCaptured,
  EventDraft,
  EventEnvelope,
  PayloadOf,
  ShoppingIntent,
  SuggestedItem,
  TurnAnswer,
  TurnAnswered,
  TurnRef,
  UtteranceReceived,
} from '@assent/contracts';
import type { DialogueContext, Understanding } from './intent-model';
import { answer, describeCart } from './replies';

export interface PendingConfirmation {
  id: string;
  nonce: string;
  expiresAt: string;
  summary: CartSummary;
  /** A one-time code was sent; the next six digits the shopper types answer with it. */
  awaitingCode: boolean;
}

const STEP_UP_CODE = /^\s*(\d{6})\s*$/;

export interface ConversationState {
  conversationId: string | null;
  shopperId: string | null;
  turns: number;
  lastIntent: ShoppingIntent | null;
  suggestionEventId: string | null;
  suggestions: SuggestedItem[];
  cart: Array<{ itemId: string; name: string; quantity: number }>;
  pendingConfirmation: PendingConfirmation | null;
  /** Turns waiting for another service's answer. */
  openTurns: string[];
  /** When each open turn started and how long understanding it took, for its timings. */
  turnClock: Record<string, { startedAt: string; modelMs: number | null }>;
}

export type TurnTimings = PayloadOf<typeof TurnAnswered>['timings'];

export type ConversationCommand =
  | {
      type: 'ReceiveUtterance';
      turn: TurnRef;
      shopperId: string;
      text: string;
      understanding: Understanding;
      model: { name: string; version: string };
      /** Set when the configured language model failed and the rules model answered instead. */
      fallback: { from: string; reason: string } | null;
      modelMs: number;
    }
  | { type: 'AnswerTurn'; turn: TurnRef; answer: TurnAnswer; dialogue: DialogueUpdate; timings: TurnTimings };

export function dialogueContext(state: ConversationState): DialogueContext {
  return {
    lastIntent: state.lastIntent,
    suggestions: state.suggestions.map((s) => ({
      itemId: s.itemId,
      productId: s.productId,
      name: s.name,
      price: s.price,
      options: s.options,
    })),
    cart: state.cart,
    pendingConfirmation: state.pendingConfirmation !== null,
  };
}

function answered(turn: TurnRef, a: TurnAnswer, timings: TurnTimings, dialogue: DialogueUpdate = {}): EventDraft {
  return { type: TurnAnswered.type, payload: { ...turn, answer: a, dialogue, timings } };
}

/** Time from a turn's utterance to now, with what the turn's clock recorded. */
export function turnTimings(
  state: ConversationState,
  turnId: string,
  now: Date,
  catalogMs: number | null,
): TurnTimings {
  const clock = state.turnClock[turnId];
  return {
    modelMs: clock?.modelMs ?? null,
    catalogMs,
    totalMs: clock ? Math.max(0, now.getTime() - Date.parse(clock.startedAt)) : 0,
  };
}

/**
 * A conversation: the shopper's words, what they were understood to mean, and each turn's answer.
 * It never buys anything itself; a "yes" is only relayed to consent when a confirmation is pending.
 */
export const conversationAggregate: Aggregate<ConversationState, ConversationCommand> = {
  initialState: {
    conversationId: null,
    shopperId: null,
    turns: 0,
    lastIntent: null,
    suggestionEventId: null,
    suggestions: [],
    cart: [],
    pendingConfirmation: null,
    openTurns: [],
    turnClock: {},
  },

  decide(command, state): EventDraft[] {
    if (command.type === 'AnswerTurn') {
      // Only the first answer of a turn counts; late or duplicate answers change nothing.
      if (!state.openTurns.includes(command.turn.turnId)) return [];
      return [answered(command.turn, command.answer, command.timings, command.dialogue)];
    }
    if (state.shopperId !== null && state.shopperId !== command.shopperId) {
      throw new Error('a conversation belongs to one shopper');
    }
    const { turn, shopperId } = command;
    // An answer decided right here took as long as understanding it.
    const now: TurnTimings = { modelMs: command.modelMs, catalogMs: null, totalMs: command.modelMs };
    const said: EventDraft = {
      type: UtteranceReceived.type,
      payload: { ...turn, shopperId, text: command.text },
    };
    // The code answers the pending confirmation directly: it is not language, and no model reads it.
    const code = STEP_UP_CODE.exec(command.text)?.[1];
    if (code && state.pendingConfirmation?.awaitingCode) {
      const p = state.pendingConfirmation;
      const payload: PayloadOf<typeof ConfirmationAnswered> = {
        ...turn,
        shopperId,
        confirmationId: p.id,
        nonce: p.nonce,
        answer: 'yes',
        code,
      };
      return [said, { type: ConfirmationAnswered.type, payload }];
    }
    const u = command.understanding;
    switch (u.kind) {
      case 'search':
        return [
          said,
          {
            type: 'intent.IntentCaptured',
            payload: {
              ...turn,
              shopperId,
              intent: u.intent,
              refinesTurnId: null,
              confidence: u.confidence,
              model: command.model,
              fallback: command.fallback,
              modelMs: command.modelMs,
            },
          },
        ];
      case 'clarify':
        return [
          said,
          { type: 'intent.ClarificationRequested', payload: { ...turn, question: u.question, reason: u.reason } },
          answered(turn, answer('clarification', u.question), now),
        ];
      case 'add_to_cart':
        if (!state.suggestionEventId || !state.suggestions.some((s) => s.itemId === u.itemId)) {
          return [
            said,
            answered(
              turn,
              answer(
                'clarification',
                'Which item would you like? Ask me for something first and I will suggest a few.',
              ),
              now,
            ),
          ];
        }
        return [
          said,
          {
            type: 'intent.CartItemRequested',
            payload: {
              ...turn,
              shopperId,
              itemId: u.itemId,
              quantity: u.quantity,
              suggestionEventId: state.suggestionEventId,
            },
          },
        ];
      case 'remove_from_cart':
        return [said, { type: 'intent.CartItemRemovalRequested', payload: { ...turn, shopperId, itemId: u.itemId } }];
      case 'checkout':
        return [said, { type: 'intent.CheckoutAsked', payload: { ...turn, shopperId } }];
      case 'confirm':
      case 'decline': {
        const pending = state.pendingConfirmation;
        if (!pending) {
          const reply =
            u.kind === 'confirm'
              ? 'There is nothing waiting for your approval, so nothing was bought. Say "check out" when your cart is ready.'
              : 'Okay. Nothing is waiting for your approval.';
          return [said, answered(turn, answer('info', reply), now)];
        }
        const payload: PayloadOf<typeof ConfirmationAnswered> = {
          ...turn,
          shopperId,
          confirmationId: pending.id,
          nonce: pending.nonce,
          answer: u.kind === 'confirm' ? 'yes' : 'no',
        };
        return [said, { type: ConfirmationAnswered.type, payload }];
      }
      case 'show_cart':
        return [said, answered(turn, answer('info', describeCart(state.cart)), now)];
      case 'help':
        return [
          said,
          answered(
            turn,
            answer(
              'info',
              'Tell me what you are looking for (for example "a french press coffee maker under $250"). I will suggest items and say why; ' +
                'say "add the first one", then "check out", and I will show you the exact total to approve. Nothing is bought without your yes.',
            ),
            now,
          ),
        ];
    }
  },

  evolve(state, event: EventEnvelope): ConversationState {
    switch (event.type) {
      case 'intent.UtteranceReceived': {
        const p = event.payload as PayloadOf<typeof UtteranceReceived>;
        return {
          ...state,
          conversationId: p.conversationId,
          shopperId: p.shopperId,
          turns: state.turns + 1,
          turnClock: { ...state.turnClock, [p.turnId]: { startedAt: event.occurredAt, modelMs: null } },
        };
      }
      case 'intent.IntentCaptured': {
        const p = event.payload as PayloadOf<typeof IntentCaptured>;
        const clock = state.turnClock[p.turnId];
        return {
          ...state,
          openTurns: [...state.openTurns, p.turnId],
          turnClock: clock ? { ...state.turnClock, [p.turnId]: { ...clock, modelMs: p.modelMs } } : state.turnClock,
        };
      }
      case 'intent.CartItemRequested':
      case 'intent.CartItemRemovalRequested':
      case 'intent.CheckoutAsked':
        return { ...state, openTurns: [...state.openTurns, (event.payload as TurnRef).turnId] };
      case 'intent.ConfirmationAnswered':
        // Still pending until consent's verdict: a step-up code or a refusal keeps it open; a mandate
        // granted twice is refused by consent, never paid twice.
        return { ...state, openTurns: [...state.openTurns, (event.payload as TurnRef).turnId] };
      case 'intent.TurnAnswered': {
        const p = event.payload as PayloadOf<typeof TurnAnswered>;
        const d = p.dialogue;
        const { [p.turnId]: _done, ...turnClock } = state.turnClock;
        void _done;
        let next: ConversationState = { ...state, openTurns: state.openTurns.filter((t) => t !== p.turnId), turnClock };
        if (d.intent) next.lastIntent = d.intent;
        if (p.answer.kind === 'suggestions' && d.suggestionEventId) {
          next.suggestionEventId = d.suggestionEventId;
          next.suggestions = p.answer.suggestions;
        } else if (p.answer.kind === 'no_match') {
          next.suggestionEventId = null;
          next.suggestions = [];
        }
        if (d.cartAdded) {
          const added = d.cartAdded;
          const existing = next.cart.find((l) => l.itemId === added.itemId);
          next.cart = existing
            ? next.cart.map((l) => (l.itemId === added.itemId ? { ...l, quantity: l.quantity + added.quantity } : l))
            : [...next.cart, added];
        }
        if (d.cartRemoved) next.cart = next.cart.filter((l) => l.itemId !== d.cartRemoved);
        if (d.cartCleared) next.cart = [];
        if (d.confirmationPending === true && p.answer.confirmation && p.answer.summary) {
          next.pendingConfirmation = { ...p.answer.confirmation, summary: p.answer.summary, awaitingCode: false };
        } else if (d.confirmationPending === false) {
          next.pendingConfirmation = null;
        }
        if (d.stepUpPending !== undefined && next.pendingConfirmation) {
          next.pendingConfirmation = { ...next.pendingConfirmation, awaitingCode: d.stepUpPending };
        }
        next = { ...next };
        return next;
      }
      default:
        return state;
    }
  },
};
