import { z } from 'zod';
import { defineEvent } from '../registry';
import { CartSummary, MinorUnits, ShopperId, TurnRef } from './common';

const PaymentRef = TurnRef.extend({
  paymentId: z.string(),
  mandateId: z.string(),
  shopperId: ShopperId,
  cartId: z.string(),
});

export const PaymentAuthorized = defineEvent({
  type: 'payment.PaymentAuthorized',
  versions: [
    {
      schema: PaymentRef.extend({
        amount: MinorUnits,
        currency: z.literal('USD'),
        paymentMethodId: z.string(),
        providerReference: z.string(),
        summary: CartSummary,
      }),
    },
  ],
});

export const PaymentCaptured = defineEvent({
  type: 'payment.PaymentCaptured',
  versions: [{ schema: PaymentRef.extend({ amount: MinorUnits, providerReference: z.string() }) }],
});

export const PaymentRejectionCode = z.enum([
  'invalid_mandate',
  'forged_mandate',
  'expired_mandate',
  'replayed_mandate',
  'cart_changed',
  'over_ceiling',
  'no_payment_method',
  'declined',
]);

/** Nothing was charged. `reconfirm`: the cart changed since the shopper approved it; ask them again. */
export const PaymentRejected = defineEvent({
  type: 'payment.PaymentRejected',
  versions: [{ schema: PaymentRef.extend({ code: PaymentRejectionCode, reason: z.string(), reconfirm: z.boolean() }) }],
});

export const RefundIssued = defineEvent({
  type: 'payment.RefundIssued',
  versions: [
    {
      schema: z.object({
        refundId: z.string(),
        orderId: z.string(),
        shopperId: ShopperId,
        amount: MinorUnits,
        paymentMethodId: z.string(),
        providerReference: z.string(),
      }),
    },
  ],
});

export const paymentEvents = [PaymentAuthorized, PaymentCaptured, PaymentRejected, RefundIssued];
