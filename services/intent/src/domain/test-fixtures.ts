/**
 * Fixtures the intent domain's specs share: the τ-bench vocabulary, an empty dialogue, suggestions as
 * the catalog would show them, and a model proposal. Test-only (excluded from the build).
 */
import { loadProducts, toCents } from '@assent/taubench';
import type { IntentProposal } from './language-model/proposal';
import { vocabularyFromProducts, type DialogueContext, type SuggestionRef } from './understanding';

export const products = loadProducts();
export const vocabulary = vocabularyFromProducts(products);

export const fresh = (): DialogueContext => ({
  lastIntent: null,
  suggestions: [],
  cart: [],
  pendingConfirmation: false,
});

/** Suggestions as the catalog would show them: the product's first available variants. */
export function shown(name: string, count = 3): SuggestionRef[] {
  const p = Object.values(products).find((x) => x.name === name);
  if (!p) throw new Error(name);
  return Object.values(p.variants)
    .filter((v) => v.available)
    .slice(0, count)
    .map((v) => ({
      itemId: v.item_id,
      productId: p.product_id,
      name: p.name,
      price: toCents(v.price),
      options: v.options,
    }));
}

/** A search proposal asking for nothing but what `p` says. */
export const proposal = (p: Partial<IntentProposal> = {}): IntentProposal => ({
  kind: 'search',
  product_types: [],
  excluded_product_types: [],
  required_options: {},
  excluded_options: {},
  min_price: null,
  max_price: null,
  price_sensitive: false,
  quantity: 1,
  item_reference: null,
  ...p,
});
