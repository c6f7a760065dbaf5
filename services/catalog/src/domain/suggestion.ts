import { z } from 'zod';
import { EventDraft, IntentCaptured, NoMatchFound, ProductsSuggested, ShoppingIntent } from '@assent/contracts';
import { checkConstraints, formatCents, passes, RankedCandidates } from './ranking';

type CurrentSchema<D> = D extends { versions: [...unknown[], { schema: infer S }] } ? S : never;
type Payload<D> = z.infer<CurrentSchema<D> & z.ZodType>;

export type IntentCapturedPayload = Payload<typeof IntentCaptured>;
export type ProductsSuggestedPayload = Payload<typeof ProductsSuggested>;
export type NoMatchFoundPayload = Payload<typeof NoMatchFound>;

export interface SuggestionVersions {
  ranker: string;
  model: string;
}

/** The search text the catalog ran: the product types and the words left after extraction. */
export function searchQuery(intent: ShoppingIntent): string {
  return [...intent.productTypes, ...intent.keywords]
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .join(' ');
}

/** "Coffee Maker" -> "coffee makers", "Bookshelf" -> "bookshelves"; acronyms keep their case ("TVs"). */
export function pluralize(productName: string): string {
  const words = productName
    .trim()
    .split(/\s+/)
    .map((w) => (w.length > 1 && w === w.toUpperCase() ? w : w.toLowerCase()));
  const last = words.pop() ?? '';
  let plural: string;
  if (last === last.toUpperCase() && /[A-Z]/.test(last)) plural = `${last}s`;
  else if (/shelf$/.test(last)) plural = last.replace(/shelf$/, 'shelves');
  else if (/(ss|sh|ch|x|z)$/.test(last)) plural = `${last}es`;
  else if (/s$/.test(last)) plural = last;
  else if (/[^aeiou]y$/.test(last)) plural = `${last.slice(0, -1)}ies`;
  else plural = `${last}s`;
  return [...words, plural].join(' ');
}

function priceWords(intent: ShoppingIntent): string | null {
  const { minPrice, maxPrice } = intent;
  if (minPrice !== null && maxPrice !== null) return `between ${formatCents(minPrice)} and ${formatCents(maxPrice)}`;
  if (maxPrice !== null) return `under ${formatCents(maxPrice)}`;
  if (minPrice !== null) return `over ${formatCents(minPrice)}`;
  return null;
}

/** A sentence the shopper can read saying why nothing was suggested. */
export function noMatchReason(intent: ShoppingIntent, ranked: RankedCandidates): string {
  const keywords = intent.keywords.map((k) => k.trim()).filter((k) => k.length > 0);
  if (ranked.considered === 0) {
    if (intent.productTypes.length > 0) return `We don't sell ${intent.productTypes.map(pluralize).join(' or ')}`;
    if (keywords.length > 0) return `We don't sell anything matching "${keywords.join(' ')}"`;
    return 'Tell us what kind of product you are looking for';
  }
  // Name what was asked for: the named product types, else the product the search matched best.
  const subject =
    intent.productTypes.length > 0
      ? intent.productTypes.map(pluralize).join(' or ')
      : ranked.alternatives.length > 0
        ? pluralize(ranked.alternatives[0].name)
        : null;
  if (subject === null) return `Nothing we sell meets all of: ${ranked.constraints.join('; ')}`;
  const parts: string[] = [];
  for (const [name, values] of Object.entries(intent.requiredOptions))
    parts.push(`with ${name} ${values.join(' or ')}`);
  for (const [name, values] of Object.entries(intent.excludedOptions)) {
    parts.push(`without ${name} ${values.join(' or ')}`);
  }
  const price = priceWords(intent);
  if (price) parts.push(price);
  // Say "in stock" only when stock is what is missing: some item meets everything else.
  if (ranked.outOfStockMatches > 0) parts.push('in stock');
  return [`No ${subject}`, ...parts].join(' ');
}

/**
 * The catalog's answer to a captured intent, as one event: `ProductsSuggested` when some items meet
 * every hard constraint, else `NoMatchFound` with a readable reason and labelled alternatives. Every
 * suggested item is checked against the intent once more here, so a faulty ranking can never turn
 * into a silent substitution.
 */
export function decideSuggestion(
  captured: IntentCapturedPayload,
  ranked: RankedCandidates,
  versions: SuggestionVersions,
): EventDraft<ProductsSuggestedPayload | NoMatchFoundPayload> {
  const { intent } = captured;
  const record = {
    conversationId: captured.conversationId,
    turnId: captured.turnId,
    intent,
    query: searchQuery(intent),
    constraints: ranked.constraints,
    candidatesConsidered: ranked.considered,
    rankerVersion: versions.ranker,
    modelVersion: versions.model,
  };

  if (ranked.suggestions.length > 0) {
    for (const item of ranked.suggestions) {
      const check = checkConstraints(intent, item);
      if (!passes(check)) {
        throw new Error(`suggestion ${item.itemId} breaks ${[...check.refused, ...check.relaxable].join('; ')}`);
      }
    }
    const payload: ProductsSuggestedPayload = { ...record, items: ranked.suggestions.slice(0, 50) };
    return {
      type: ProductsSuggested.type,
      payload: currentSchema<ProductsSuggestedPayload>(ProductsSuggested).parse(payload),
    };
  }

  const payload: NoMatchFoundPayload = {
    ...record,
    reason: noMatchReason(intent, ranked),
    alternatives: ranked.alternatives.slice(0, 20),
  };
  return { type: NoMatchFound.type, payload: currentSchema<NoMatchFoundPayload>(NoMatchFound).parse(payload) };
}

function currentSchema<P>(definition: { versions: Array<{ schema: z.ZodType<unknown> }> }): z.ZodType<P> {
  return definition.versions[definition.versions.length - 1].schema as z.ZodType<P>;
}
