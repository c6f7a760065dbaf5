import { z } from 'zod';

/** Money is integer minor units (cents) everywhere inside Assent; dollars exist only at the edges. */
export const MinorUnits = z.number().int().nonnegative();
export const Currency = z.literal('USD');

export const ItemId = z.string().min(1).max(64);
export const ShopperId = z.string().min(1).max(200);

/** Option name to value, as the τ-bench catalog spells them (`{"color": "white", "type": "drip"}`). */
export const ItemOptions = z.record(z.string(), z.string());

/** Which conversation turn an event belongs to, so the turn's answer can be assembled from events. */
export const TurnRef = z.object({
  conversationId: z.string().min(1).max(200),
  turnId: z.string().min(1).max(200),
});
export type TurnRef = z.infer<typeof TurnRef>;

/**
 * What the shopper asked for, as hard constraints the catalog must respect and soft preferences
 * it may rank by. Prices are minor units; `productTypes` are catalog product names.
 */
export const ShoppingIntent = z.object({
  productTypes: z.array(z.string()).max(50),
  excludedProductTypes: z.array(z.string()).max(50),
  /** Option name to the values allowed (any of them). */
  requiredOptions: z.record(z.string(), z.array(z.string()).min(1)),
  /** Option name to values the shopper refused. */
  excludedOptions: z.record(z.string(), z.array(z.string()).min(1)),
  minPrice: MinorUnits.nullable(),
  maxPrice: MinorUnits.nullable(),
  /** "cheap", "good deal", "cheapest": cheapest matching item first. */
  priceSensitive: z.boolean(),
  quantity: z.number().int().min(1).max(100),
  /** Words left after extraction, for full-text relevance only (never a hard filter). */
  keywords: z.array(z.string().max(100)).max(50),
});
export type ShoppingIntent = z.infer<typeof ShoppingIntent>;

/** One line of an exactly priced cart. */
export const PricedLine = z.object({
  itemId: ItemId,
  productId: z.string(),
  name: z.string(),
  options: ItemOptions,
  quantity: z.number().int().min(1).max(100),
  unitPrice: MinorUnits,
  lineTotal: MinorUnits,
});
export type PricedLine = z.infer<typeof PricedLine>;

/** The exact summary a shopper approves: total = sum(lines) + shipping + tax. */
export const CartSummary = z.object({
  lines: z.array(PricedLine).min(1).max(100),
  subtotal: MinorUnits,
  shipping: MinorUnits,
  tax: MinorUnits,
  total: MinorUnits,
  currency: Currency,
});
export type CartSummary = z.infer<typeof CartSummary>;

/** A suggested or alternative catalog item and why it was chosen. */
export const SuggestedItem = z.object({
  itemId: ItemId,
  productId: z.string(),
  name: z.string(),
  options: ItemOptions,
  price: MinorUnits,
  available: z.boolean(),
  /** Human-readable constraints this item satisfies, e.g. `type is french press`, `price ≤ $250.00`. */
  satisfied: z.array(z.string()),
  /** Score parts the ranker added up; `total` orders the list. */
  score: z.record(z.string(), z.number()),
});
export type SuggestedItem = z.infer<typeof SuggestedItem>;

export const AlternativeItem = SuggestedItem.extend({
  /** The constraints this item breaks: it is offered only as a labelled relaxation. */
  broken: z.array(z.string()).min(1),
});
export type AlternativeItem = z.infer<typeof AlternativeItem>;

export const TurnKind = z.enum([
  'suggestions',
  'clarification',
  'no_match',
  'confirmation_required',
  'order_placed',
  'info',
  'error',
]);
export type TurnKind = z.infer<typeof TurnKind>;

/** A turn as the shopper sees it (the batch and HTTP formats of ../shared/intents/README.md derive from it). */
export const TurnAnswer = z.object({
  kind: TurnKind,
  reply: z.string().max(4000),
  suggestions: z.array(SuggestedItem).max(50),
  alternatives: z.array(AlternativeItem).max(50),
  summary: CartSummary.nullable(),
  orderId: z.string().nullable(),
  /** Set when the turn asks the shopper to approve the summary: answering needs this id and nonce. */
  confirmation: z.object({ id: z.string(), nonce: z.string(), expiresAt: z.iso.datetime({ offset: true }) }).nullable(),
});
export type TurnAnswer = z.infer<typeof TurnAnswer>;

/** A ShoppingIntent with nothing asked for but what `partial` says: no constraint is implied by a default. */
export function shoppingIntent(partial: Partial<ShoppingIntent> = {}): ShoppingIntent {
  return {
    productTypes: [],
    excludedProductTypes: [],
    requiredOptions: {},
    excludedOptions: {},
    minPrice: null,
    maxPrice: null,
    priceSensitive: false,
    quantity: 1,
    keywords: [],
    ...partial,
  };
}
