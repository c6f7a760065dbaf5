import { Aggregate } from '@assent/eventstore';
import {
  CartMandateGranted,
  EventDraft,
  EventEnvelope,
  PaymentAuthorized,
  PaymentCaptured,
  PaymentRejected,
  PayloadOf,
} from '@assent/contracts';
import { ProviderResult } from './provider-result';

export type CartMandate = PayloadOf<typeof CartMandateGranted>;

/** One stream per mandate: its sequence numbers are what makes a second charge impossible. */
export const paymentStreamId = (mandateId: string): string => `payment-${mandateId}`;

/** Derived, not random, so a redelivered mandate names the same payment. */
export const paymentIdFor = (mandateId: string): string => `pay-${mandateId}`;

/** The provider's idempotency keys for a mandate's requests: a retry after a crash repeats, never re-charges. */
export const authorizeKey = (mandateId: string): string => `authorize:${mandateId}`;
export const captureKey = (mandateId: string): string => `capture:${mandateId}`;

export type PaymentCommand =
  | {
      type: 'Authorize';
      mandate: CartMandate;
      now: Date;
      /**
       * What the handler did before deciding: charged a method (with the provider's answer) or
       * refused before charging (no method could pay, the mandate failed `mandateProblem`).
       */
      attempt: { paymentMethodId: string; result: ProviderResult } | Refusal;
      /** The capture made right after an approved authorization, when the handler captures at once. */
      capture?: ProviderResult;
    }
  | { type: 'Capture'; result: ProviderResult };

/** The identifying fields every payment event carries. */
export type PaymentRef = Omit<PayloadOf<typeof PaymentRejected>, 'reason' | 'code' | 'reconfirm'>;

export type RejectionCode = PayloadOf<typeof PaymentRejected>['code'];

/** Why payment refuses before asking for money; `reconfirm` asks the shopper to approve the cart again. */
export interface Refusal {
  refused: string;
  code: RejectionCode;
  reconfirm: boolean;
}

export type PaymentStatus = 'new' | 'authorized' | 'captured' | 'rejected';

export interface PaymentState {
  status: PaymentStatus;
  mandateId: string | null;
  paymentId: string | null;
  shopperId: string | null;
  amount: number;
  paymentMethodId: string | null;
  authorizationReference: string | null;
  captureReference: string | null;
  reason: string | null;
  /** The identifying fields every later event of this payment repeats. */
  ref: PaymentRef | null;
}

const dollars = (cents: number): string => `$${(cents / 100).toFixed(2)}`;

/**
 * Why payment must not charge this mandate at `now`, or null. Handlers call it before asking the
 * provider for money; the aggregate calls it again so no path records a charge for a bad mandate.
 * (The JWS signature, single use across streams and the cart hash are checked by whoever verifies
 * the signed mandate; this checks what the payload itself must agree on.)
 */
export function mandateProblem(mandate: CartMandate, now: Date): string | null {
  const { summary } = mandate;
  if (mandate.currency !== 'USD' || summary.currency !== 'USD') return `currency ${mandate.currency} is not USD`;
  if (mandate.amount !== summary.total) {
    return `the mandate amount ${dollars(mandate.amount)} differs from the approved total ${dollars(summary.total)}`;
  }
  const lineTotals = summary.lines.reduce((sum, l) => sum + l.lineTotal, 0);
  const badLine = summary.lines.find((l) => l.lineTotal !== l.unitPrice * l.quantity);
  if (badLine) return `line ${badLine.itemId} does not add up (${badLine.quantity} × unit price ≠ line total)`;
  if (lineTotals !== summary.subtotal || summary.subtotal + summary.shipping + summary.tax !== summary.total) {
    return 'the approved summary does not add up to its total';
  }
  if (mandate.amount <= 0) return 'nothing to pay';
  const expiresAt = Date.parse(mandate.expiresAt);
  // An instant equal to the expiry already counts as expired: the approval covered the time before it.
  if (!Number.isFinite(expiresAt) || expiresAt <= now.getTime()) return `the mandate expired at ${mandate.expiresAt}`;
  return null;
}

