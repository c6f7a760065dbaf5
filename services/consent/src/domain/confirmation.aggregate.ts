import { Aggregate } from '@assent/eventstore';
import {
  CartSummary,
  CheckoutRequested,
  ConfirmationRequested,
  ConsentRefused,
  EventDraft,
  EventEnvelope,
  PayloadOf,
  TurnRef,
} from '@assent/contracts';
import type { CartMandateContent } from '@assent/mandates';
import { IntentCheck } from './intent-mandate';

type RefusalCode = PayloadOf<typeof ConsentRefused>['code'];

export type ConfirmationStatus = 'none' | 'pending' | 'granted' | 'refused';

export interface ConfirmationState {
  status: ConfirmationStatus;
  confirmationId: string | null;
  conversationId: string | null;
  shopperId: string | null;
  cartId: string | null;
  nonce: string | null;
  summary: CartSummary | null;
  cartHash: string | null;
  lineChanges: number;
  intentMandateIds: string[];
  ceiling: number;
  stepUp: boolean;
  expiresAt: string | null;
  mandateId: string | null;
}

/** What the application found about the step-up code before deciding (codes are I/O: hashed, stored, sent). */
export type StepUpOutcome = 'not_needed' | 'code_sent' | 'verified' | 'wrong_code' | 'locked';

export type ConfirmationCommand =
  | {
      type: 'RequestConfirmation';
      confirmationId: string;
      checkout: PayloadOf<typeof CheckoutRequested>;
      within: IntentCheck;
      stepUpThreshold: number;
      nonce: string;
      now: Date;
      ttlSeconds: number;
    }
  | {
      type: 'Answer';
      turn: TurnRef;
      /** The authenticated shopper who answered: only the one who was asked counts. */
      shopperId: string;
      nonce: string;
      answer: 'yes' | 'no';
      now: Date;
      stepUp: StepUpOutcome;
      stepUpExpiresAt?: string;
      /** For a yes that grants: the mandate signed over `mandateContent(...)`. */
      mandate?: { mandateId: string; expiresAt: string; merchant: string; jws: string };
    };

/** Why an answer would not grant a mandate (checked before anything is signed), or null. */
export function answerProblem(
  state: ConfirmationState,
  answer: { shopperId: string; nonce: string; now: Date },
): { code: RefusalCode; reason: string } | null {
  if (state.status === 'none') return { code: 'unknown', reason: 'there is no such confirmation' };
  if (state.shopperId !== answer.shopperId)
    return { code: 'not_yours', reason: 'this confirmation was not asked of you' };
  if (state.status === 'granted') return { code: 'already_granted', reason: 'this confirmation was already approved' };
  if (state.status === 'refused') return { code: 'closed', reason: 'this confirmation is closed; check out again' };
  if (answer.nonce !== state.nonce) {
    return { code: 'nonce_mismatch', reason: 'the answer does not match the pending confirmation' };
  }
  if (answer.now.getTime() > Date.parse(state.expiresAt!)) {
    return { code: 'expired', reason: 'the confirmation expired; check out again' };
  }
  return null;
}

/** The claims a granted mandate signs: exactly what the shopper was shown and approved. */
export function mandateContent(state: ConfirmationState, mandateId: string, merchant: string): CartMandateContent {
  const s = state.summary!;
  return {
    sub: state.shopperId!,
    jti: mandateId,
    cart: {
      id: state.cartId!,
      hash: state.cartHash!,
      lineChanges: state.lineChanges,
      lines: s.lines.map((l) => ({ itemId: l.itemId, quantity: l.quantity, unitPrice: l.unitPrice })),
      subtotal: s.subtotal,
      shipping: s.shipping,
      tax: s.tax,
      total: s.total,
      currency: s.currency,
    },
    merchant,
    confirmation: { id: state.confirmationId!, nonce: state.nonce! },
    conversationId: state.conversationId!,
    intentMandates: state.intentMandateIds,
    ceiling: state.ceiling,
  };
}

const CLOSING: RefusalCode[] = ['declined', 'expired', 'step_up_locked', 'outside_intent'];

/**
 * A confirmation asks one shopper to approve one exact summary that stays within what they asked
 * for. Only that shopper's "yes" carrying its nonce, before it expires (and with the step-up code
 * above the threshold), grants a signed cart mandate, and only once.
 */
