import { z } from 'zod';
import { defineEvent } from '../registry';
import { ItemId, ItemOptions, MinorUnits, ShopperId, TurnRef } from './common';

/** One unit of an order, as the τ-bench retail order lists items (a quantity of 2 is two entries). */
export const OrderItem = z.object({
  itemId: ItemId,
  productId: z.string(),
  name: z.string(),
  options: ItemOptions,
  price: MinorUnits,
});

export const ShippingAddress = z.object({
  address1: z.string(),
  address2: z.string(),
  city: z.string(),
  state: z.string(),
  country: z.string(),
  zip: z.string(),
});

export const PaymentHistoryEntry = z.object({
  transactionType: z.enum(['payment', 'refund']),
  amount: MinorUnits,
  paymentMethodId: z.string(),
});

export const OrderPlaced = defineEvent({
  type: 'aftersales.OrderPlaced',
  versions: [
    {
      schema: TurnRef.extend({
        orderId: z.string(),
        shopperId: ShopperId,
        cartId: z.string(),
        mandateId: z.string(),
        paymentId: z.string(),
        items: z.array(OrderItem).min(1),
        shipping: MinorUnits,
        tax: MinorUnits,
        total: MinorUnits,
        address: ShippingAddress,
        paymentHistory: z.array(PaymentHistoryEntry).min(1),
        status: z.literal('pending'),
      }),
    },
  ],
});

/** Cancelled while still pending; each payment is refunded to where it came from. */
export const OrderCancelled = defineEvent({
  type: 'aftersales.OrderCancelled',
  versions: [
    {
      schema: TurnRef.extend({
        orderId: z.string(),
        shopperId: ShopperId,
        reason: z.enum(['no longer needed', 'ordered by mistake']),
        /** Inside the undo window the cancellation costs nothing and needs no review. */
        withinUndoWindow: z.boolean(),
        refunds: z.array(z.object({ amount: MinorUnits, paymentMethodId: z.string() })),
      }),
    },
  ],
});

export const aftersalesEvents = [OrderPlaced, OrderCancelled];
