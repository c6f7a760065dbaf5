import { ShoppingIntent } from '@assent/contracts';

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
