import { Aggregate } from '@assent/eventstore';
import {
  EventDraft,
  EventEnvelope,
  OrderCancelled,
  OrderPlaced,
  PaymentAuthorized,
  PayloadOf,
} from '@assent/contracts';
import { ORDER_ID_PATTERN } from './order-id';
import { OrderAddress, OrderLine, OrderStatus } from './order-view';

export type OrderCommand =
  | {
      type: 'CancelOrder';
      orderId: string;
      /** The authenticated shopper: only the one who ordered may cancel. */
      shopperId: string;
      reason: CancelReason;
      now: Date;
      undoWindowSeconds: number;
    }
  | {
      type: 'PlaceOrder';
      /** From `resolveOrderId`; the stream id is this order id. */
      orderId: string;
      payment: PayloadOf<typeof PaymentAuthorized>;
      /** Where to ship: the customer's address on file unless the shopper gave another. */
      address: OrderAddress;
    };

export interface OrderState {
  orderId: string | null;
  mandateId: string | null;
  shopperId: string | null;
  conversationId: string | null;
  status: OrderStatus | null;
  total: number;
  placedAt: string | null;
  payments: Array<{ amount: number; paymentMethodId: string }>;
}

export type CancelReason = PayloadOf<typeof OrderCancelled>['reason'];

/** A cancellation the order's state does not allow; nothing changes. */
export class OrderCancellationRefused extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'OrderCancellationRefused';
  }
}

/** The stream of this order id already holds another mandate's order: pick the next candidate id. */
export class OrderIdCollisionError extends Error {
  constructor(
    readonly orderId: string,
    readonly mandateId: string,
  ) {
    super(`order ${orderId} already belongs to another mandate than ${mandateId}`);
    this.name = 'OrderIdCollisionError';
  }
}

/** A PlaceOrder that no correct caller sends (a malformed id, a payment that is not the approved total). */
export class InvalidOrderCommandError extends Error {
  constructor(reason: string) {
    super(`cannot place order: ${reason}`);
    this.name = 'InvalidOrderCommandError';
  }
}

/** τ-bench lists a quantity of 2 as two identical entries; so do Assent's orders. */
export function expandLines(summary: PayloadOf<typeof PaymentAuthorized>['summary']): OrderLine[] {
  return summary.lines.flatMap((line) =>
    Array.from({ length: line.quantity }, () => ({
      itemId: line.itemId,
      productId: line.productId,
      name: line.name,
      options: { ...line.options },
      price: line.unitPrice,
    })),
  );
}

/** An order, from the authorized payment that created it. Its stream id is the order id. */
export const orderAggregate: Aggregate<OrderState, OrderCommand> = {
  initialState: {
    orderId: null,
    mandateId: null,
    shopperId: null,
    conversationId: null,
    status: null,
    total: 0,
    placedAt: null,
    payments: [],
  },

  decide(command, state): EventDraft[] {
    switch (command.type) {
      case 'CancelOrder': {
        if (state.orderId === null || state.shopperId !== command.shopperId) {
          throw new OrderCancellationRefused(`no order ${command.orderId}`);
        }
        if (state.status !== 'pending') throw new OrderCancellationRefused(`the order is ${state.status}, not pending`);
        const age = command.now.getTime() - Date.parse(state.placedAt!);
        if (age > command.undoWindowSeconds * 1000) {
          throw new OrderCancellationRefused(
            `the ${Math.round(command.undoWindowSeconds / 60)}-minute undo window has passed; ask after-sales to cancel`,
          );
        }
        return [
          {
            type: OrderCancelled.type,
            payload: {
              conversationId: state.conversationId!,
              turnId: `cancel-${state.orderId}`,
              orderId: state.orderId,
              shopperId: state.shopperId,
              reason: command.reason,
              withinUndoWindow: true,
              refunds: state.payments.map((p) => ({ ...p })),
            } satisfies PayloadOf<typeof OrderCancelled>,
          },
        ];
      }
      case 'PlaceOrder': {
        const { payment, orderId } = command;
        if (state.orderId !== null) {
          // The same payment again (redelivery, a retried handler): the order exists, nothing to do.
          if (state.mandateId === payment.mandateId) return [];
          throw new OrderIdCollisionError(orderId, payment.mandateId);
        }
        if (!ORDER_ID_PATTERN.test(orderId)) throw new InvalidOrderCommandError(`malformed order id ${orderId}`);
        const { summary } = payment;
        if (payment.amount !== summary.total) {
          throw new InvalidOrderCommandError(`payment ${payment.amount} is not the approved total ${summary.total}`);
        }
        return [
          {
            type: OrderPlaced.type,
            payload: {
              conversationId: payment.conversationId,
              turnId: payment.turnId,
              orderId,
              shopperId: payment.shopperId,
              cartId: payment.cartId,
              mandateId: payment.mandateId,
              paymentId: payment.paymentId,
              items: expandLines(summary),
              shipping: summary.shipping,
              tax: summary.tax,
              total: payment.amount,
              address: { ...command.address },
              paymentHistory: [
                { transactionType: 'payment', amount: payment.amount, paymentMethodId: payment.paymentMethodId },
              ],
              status: 'pending',
            } satisfies PayloadOf<typeof OrderPlaced>,
          },
        ];
      }
    }
  },

  evolve(state, event: EventEnvelope): OrderState {
    switch (event.type) {
      case OrderPlaced.type: {
        const p = event.payload as PayloadOf<typeof OrderPlaced>;
        return {
          orderId: p.orderId,
          mandateId: p.mandateId,
          shopperId: p.shopperId,
          conversationId: p.conversationId,
          status: p.status,
          total: p.total,
          placedAt: event.occurredAt,
          payments: p.paymentHistory
            .filter((h) => h.transactionType === 'payment')
            .map((h) => ({ amount: h.amount, paymentMethodId: h.paymentMethodId })),
        };
      }
      case OrderCancelled.type:
        return { ...state, status: 'cancelled' };
      default:
        return state;
    }
  },
};
