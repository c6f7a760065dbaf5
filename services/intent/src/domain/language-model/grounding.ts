import { shoppingIntent, type ShoppingIntent } from '@assent/contracts';
import { CONFIDENCE, type UnderstandInput, type Understanding } from '../understanding';
import {
  GENERIC_HEADS,
  GENERIC_VALUE_WORDS,
  PRODUCT_SYNONYMS,
  STOPWORDS,
  UNSOLD_NOUNS,
} from '../understanding/lexicon';
import { phraseNorms, tokenize } from '../understanding/text';
import { proposalIntent, proposalToUnderstanding, type IntentProposal } from './proposal';

/**
 * Grounding: the model proposes, the catalog and the shopper's own words dispose.
 *
 * 1. `groundInCatalog` drops every product, option, value or item the model names that does not
 *    exist (in the vocabulary, the suggestions shown, the cart): an invented name is noise, not intent.
 * 2. `trustProposal` compares what is left with the rules model's reading of the same utterance. The
 *    model may equal or narrow that reading, and only with constraints the shopper stated (in this
 *    message or earlier in the conversation). Anything else is a contradiction of the shopper's words
 *    (an upsell, a raised budget, a dropped refusal, a confirmation nobody gave), and the whole
 *    proposal is rejected rather than repaired: a model that misread one thing may have misread more.
 */

export type Grounding =
  | { trusted: true; understanding: Understanding; dropped: string[] }
  | { trusted: false; reason: string; dropped: string[] };

/** Kinds that lead to an action on the shopper's cart or order: the rules reading alone may call them. */
const DIALOGUE_ACTS: ReadonlySet<string> = new Set([
  'add_to_cart',
  'remove_from_cart',
  'checkout',
  'confirm',
  'decline',
  'show_cart',
  'help',
]);

const dollars = (cents: number | null): string => (cents === null ? 'none' : `$${(cents / 100).toFixed(2)}`);
const lower = (s: string): string => s.trim().toLowerCase();

function canonical(name: string, known: readonly string[]): string | undefined {
  const n = lower(name);
  return known.find((k) => lower(k) === n);
}

/** Drops what the catalog and the conversation do not have; canonicalizes the spelling of what they do. */
export function groundInCatalog(
  proposal: IntentProposal,
  input: Pick<UnderstandInput, 'context' | 'vocabulary'>,
): { proposal: IntentProposal; dropped: string[] } {
  const { vocabulary, context } = input;
  const dropped: string[] = [];
  const names = vocabulary.map((v) => v.name);
  const products = (list: string[]): string[] => {
    const out: string[] = [];
    for (const p of list) {
      const c = canonical(p, names);
      if (c === undefined) dropped.push(`product type "${p}"`);
      else if (!out.includes(c)) out.push(c);
    }
    return out;
  };
  const productTypes = products(proposal.product_types);
  const excludedProductTypes = products(proposal.excluded_product_types);

  // Options are those of the products in question: the proposal's, else the conversation's, else any.
  const scope = productTypes.length > 0 ? productTypes : (context.lastIntent?.productTypes ?? []);
  const inScope = vocabulary.filter((v) => scope.length === 0 || scope.includes(v.name));
  const options = (record: Record<string, string[]>): Record<string, string[]> => {
    const out: Record<string, string[]> = {};
    for (const [option, values] of Object.entries(record)) {
      const carriers = inScope.filter((v) => canonical(option, Object.keys(v.options)) !== undefined);
      if (carriers.length === 0) {
        dropped.push(`option "${option}"`);
        continue;
      }
      const name = canonical(option, Object.keys(carriers[0].options)) ?? option;
      const known = [...new Set(carriers.flatMap((v) => v.options[canonical(option, Object.keys(v.options)) ?? '']))];
      for (const value of values) {
        const c = canonical(value, known);
        if (c === undefined) dropped.push(`${name} "${value}"`);
        else if (!(out[name] ??= []).includes(c)) out[name].push(c);
      }
    }
    return out;
  };
  const requiredOptions = options(proposal.required_options);
  const excludedOptions = options(proposal.excluded_options);

  let reference = proposal.item_reference;
  if (reference) {
    const listed = [...context.suggestions, ...context.cart];
    const list = proposal.kind === 'remove_from_cart' ? context.cart : context.suggestions;
    let { item_id: itemId, position } = reference;
    if (itemId !== null && !listed.some((l) => l.itemId === itemId)) {
      dropped.push(`item "${itemId}"`);
      itemId = null;
    }
    if (position !== null && position > list.length) {
      dropped.push(`position ${position}`);
      position = null;
    }
    reference = itemId === null && position === null ? null : { item_id: itemId, position };
  }

  let minPrice = proposal.min_price;
  let maxPrice = proposal.max_price;
  if (minPrice !== null && maxPrice !== null && minPrice > maxPrice) {
    dropped.push(`budget $${minPrice}-$${maxPrice} (minimum above maximum)`);
    minPrice = null;
    maxPrice = null;
  }

  return {
    proposal: {
      ...proposal,
      product_types: productTypes,
      excluded_product_types: excludedProductTypes,
      required_options: requiredOptions,
      excluded_options: excludedOptions,
      min_price: minPrice,
      max_price: maxPrice,
      item_reference: reference,
    },
    dropped,
  };
}

