import { z } from 'zod';
import { defineEvent } from '../registry';
import { CartSummary, ShoppingIntent, ShopperId, TurnRef } from './common';

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
        lineChanges: z.number().int().nonnegative(),
        intentMandateIds: z.array(z.string()).min(1),
        ceiling: z.number().int().nonnegative(),
        /** Above the step-up threshold a "yes" also needs a one-time code sent out of band. */
        stepUp: z.boolean(),
        expiresAt: z.iso.datetime({ offset: true }),
      }),
    },
  ],
});

/**
 * What the shopper asked for (a search), recorded as the bounds of anything bought for it: product
 * types, required and excluded attributes, price ceiling, expiry, and the same in plain words.
 */
export const IntentMandateCreated = defineEvent({
  type: 'consent.IntentMandateCreated',
  versions: [
    {
      schema: TurnRef.extend({
        intentMandateId: z.string(),
        shopperId: ShopperId,
        bounds: ShoppingIntent.pick({
          productTypes: true,
          excludedProductTypes: true,
          requiredOptions: true,
          excludedOptions: true,
          maxPrice: true,
        }),
        statement: z.string(),
        expiresAt: z.iso.datetime({ offset: true }),
      }),
    },
  ],
});

/**
 * The shopper approved the exact cart: payment may charge exactly this amount, once. `jws` is the
 * cart mandate signed by consent (Ed25519, key id in its header); payment trusts only what it signs.
 */
export const CartMandateGranted = defineEvent({
  type: 'consent.CartMandateGranted',
  versions: [
    {
      schema: ConfirmationRef.extend({
        mandateId: z.string(),
        summary: CartSummary,
        cartHash: z.string(),
        /** Line-changing events of the cart when it was priced: payment checks the live cart against it. */
        lineChanges: z.number().int().nonnegative(),
        intentMandateIds: z.array(z.string()).min(1),
        /** The most the intent mandates allow for these lines, shipping and tax included. */
        ceiling: z.number().int().nonnegative(),
        amount: z.number().int().nonnegative(),
        currency: z.literal('USD'),
        merchant: z.string(),
        expiresAt: z.iso.datetime({ offset: true }),
        jws: z.string().min(20),
      }),
    },
  ],
});

/** The total is above the step-up threshold: a one-time code went out of band; the answer must carry it. */
export const StepUpRequired = defineEvent({
  type: 'consent.StepUpRequired',
  versions: [{ schema: ConfirmationRef.extend({ channel: z.string(), expiresAt: z.iso.datetime({ offset: true }) }) }],
});

/** A "no", a stale or foreign answer, or an expired confirmation: nothing is bought. */
export const ConsentRefused = defineEvent({
  type: 'consent.ConsentRefused',
  versions: [
    {
      schema: ConfirmationRef.extend({
        code: z.enum([
          'declined',
          'expired',
          'unknown',
          'not_yours',
          'already_granted',
          'closed',
          'nonce_mismatch',
          'outside_intent',
          'step_up_failed',
          'step_up_locked',
        ]),
        reason: z.string(),
      }),
    },
  ],
});

export const consentEvents = [
  IntentMandateCreated,
  ConfirmationRequested,
  StepUpRequired,
  CartMandateGranted,
  ConsentRefused,
];