export const confirmationAggregate: Aggregate<ConfirmationState, ConfirmationCommand> = {
  initialState: {
    status: 'none',
    confirmationId: null,
    conversationId: null,
    shopperId: null,
    cartId: null,
    nonce: null,
    summary: null,
    cartHash: null,
    lineChanges: 0,
    intentMandateIds: [],
    ceiling: 0,
    stepUp: false,
    expiresAt: null,
    mandateId: null,
  },

  decide(command, state): EventDraft[] {
    if (command.type === 'RequestConfirmation') {
      if (state.status !== 'none') return [];
      const c = command.checkout;
      const ref = {
        conversationId: c.conversationId,
        turnId: c.turnId,
        confirmationId: command.confirmationId,
        shopperId: c.shopperId,
        cartId: c.cartId,
      };
      if (!command.within.ok) {
        return [
          {
            type: 'consent.ConsentRefused',
            payload: { ...ref, code: 'outside_intent', reason: command.within.reason },
          },
        ];
      }
      return [
        {
          type: ConfirmationRequested.type,
          payload: {
            ...ref,
            nonce: command.nonce,
            summary: c.summary,
            cartHash: c.cartHash,
            lineChanges: c.lineChanges,
            intentMandateIds: command.within.intentMandateIds,
            ceiling: command.within.ceiling,
            stepUp: c.summary.total > command.stepUpThreshold,
            expiresAt: new Date(command.now.getTime() + command.ttlSeconds * 1000).toISOString(),
          },
        },
      ];
    }
    const base = {
      ...command.turn,
      confirmationId: state.confirmationId ?? 'unknown',
      shopperId: command.shopperId,
      cartId: state.cartId ?? 'unknown',
    };
    const refuse = (code: RefusalCode, reason: string): EventDraft[] => [
      { type: 'consent.ConsentRefused', payload: { ...base, code, reason } },
    ];
    const problem = answerProblem(state, command);
    if (problem) return refuse(problem.code, problem.reason);
    if (command.answer === 'no') return refuse('declined', 'declined by the shopper');
    if (state.stepUp) {
      switch (command.stepUp) {
        case 'code_sent':
          return [
            {
              type: 'consent.StepUpRequired',
              payload: { ...base, channel: 'one-time code', expiresAt: command.stepUpExpiresAt ?? state.expiresAt! },
            },
          ];
        case 'wrong_code':
          return refuse('step_up_failed', 'that code is not right; try again');
        case 'locked':
          return refuse('step_up_locked', 'too many wrong codes; check out again');
        case 'not_needed':
          throw new Error('a step-up confirmation needs its code');
        case 'verified':
          break;
      }
    }
    if (!command.mandate) throw new Error('a granted confirmation needs its signed mandate');
    const summary = state.summary!;
    return [
      {
        type: 'consent.CartMandateGranted',
        payload: {
          ...base,
          mandateId: command.mandate.mandateId,
          summary,
          cartHash: state.cartHash!,
          lineChanges: state.lineChanges,
          intentMandateIds: state.intentMandateIds,
          ceiling: state.ceiling,
          amount: summary.total,
          currency: summary.currency,
          merchant: command.mandate.merchant,
          expiresAt: command.mandate.expiresAt,
          jws: command.mandate.jws,
        },
      },
    ];
  },

  evolve(state, event: EventEnvelope): ConfirmationState {
    switch (event.type) {
      case 'consent.ConfirmationRequested': {
        const p = event.payload as PayloadOf<typeof ConfirmationRequested>;
        return {
          ...state,
          status: 'pending',
          confirmationId: p.confirmationId,
          conversationId: p.conversationId,
          shopperId: p.shopperId,
          cartId: p.cartId,
          nonce: p.nonce,
          summary: p.summary,
          cartHash: p.cartHash,
          lineChanges: p.lineChanges,
          intentMandateIds: p.intentMandateIds,
          ceiling: p.ceiling,
          stepUp: p.stepUp,
          expiresAt: p.expiresAt,
        };
      }
      case 'consent.CartMandateGranted':
        return { ...state, status: 'granted', mandateId: (event.payload as { mandateId: string }).mandateId };
      case 'consent.ConsentRefused': {
        // A stranger's or mismatched answer leaves the confirmation pending for its shopper; a "no",
        // expiry or too many wrong codes close it.
        const { code } = event.payload as PayloadOf<typeof ConsentRefused>;
        return CLOSING.includes(code) && state.status === 'pending' ? { ...state, status: 'refused' } : state;
      }
      default:
        return state;
    }
  },
};