/** What the shopper's words contain, for "did they say so?" checks. */
interface Said {
  norms: Set<string>;
  raw: Set<string>;
  /** Every number in the text (money or not), as a shopper may write a budget. */
  numbers: number[];
}

function said(text: string): Said {
  const tokens = tokenize(text);
  return {
    norms: new Set(tokens.map((t) => t.norm)),
    raw: new Set(tokens.map((t) => t.raw)),
    numbers: tokens.filter((t) => t.kind === 'number' && !t.unit && t.value !== undefined).map((t) => t.value ?? 0),
  };
}

const distinctive = (norms: string[], generic: ReadonlySet<string>): string[] =>
  norms.filter((n) => n.length >= 3 && !generic.has(n) && !STOPWORDS.has(n));

/** The shopper named the product: a distinctive word of its name ("coffee" for Coffee Maker) or a synonym. */
function productStated(product: string, s: Said): boolean {
  const norms = phraseNorms(product);
  const words = distinctive(norms, GENERIC_HEADS);
  if (words.length > 0 ? words.some((w) => s.norms.has(w)) : norms.every((n) => s.norms.has(n))) return true;
  return PRODUCT_SYNONYMS.some(
    (syn) => syn.products.includes(product) && syn.phrases.some((ph) => phraseNorms(ph).every((n) => s.norms.has(n))),
  );
}

/** The shopper named the value ("steel" for stainless steel, "4 cups"), or the option of a yes/no value. */
function valueStated(option: string, value: string, s: Said): boolean {
  const words = distinctive(phraseNorms(value), GENERIC_VALUE_WORDS);
  const numbers = phraseNorms(value).filter((n) => /^\d/.test(n));
  if (words.length > 0 || numbers.length > 0) return [...words, ...numbers].some((w) => s.norms.has(w));
  return distinctive(phraseNorms(option), GENERIC_VALUE_WORDS).some((w) => s.norms.has(w));
}

/** The shopper wrote this amount ("$250", "250 dollars", "249.99"). */
function amountStated(cents: number, s: Said): boolean {
  return s.numbers.some((n) => Math.round(n * 100) === cents || Math.round(n) === Math.round(cents / 100));
}

const noIntent = (): ShoppingIntent => shoppingIntent();

/**
 * Whether a grounded proposal may stand in for the rules reading of the same utterance, and the
 * Understanding it yields when it may. See the module comment for the policy.
 */
