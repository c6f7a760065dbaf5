import { z } from 'zod';
import { defineEvent } from '../registry';
import { ItemId, ShopperId, ShoppingIntent, TurnAnswer, TurnRef } from './common';

/** The shopper's own words, the root of every causal chain. */
export const UtteranceReceived = defineEvent({
  type: 'intent.UtteranceReceived',
  versions: [{ schema: TurnRef.extend({ shopperId: ShopperId, text: z.string().max(4000) }) }],
});

const ModelInfo = z.object({ name: z.string(), version: z.string() });

/** A search request understood from the utterance (and the dialogue before it). */
export const IntentCaptured = defineEvent({
  type: 'intent.IntentCaptured',
  versions: [
    {
      schema: TurnRef.extend({
        shopperId: ShopperId,
        intent: ShoppingIntent,
        refinesTurnId: z.string().nullable(),
        confidence: z.number().min(0).max(1),
        model: ModelInfo,
        /** Set when the configured language model could not be used and the rules model answered. */
        fallback: z.object({ from: z.string(), reason: z.string() }).nullable(),
        /** How long understanding took (model call included). */
        modelMs: z.number().nonnegative(),
      }),
    },
  ],
});

export const ClarificationRequested = defineEvent({
  type: 'intent.ClarificationRequested',
  versions: [{ schema: TurnRef.extend({ question: z.string().max(1000), reason: z.string().max(200) }) }],
});

/** "add the first one": the shopper picked a suggested item; the suggestion event is the cause. */
export const CartItemRequested = defineEvent({
  type: 'intent.CartItemRequested',
  versions: [
    {
      schema: TurnRef.extend({
        shopperId: ShopperId,
        itemId: ItemId,
        quantity: z.number().int().min(1).max(100),
        suggestionEventId: z.string(),
      }),
    },
  ],
});

export const CartItemRemovalRequested = defineEvent({
  type: 'intent.CartItemRemovalRequested',
  versions: [{ schema: TurnRef.extend({ shopperId: ShopperId, itemId: ItemId }) }],
});

export const CheckoutAsked = defineEvent({
  type: 'intent.CheckoutAsked',
  versions: [{ schema: TurnRef.extend({ shopperId: ShopperId }) }],
});

/** The shopper's answer to a pending confirmation; only consent decides what it is worth. */
export const ConfirmationAnswered = defineEvent({
  type: 'intent.ConfirmationAnswered',
  versions: [
    {
      schema: TurnRef.extend({
        shopperId: ShopperId,
        confirmationId: z.string(),
        nonce: z.string(),
        answer: z.enum(['yes', 'no']),
        /** The step-up code the shopper typed, when one was sent; consent compares it with its hash. */
        code: z
          .string()
          .regex(/^\d{6}$/)
          .optional(),
      }),
    },
  ],
});

/** What a turn changed in the dialogue state the next turns are understood against. */
export const DialogueUpdate = z.object({
  /** The search this turn answered, for refinements ("keep it under $210"). */
  intent: ShoppingIntent.optional(),
  /** The suggestion event whose items the shopper can now refer to ("the first one"). */
  suggestionEventId: z.string().optional(),
  cartAdded: z.object({ itemId: ItemId, name: z.string(), quantity: z.number().int().min(1) }).optional(),
  cartRemoved: ItemId.optional(),
  cartCleared: z.boolean().optional(),
  /** true: the answer's confirmation is now pending; false: no confirmation is pending any more. */
  confirmationPending: z.boolean().optional(),
  /** The pending confirmation now waits for the one-time code. */
  stepUpPending: z.boolean().optional(),
});
export type DialogueUpdate = z.infer<typeof DialogueUpdate>;

/** The turn's final answer, as returned to the shopper, and what it changed in the dialogue. */
export const TurnAnswered = defineEvent({
  type: 'intent.TurnAnswered',
  versions: [
    {
      schema: TurnRef.extend({
        answer: TurnAnswer,
        dialogue: DialogueUpdate,
        /** Where the turn's time went: understanding, the catalog search, and utterance to answer. */
        timings: z.object({
          modelMs: z.number().nonnegative().nullable(),
          catalogMs: z.number().nonnegative().nullable(),
          totalMs: z.number().nonnegative(),
        }),
      }),
    },
  ],
});

export const intentEvents = [
  UtteranceReceived,
  IntentCaptured,
  ClarificationRequested,
  CartItemRequested,
  CartItemRemovalRequested,
  CheckoutAsked,
  ConfirmationAnswered,
  TurnAnswered,
];
