import { z } from 'zod';
import { defineEvent } from '../registry';
import { CartSummary, ShopperId, TurnRef } from './common';

const ConfirmationRef = TurnRef.extend({ confirmationId: z.string(), shopperId: ShopperId, cartId: z.string() });

/** The shopper is asked to approve exactly this summary; only an answer carrying the nonce counts. */
export const ConfirmationRequested = defineEvent({
  type: 'consent.ConfirmationRequested',
  versions: [
    {
      schema: ConfirmationRef.extend({
        nonce: z.string().min(16),
        summary: CartSummary,
        cartHash: z.string(),
        expiresAt: z.iso.datetime({ offset: true }),
      }),
    },
  ],
});

/** The shopper approved the exact cart: payment may charge exactly this amount, once. */
export const CartMandateGranted = defineEvent({
  type: 'consent.CartMandateGranted',
  versions: [
    {
      schema: ConfirmationRef.extend({
        mandateId: z.string(),
        summary: CartSummary,
        cartHash: z.string(),
        amount: z.number().int().nonnegative(),
        currency: z.literal('USD'),
        merchant: z.string(),
        expiresAt: z.iso.datetime({ offset: true }),
      }),
    },
  ],
});

/** A "no", a stale or foreign answer, or an expired confirmation: nothing is bought. */
export const ConsentRefused = defineEvent({
  type: 'consent.ConsentRefused',
  versions: [
    {
      schema: ConfirmationRef.extend({
        code: z.enum(['declined', 'expired', 'unknown', 'not_yours', 'already_granted', 'closed', 'nonce_mismatch']),
        reason: z.string(),
      }),
    },
  ],
});

export const consentEvents = [ConfirmationRequested, CartMandateGranted, ConsentRefused];