export function trustProposal(proposal: IntentProposal, rules: Understanding, input: UnderstandInput): Grounding {
  const untrusted = (reason: string): Grounding => ({ trusted: false, reason, dropped: [] });
  const model = proposalToUnderstanding(proposal, input.context);

  if (DIALOGUE_ACTS.has(proposal.kind) || DIALOGUE_ACTS.has(rules.kind)) {
    // The model never causes a side effect: an act stands only when the shopper's words alone say so.
    if (model.kind !== rules.kind) {
      return untrusted(`the model reads ${proposal.kind}, the shopper's words read ${rules.kind}`);
    }
    if (JSON.stringify(model) !== JSON.stringify(rules)) {
      return untrusted(`the model's ${proposal.kind} (${JSON.stringify(model)}) differs from the shopper's words`);
    }
    return { trusted: true, understanding: rules, dropped: [] };
  }
  if (proposal.kind === 'clarify') {
    return rules.kind === 'clarify'
      ? { trusted: true, understanding: rules, dropped: [] }
      : untrusted('the model asks to clarify a message the rules reading understood');
  }
  if (rules.kind === 'clarify' && rules.reason !== 'vague') {
    // Empty, garbled, too long, an injection or an after-sales request: not a search, whatever the model says.
    return untrusted(`the message is not a search (${rules.reason})`);
  }
  if (model.kind !== 'search') return untrusted(`unexpected proposal kind ${proposal.kind}`);

  const s = said(input.text);
  const last = input.context.lastIntent;
  const base = rules.kind === 'search' ? rules.intent : noIntent();
  const m = proposalIntent(proposal);

  // Products: a subset of what the shopper asked for; or, when the rules reading names none, ones the
  // shopper (or the conversation) named.
  if (base.productTypes.length > 0) {
    const extra = m.productTypes.filter((p) => !base.productTypes.includes(p));
    if (m.productTypes.length === 0) return untrusted(`the model drops the product (${base.productTypes.join(', ')})`);
    if (extra.length > 0) {
      return untrusted(`the model proposes ${extra.join(', ')}; the shopper asked for ${base.productTypes.join(', ')}`);
    }
  } else {
    const shown = new Set([
      ...(last?.productTypes ?? []),
      ...input.context.suggestions.map((x) => x.name),
      ...input.context.cart.map((x) => x.name),
    ]);
    const unsold = [...s.raw].find((w) => UNSOLD_NOUNS.has(w));
    for (const p of m.productTypes) {
      if (shown.has(p)) continue;
      if (unsold) return untrusted(`the shopper asked for a ${unsold}; the model maps it onto ${p}`);
      if (!productStated(p, s)) return untrusted(`the model proposes ${p}; the shopper did not ask for it`);
    }
  }
  for (const p of base.excludedProductTypes) {
    if (!m.excludedProductTypes.includes(p)) return untrusted(`the model drops the shopper's refusal of ${p}`);
  }
  const refused = m.productTypes.filter((p) => base.excludedProductTypes.includes(p));
  if (refused.length > 0) return untrusted(`the model proposes ${refused.join(', ')}, which the shopper refused`);

  // Options: every constraint the shopper stated is kept (or narrowed); every new one was stated.
  const stated = (source: Record<string, string[]> | undefined, option: string, value: string): boolean =>
    source?.[option]?.includes(value) === true;
  for (const [option, values] of Object.entries(base.requiredOptions)) {
    const mine = m.requiredOptions[option];
    if (!mine) return untrusted(`the model drops ${option} ${values.join(' or ')}`);
    const widened = mine.filter((v) => !values.includes(v));
    if (widened.length > 0) {
      return untrusted(
        `the model asks for ${option} ${widened.join(', ')}; the shopper asked for ${values.join(' or ')}`,
      );
    }
  }
  for (const [option, values] of Object.entries(m.requiredOptions)) {
    for (const v of values) {
      if (base.excludedOptions[option]?.includes(v)) {
        return untrusted(`the model requires ${option} ${v}, which the shopper refused`);
      }
      // Keeping the shopper's values as they are needs no support; picking some of them does.
      const narrowed = values.length < (base.requiredOptions[option]?.length ?? 0);
      if (stated(base.requiredOptions, option, v) && !narrowed) continue;
      if (stated(last?.requiredOptions, option, v) || valueStated(option, v, s)) continue;
      return untrusted(`the model adds ${option} ${v}; the shopper did not say so`);
    }
  }
  for (const [option, values] of Object.entries(base.excludedOptions)) {
    const dropped = values.filter((v) => !m.excludedOptions[option]?.includes(v));
    if (dropped.length > 0)
      return untrusted(`the model drops the shopper's refusal of ${option} ${dropped.join(', ')}`);
  }
  for (const [option, values] of Object.entries(m.excludedOptions)) {
    for (const v of values) {
      if (stated(base.excludedOptions, option, v) || stated(last?.excludedOptions, option, v)) continue;
      if (!valueStated(option, v, s)) return untrusted(`the model refuses ${option} ${v}; the shopper did not say so`);
    }
  }

  // Budget: never raised or dropped; a new or tighter bound must be one the shopper wrote.
  const boundStated = (cents: number, previous: number | null | undefined): boolean =>
    cents === previous || amountStated(cents, s);
  if (base.maxPrice !== null) {
    if (m.maxPrice === null) return untrusted(`the model drops the budget (at most ${dollars(base.maxPrice)})`);
    if (m.maxPrice > base.maxPrice) {
      return untrusted(`the model raises the budget from ${dollars(base.maxPrice)} to ${dollars(m.maxPrice)}`);
    }
  }
  if (m.maxPrice !== null && m.maxPrice !== base.maxPrice && !boundStated(m.maxPrice, last?.maxPrice)) {
    return untrusted(`the model sets a budget of at most ${dollars(m.maxPrice)}; the shopper did not say so`);
  }
  if (base.minPrice !== null) {
    if (m.minPrice === null) return untrusted(`the model drops the minimum price (${dollars(base.minPrice)})`);
    if (m.minPrice < base.minPrice) {
      return untrusted(`the model lowers the minimum price from ${dollars(base.minPrice)} to ${dollars(m.minPrice)}`);
    }
  }
  if (m.minPrice !== null && m.minPrice !== base.minPrice && !boundStated(m.minPrice, last?.minPrice)) {
    return untrusted(`the model sets a minimum price of ${dollars(m.minPrice)}; the shopper did not say so`);
  }

  // Quantity decides how many get added later: it is the shopper's number, never the model's.
  if (m.quantity !== base.quantity && !(rules.kind !== 'search' && amountStated(m.quantity * 100, s))) {
    return untrusted(`the model reads a quantity of ${m.quantity}; the shopper's words read ${base.quantity}`);
  }

  const sameProducts = rules.kind === 'search' && base.productTypes.length > 0;
  return {
    trusted: true,
    dropped: [],
    understanding: {
      kind: 'search',
      intent: {
        ...m,
        // Ranking only, and the shopper's words win: "cheap" is never dropped.
        priceSensitive: m.priceSensitive || base.priceSensitive,
        // Keywords are free text: the model's would be an injection channel into relevance.
        keywords: base.keywords,
      },
      refinement: rules.kind === 'search' ? rules.refinement : false,
      confidence: sameProducts ? rules.confidence : CONFIDENCE.inferred,
    },
  };
}

/** Both steps: drop what does not exist, then decide whether what is left can be trusted. */
export function groundProposal(proposal: IntentProposal, input: UnderstandInput, rules: Understanding): Grounding {
  const catalog = groundInCatalog(proposal, input);
  const verdict = trustProposal(catalog.proposal, rules, input);
  return { ...verdict, dropped: catalog.dropped };
}