function refOf(mandate: CartMandate): PaymentRef {
  return {
    conversationId: mandate.conversationId,
    turnId: mandate.turnId,
    paymentId: paymentIdFor(mandate.mandateId),
    mandateId: mandate.mandateId,
    shopperId: mandate.shopperId,
    cartId: mandate.cartId,
  };
}

/**
 * The payment of one cart mandate. A mandate is decided once: after it is authorized or rejected,
 * another Authorize decides nothing, so redelivery cannot charge twice and a refused mandate cannot
 * be retried into a charge; the shopper must approve again (a new mandate).
 */
export const paymentAggregate: Aggregate<PaymentState, PaymentCommand> = {
  initialState: {
    status: 'new',
    mandateId: null,
    paymentId: null,
    shopperId: null,
    amount: 0,
    paymentMethodId: null,
    authorizationReference: null,
    captureReference: null,
    reason: null,
    ref: null,
  },

  decide(command, state): EventDraft[] {
    switch (command.type) {
      case 'Authorize': {
        if (state.status !== 'new') return [];
        const { mandate, attempt } = command;
        const ref = refOf(mandate);
        const reject = (reason: string, code: RejectionCode, reconfirm = false): EventDraft[] => [
          {
            type: PaymentRejected.type,
            payload: { ...ref, reason, code, reconfirm } satisfies PayloadOf<typeof PaymentRejected>,
          },
        ];
        const problem = mandateProblem(mandate, command.now);
        if (problem) return reject(problem, 'invalid_mandate');
        if ('refused' in attempt) return reject(attempt.refused, attempt.code, attempt.reconfirm);
        if (attempt.result.outcome !== 'approved') {
          return reject(
            `the payment was declined${attempt.result.reason ? `: ${attempt.result.reason}` : ''}`,
            'declined',
          );
        }
        const events: EventDraft[] = [
          {
            type: PaymentAuthorized.type,
            payload: {
              ...ref,
              amount: mandate.amount,
              currency: 'USD',
              paymentMethodId: attempt.paymentMethodId,
              providerReference: attempt.result.reference,
              summary: mandate.summary,
            } satisfies PayloadOf<typeof PaymentAuthorized>,
          },
        ];
        if (command.capture?.outcome === 'approved') {
          events.push({
            type: PaymentCaptured.type,
            payload: {
              ...ref,
              amount: mandate.amount,
              providerReference: command.capture.reference,
            } satisfies PayloadOf<typeof PaymentCaptured>,
          });
        }
        return events;
      }
      case 'Capture': {
        // Capturing is only meaningful once, after an authorization; anything else is a replay or a stray.
        if (state.status !== 'authorized' || !state.ref || command.result.outcome !== 'approved') return [];
        return [
          {
            type: PaymentCaptured.type,
            payload: {
              ...state.ref,
              amount: state.amount,
              providerReference: command.result.reference,
            } satisfies PayloadOf<typeof PaymentCaptured>,
          },
        ];
      }
    }
  },

  evolve(state, event: EventEnvelope): PaymentState {
    switch (event.type) {
      case PaymentAuthorized.type: {
        const p = event.payload as PayloadOf<typeof PaymentAuthorized>;
        return {
          ...state,
          status: 'authorized',
          mandateId: p.mandateId,
          paymentId: p.paymentId,
          shopperId: p.shopperId,
          amount: p.amount,
          paymentMethodId: p.paymentMethodId,
          authorizationReference: p.providerReference,
          ref: {
            conversationId: p.conversationId,
            turnId: p.turnId,
            paymentId: p.paymentId,
            mandateId: p.mandateId,
            shopperId: p.shopperId,
            cartId: p.cartId,
          },
        };
      }
      case PaymentCaptured.type: {
        const p = event.payload as PayloadOf<typeof PaymentCaptured>;
        return { ...state, status: 'captured', captureReference: p.providerReference };
      }
      case PaymentRejected.type: {
        const p = event.payload as PayloadOf<typeof PaymentRejected>;
        return {
          ...state,
          status: 'rejected',
          mandateId: p.mandateId,
          paymentId: p.paymentId,
          shopperId: p.shopperId,
          reason: p.reason,
        };
      }
      default:
        return state;
    }
  },
};
