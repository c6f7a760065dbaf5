import { z } from 'zod';
import { defineEvent } from '../registry';
import { AlternativeItem, ItemId, ItemOptions, MinorUnits, ShoppingIntent, SuggestedItem, TurnRef } from './common';

export const CatalogVariant = z.object({
  itemId: ItemId,
  options: ItemOptions,
  price: MinorUnits,
  available: z.boolean(),
});
export type CatalogVariant = z.infer<typeof CatalogVariant>;

/** A product as the catalog sells it; other services keep their own projections (vocabulary, prices). */
export const ProductCatalogued = defineEvent({
  type: 'catalog.ProductCatalogued',
  versions: [
    {
      schema: z.object({
        productId: z.string(),
        name: z.string(),
        variants: z.array(CatalogVariant).max(1000),
      }),
    },
  ],
});

/** What an auditor needs to know why these items were suggested. */
const SearchRecord = TurnRef.extend({
  intent: ShoppingIntent,
  /** The text query the search ran (product types and keywords). */
  query: z.string(),
  /** The hard constraints in words, as checked against every candidate. */
  constraints: z.array(z.string()),
  candidatesConsidered: z.number().int().nonnegative(),
  rankerVersion: z.string(),
  modelVersion: z.string(),
  /** How long the search and ranking took. */
  searchMs: z.number().nonnegative().optional(),
});

export const ProductsSuggested = defineEvent({
  type: 'catalog.ProductsSuggested',
  versions: [{ schema: SearchRecord.extend({ items: z.array(SuggestedItem).min(1).max(50) }) }],
});

/** Nothing satisfies every hard constraint; alternatives, if any, are labelled with what they break. */
export const NoMatchFound = defineEvent({
  type: 'catalog.NoMatchFound',
  versions: [{ schema: SearchRecord.extend({ reason: z.string(), alternatives: z.array(AlternativeItem).max(20) }) }],
});

export const catalogEvents = [ProductCatalogued, ProductsSuggested, NoMatchFound];
