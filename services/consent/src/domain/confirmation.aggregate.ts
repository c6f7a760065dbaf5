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
  expiresAt: string | null;
  mandateId: string | null;
}

export type ConfirmationCommand =
  | {
      type: 'RequestConfirmation';
      confirmationId: string;
      checkout: PayloadOf<typeof CheckoutRequested>;
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
      mandateId: string;
      mandateTtlSeconds: number;
      merchant: string;
    };

/**
 * A confirmation asks one shopper to approve one exact summary. Only that shopper's "yes" carrying its
 * nonce, before it expires, grants a cart mandate, and only once.
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
    expiresAt: null,
    mandateId: null,
  },

  decide(command, state): EventDraft[] {
    if (command.type === 'RequestConfirmation') {
      if (state.status !== 'none') return [];
      const c = command.checkout;
      return [
        {
          type: ConfirmationRequested.type,
          payload: {
            conversationId: c.conversationId,
            turnId: c.turnId,
            confirmationId: command.confirmationId,
            shopperId: c.shopperId,
            cartId: c.cartId,
            nonce: command.nonce,
            summary: c.summary,
            cartHash: c.cartHash,
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
    if (state.status === 'none') return refuse('unknown', 'there is no such confirmation');
    if (state.shopperId !== command.shopperId) return refuse('not_yours', 'this confirmation was not asked of you');
    if (state.status === 'granted') return refuse('already_granted', 'this confirmation was already approved');
    if (state.status === 'refused') return refuse('closed', 'this confirmation is closed; check out again');
    if (command.nonce !== state.nonce) {
      return refuse('nonce_mismatch', 'the answer does not match the pending confirmation');
    }
    if (command.now.getTime() > Date.parse(state.expiresAt!)) {
      return refuse('expired', 'the confirmation expired; check out again');
    }
    if (command.answer === 'no') return refuse('declined', 'declined by the shopper');
    const summary = state.summary!;
    return [
      {
        type: 'consent.CartMandateGranted',
        payload: {
          ...base,
          mandateId: command.mandateId,
          summary,
          cartHash: state.cartHash!,
          amount: summary.total,
          currency: summary.currency,
          merchant: command.merchant,
          expiresAt: new Date(command.now.getTime() + command.mandateTtlSeconds * 1000).toISOString(),
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
          expiresAt: p.expiresAt,
        };
      }
      case 'consent.CartMandateGranted':
        return { ...state, status: 'granted', mandateId: (event.payload as { mandateId: string }).mandateId };
      case 'consent.ConsentRefused': {
        // A stranger's or mismatched answer leaves the confirmation pending for its shopper; a "no" or expiry closes it.
        const { code } = event.payload as PayloadOf<typeof ConsentRefused>;
        const closes = code === 'declined' || code === 'expired';
        return closes && state.status === 'pending' ? { ...state, status: 'refused' } : state;
      }
      default:
        return state;
    }
  },
};
