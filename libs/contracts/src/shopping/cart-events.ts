import { z } from 'zod';
import { defineEvent } from '../registry';
import { CartSummary, ItemId, ItemOptions, MinorUnits, ShopperId, TurnRef } from './common';

const CartRef = TurnRef.extend({ cartId: z.string(), shopperId: ShopperId });

/** Caused by the suggestion event the shopper picked from (`causationId`), named again in the payload. */
export const ItemAdded = defineEvent({
  type: 'cart.ItemAdded',
  versions: [
    {
      schema: CartRef.extend({
        itemId: ItemId,
        productId: z.string(),
        name: z.string(),
        options: ItemOptions,
        unitPrice: MinorUnits,
        quantity: z.number().int().min(1).max(100),
        suggestionEventId: z.string(),
      }),
    },
  ],
});

export const ItemRemoved = defineEvent({
  type: 'cart.ItemRemoved',
  versions: [{ schema: CartRef.extend({ itemId: ItemId }) }],
});

/** A cart change the cart refused (unknown or unavailable item, empty cart at checkout...). */
export const CartRequestRefused = defineEvent({
  type: 'cart.CartRequestRefused',
  versions: [{ schema: CartRef.extend({ request: z.enum(['add', 'remove', 'checkout']), reason: z.string() }) }],
});

/** The exact priced summary, with a hash over its canonical form that consent and payment bind to. */
export const CheckoutRequested = defineEvent({
  type: 'cart.CheckoutRequested',
  versions: [
    {
      schema: CartRef.extend({
        summary: CartSummary,
        cartHash: z.string().regex(/^[0-9a-f]{64}$/),
        /** For each item, the suggestion event it was picked from (its intent bounds what may be bought). */
        lineOrigins: z.record(ItemId, z.string()),
        /** How many line-changing events the cart had when priced: a later change makes the mandate stale. */
        lineChanges: z.number().int().nonnegative(),
      }),
    },
  ],
});

/** The cart became an order; it is closed and a new cart starts empty. */
export const CartCheckedOut = defineEvent({
  type: 'cart.CartCheckedOut',
  versions: [{ schema: CartRef.extend({ orderId: z.string() }) }],
});

export const cartEvents = [ItemAdded, ItemRemoved, CartRequestRefused, CheckoutRequested, CartCheckedOut];
