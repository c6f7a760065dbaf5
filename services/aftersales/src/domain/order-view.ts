import { OrderPlaced, PayloadOf } from '@assent/contracts';

type Placed = PayloadOf<typeof OrderPlaced>;

/** One unit of an order; `price` is cents. */
export type OrderLine = Placed['items'][number];
export type OrderAddress = Placed['address'];
/** A payment or refund; `amount` is cents. */
export type PaymentLine = Placed['paymentHistory'][number];

export interface Fulfillment {
  trackingIds: string[];
  itemIds: string[];
}

/** The statuses τ-bench's retail orders go through. */
export const ORDER_STATUSES = [
  'pending',
  'processed',
  'delivered',
  'cancelled',
  'pending (item modified)',
  'return requested',
  'exchange requested',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/**
 * An order as after-sales keeps it: the τ-bench order's fields in camelCase with cents, plus what
 * Assent knows beyond τ-bench (shipping, tax, the mandate it was bought under, where it came from).
 */
export interface OrderView {
  orderId: string;
  userId: string;
  status: OrderStatus;
  items: OrderLine[];
  fulfillments: Fulfillment[];
  paymentHistory: PaymentLine[];
  address: OrderAddress;
  cancelReason: string | null;
  returnItems: string[] | null;
  returnPaymentMethodId: string | null;
  exchangeItems: string[] | null;
  exchangeNewItems: string[] | null;
  exchangePaymentMethodId: string | null;
  /** Cents; negative when the shopper gets money back. */
  exchangePriceDifference: number | null;
  shipping: number;
  tax: number;
  origin: 'seed' | 'assent';
  mandateId: string | null;
  /** ISO 8601; null before the order is stored. */
  createdAt: string | null;
}

/** The read model's row for a freshly placed order. */
export function orderViewFromPlaced(placed: Placed): OrderView {
  return {
    orderId: placed.orderId,
    userId: placed.shopperId,
    status: placed.status,
    items: placed.items,
    fulfillments: [],
    paymentHistory: placed.paymentHistory,
    address: placed.address,
    cancelReason: null,
    returnItems: null,
    returnPaymentMethodId: null,
    exchangeItems: null,
    exchangeNewItems: null,
    exchangePaymentMethodId: null,
    exchangePriceDifference: null,
    shipping: placed.shipping,
    tax: placed.tax,
    origin: 'assent',
    mandateId: placed.mandateId,
    createdAt: null,
  };
}
