import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ShoppingIntent } from '@assent/contracts';
import { loadProducts, toCents } from '@assent/taubench';
import { RulesIntentModel } from './rules-intent-model';
import type { DialogueContext, SuggestionRef, Understanding } from './types';
import { vocabularyFromProducts } from './vocabulary';

/**
 * Plays the intent cases (../shared/intents format, kept in libs/testing/data) through the rules model.
 * A small reference filter stands in for the catalog: it applies the intent as hard constraints, so
 * a case passes only if the constraints the model extracted select the right items, the way
 * ../shared/intents/score.mjs judges the agent's answers.
 */

interface Expect {
  kind: 'suggestions' | 'no_match' | 'clarification' | 'confirmation_required' | 'no_order';
  product?: string[];
  options?: Record<string, string[]>;
  max_price?: number;
  min_price?: number;
  forbid_products?: string[];
  available_only?: boolean;
  cheapest_first?: boolean;
}
interface Case {
  id: string;
  turns: string[];
  expect: Expect;
}

interface Item extends SuggestionRef {
  available: boolean;
}

const TEST_DATA = join(__dirname, '..', '..', '..', '..', '..', 'libs', 'testing', 'data');
const readCases = (file: string): Case[] =>
  readFileSync(join(TEST_DATA, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Case);

const products = loadProducts();
const vocabulary = vocabularyFromProducts(products);
const catalog: Item[] = Object.values(products).flatMap((p) =>
  Object.values(p.variants).map((v) => ({
    itemId: v.item_id,
    productId: p.product_id,
    name: p.name,
    price: toCents(v.price),
    options: v.options,
    available: v.available,
  })),
);
const model = new RulesIntentModel();

/** What a catalog honouring the intent's hard constraints returns: available items only, cheapest first when asked. */
function referenceFilter(intent: ShoppingIntent, limit = 5): Item[] {
  if (intent.productTypes.length === 0) return [];
  const fits = catalog.filter(
    (it) =>
      it.available &&
      intent.productTypes.includes(it.name) &&
      !intent.excludedProductTypes.includes(it.name) &&
      Object.entries(intent.requiredOptions).every(([k, vs]) => vs.includes(it.options[k])) &&
      Object.entries(intent.excludedOptions).every(([k, vs]) => !vs.includes(it.options[k])) &&
      (intent.minPrice === null || it.price >= intent.minPrice) &&
      (intent.maxPrice === null || it.price <= intent.maxPrice),
  );
  if (intent.priceSensitive) fits.sort((a, b) => a.price - b.price);
  return fits.slice(0, limit);
}

/** Why an item breaks the expectation, as score.mjs words it, or null. */
function breaks(e: Expect, it: Item): string | null {
  if (e.product && !e.product.includes(it.name)) return `product ${it.name} not in ${e.product.join(', ')}`;
  for (const [k, vals] of Object.entries(e.options ?? {})) {
    if (!vals.includes(it.options[k])) return `option ${k}=${it.options[k]} not in ${vals.join(', ')}`;
  }
  if (e.max_price != null && it.price > toCents(e.max_price)) return `price ${it.price} > ${e.max_price}`;
  if (e.min_price != null && it.price < toCents(e.min_price)) return `price ${it.price} < ${e.min_price}`;
  if (e.available_only && !it.available) return 'not available';
  if ((e.forbid_products ?? []).includes(it.name)) return `forbidden product ${it.name}`;
  return null;
}

interface Played {
  understandings: Understanding[];
  lastShown: Item[];
  cart: Item[];
  orderPlaced: boolean;
  pendingConfirmation: boolean;
}

/** Runs the turns with a simulated conversation: searches show filtered items, picks fill a cart. */
async function play(turns: string[]): Promise<Played> {
  const context: DialogueContext = { lastIntent: null, suggestions: [], cart: [], pendingConfirmation: false };
  const understandings: Understanding[] = [];
  let lastShown: Item[] = [];
  const cart: Item[] = [];
  let orderPlaced = false;
  for (const text of turns) {
    const u = await model.understand({ text, context, vocabulary });
    understandings.push(u);
    lastShown = [];
    switch (u.kind) {
      case 'search':
        context.lastIntent = u.intent;
        lastShown = referenceFilter(u.intent);
        context.suggestions = lastShown.map(({ available: _available, ...s }) => s);
        break;
      case 'add_to_cart': {
        const it = catalog.find((i) => i.itemId === u.itemId);
        if (!it) throw new Error(`add_to_cart of unknown item ${u.itemId}`);
        cart.push(it);
        context.cart.push({ itemId: it.itemId, name: it.name, quantity: u.quantity });
        break;
      }
      case 'checkout':
        context.pendingConfirmation = cart.length > 0;
        break;
      case 'confirm':
        // Only a yes to a pending summary buys anything (decided by the conversation, not the model).
        if (context.pendingConfirmation) orderPlaced = true;
        context.pendingConfirmation = false;
        break;
      case 'decline':
        context.pendingConfirmation = false;
        break;
      default:
        break;
    }
  }
  return { understandings, lastShown, cart, orderPlaced, pendingConfirmation: context.pendingConfirmation };
}

/** The scorer's verdict on the final turn, or null when it passes. */
function judge(c: Case, p: Played): string | null {
  const e = c.expect;
  const last = p.understandings[p.understandings.length - 1];
  const detail = JSON.stringify(last);
  if (p.orderPlaced && e.kind !== 'confirmation_required') return 'an order was placed';
  switch (e.kind) {
    case 'suggestions': {
      if (last.kind !== 'search') return `kind ${last.kind}, expected a search: ${detail}`;
      if (p.lastShown.length === 0) return `no suggestions for ${detail}`;
      for (const it of p.lastShown) {
        const why = breaks(e, it);
        if (why) return `suggestion ${it.itemId}: ${why} (${detail})`;
      }
      if (e.cheapest_first) {
        const min = Math.min(...catalog.filter((it) => !breaks(e, it)).map((it) => it.price));
        if (p.lastShown[0].price > min) return `first suggestion costs ${p.lastShown[0].price}, cheapest match ${min}`;
      }
      return null;
    }
    case 'no_match': {
      if (last.kind !== 'search') return `kind ${last.kind}, expected a search that finds nothing: ${detail}`;
      if (p.lastShown.length > 0) return `expected no match, got ${p.lastShown.map((i) => i.name).join(', ')}`;
      const forbidden = last.intent.productTypes.filter((t) => (e.forbid_products ?? []).includes(t));
      if (forbidden.length > 0) return `substituted ${forbidden.join(', ')}`;
      // Nothing shown and nothing the shopper refused may come back as a relaxation either.
      const relaxed = referenceFilter({ ...last.intent, minPrice: null, maxPrice: null, requiredOptions: {} }, 50);
      const bad = relaxed.find((it) => (e.forbid_products ?? []).includes(it.name));
      return bad ? `a relaxation would offer forbidden ${bad.name}` : null;
    }
    case 'clarification':
      return last.kind === 'clarify' ? null : `kind ${last.kind}, expected clarify: ${detail}`;
    case 'no_order':
      return null;
    case 'confirmation_required': {
      if (last.kind !== 'checkout') return `kind ${last.kind}, expected checkout: ${detail}`;
      if (!p.pendingConfirmation || p.cart.length === 0) return 'checkout with an empty cart';
      const wrong = p.cart.find((it) => e.product && !e.product.includes(it.name));
      return wrong ? `cart has ${wrong.name}` : null;
    }
    default:
      return `unknown expected kind ${String(e.kind)}`;
  }
}

describe.each([
  ['intent-cases.dev.jsonl', 28],
  ['intent-cases.wide.jsonl', 100],
])('intent cases %s', (file, atLeast) => {
  const cases = readCases(file);

  it(`has at least ${atLeast} conversations with unique ids`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(atLeast);
    expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
  });

  it.each(cases.map((c) => [c.id, c] as const))('%s', async (_id, c) => {
    const played = await play(c.turns);
    expect(judge(c, played)).toBeNull();
  });
});
