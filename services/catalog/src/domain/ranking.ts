import { AlternativeItem, ShoppingIntent, SuggestedItem } from '@assent/contracts';

/** Bump when the filter or scoring rules change, so replays can tell which ranker made a suggestion. */
export const RANKER_VERSION = 'catalog-ranker/1';

/** One sellable variant as the search found it, with how well its product matched the request. */
export interface CandidateItem {
  itemId: string;
  productId: string;
  /** The product's name (τ-bench items carry their product's name). */
  name: string;
  options: Record<string, string>;
  /** Minor units. */
  price: number;
  available: boolean;
  /** How well the product matched the request (1 for a product named by type; search rank otherwise). */
  relevance: number;
}

export interface RankOptions {
  /** How many suggestions at most (default 5). */
  limit?: number;
  /** How many labelled alternatives at most when nothing matches (default 3). */
  maxAlternatives?: number;
}

export interface RankedCandidates {
  suggestions: SuggestedItem[];
  /** Only when there are no suggestions: nearest relaxations, each labelled with what it breaks. */
  alternatives: AlternativeItem[];
  /** The hard constraints in words, as checked against every candidate. */
  constraints: string[];
  considered: number;
  /** Items that meet every constraint but stock: the reason can say "in stock" is what is missing. */
  outOfStockMatches: number;
}

/** The verdict of every hard constraint on one item. */
export interface ConstraintCheck {
  satisfied: string[];
  /** Constraints a labelled alternative may break (price, a wanted option value, stock). */
  relaxable: string[];
  /**
   * Constraints nothing may break, not even an alternative: the shopper refused this product type or
   * option value, or it is a different product from the one asked for.
   */
  refused: string[];
  /** True when the item was out of stock: an alternative nobody can buy now ranks last. */
  outOfStock: boolean;
  /** How far the price lies outside the range, as a fraction of the bound (0 inside it). */
  priceDistance: number;
}

const DEFAULT_LIMIT = 5;
const DEFAULT_MAX_ALTERNATIVES = 3;

// Score weights. Relevance is the search's own signal; required options are equal for every item
// that passes (kept for the audit trail); keywords found in option values are a soft preference;
// price position is a small nudge towards cheaper items when the shopper did not ask for cheap.
const WEIGHT = { relevance: 1, optionMatches: 0.5, keywordMatches: 0.25, pricePosition: 0.1 };

export function normalize(text: string): string {
  return text.trim().toLowerCase().replace(/\s+/g, ' ');
}

/** Cents as the shopper reads them: 123456 -> "$1,234.56". */
export function formatCents(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(Math.round(cents));
  const dollars = Math.floor(abs / 100)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}$${dollars}.${(abs % 100).toString().padStart(2, '0')}`;
}

function either(values: string[]): string {
  return values.join(' or ');
}

/** The item's value for an option, matching the option name without regard to case ("RAM" / "ram"). */
function optionValue(options: Record<string, string>, name: string): string | undefined {
  const wanted = normalize(name);
  const key = Object.keys(options).find((k) => normalize(k) === wanted);
  return key === undefined ? undefined : options[key];
}

function includesNormalized(values: string[], value: string): boolean {
  const v = normalize(value);
  return values.some((x) => normalize(x) === v);
}

function sortedEntries(record: Record<string, string[]>): Array<[string, string[]]> {
  return Object.entries(record).sort(([a], [b]) => a.localeCompare(b));
}

/** The intent's hard constraints in words, in a stable order. */
export function describeConstraints(intent: ShoppingIntent): string[] {
  const out: string[] = [];
  if (intent.productTypes.length > 0) out.push(`product is ${either(intent.productTypes)}`);
  for (const type of intent.excludedProductTypes) out.push(`product is not ${type}`);
  for (const [name, values] of sortedEntries(intent.requiredOptions)) out.push(`${name} is ${either(values)}`);
  for (const [name, values] of sortedEntries(intent.excludedOptions)) {
    for (const value of values) out.push(`${name} is not ${value}`);
  }
  if (intent.minPrice !== null) out.push(`price ≥ ${formatCents(intent.minPrice)}`);
  if (intent.maxPrice !== null) out.push(`price ≤ ${formatCents(intent.maxPrice)}`);
  out.push('in stock');
  return out;
}

/** Every hard constraint of the intent checked against one item, each verdict in words. */
export function checkConstraints(
  intent: ShoppingIntent,
  item: Pick<CandidateItem, 'name' | 'options' | 'price' | 'available'>,
): ConstraintCheck {
  const check: ConstraintCheck = { satisfied: [], relaxable: [], refused: [], outOfStock: false, priceDistance: 0 };

  if (intent.productTypes.length > 0) {
    if (includesNormalized(intent.productTypes, item.name)) check.satisfied.push(`product is ${item.name}`);
    else check.refused.push(`product is ${item.name}, not ${either(intent.productTypes)}`);
  }
  for (const type of intent.excludedProductTypes) {
    if (normalize(type) === normalize(item.name)) check.refused.push(`product is ${item.name}, which was excluded`);
    else check.satisfied.push(`product is not ${type}`);
  }

  for (const [name, values] of sortedEntries(intent.requiredOptions)) {
    const actual = optionValue(item.options, name);
    if (actual === undefined) check.relaxable.push(`has no ${name} option (wanted ${either(values)})`);
    else if (includesNormalized(values, actual)) check.satisfied.push(`${name} is ${actual}`);
    else check.relaxable.push(`${name} is ${actual}, not ${either(values)}`);
  }
  for (const [name, values] of sortedEntries(intent.excludedOptions)) {
    const actual = optionValue(item.options, name);
    for (const value of values) {
      // An explicit "no" is a refusal, not a preference: even a labelled alternative must respect it.
      if (actual !== undefined && normalize(actual) === normalize(value)) {
        check.refused.push(`${name} is ${actual}, which was excluded`);
      } else check.satisfied.push(`${name} is not ${value}`);
    }
  }

  const price = formatCents(item.price);
  if (intent.minPrice !== null) {
    if (item.price >= intent.minPrice) check.satisfied.push(`price ${price} ≥ ${formatCents(intent.minPrice)}`);
    else {
      check.relaxable.push(`price ${price} < ${formatCents(intent.minPrice)}`);
      check.priceDistance = (intent.minPrice - item.price) / Math.max(intent.minPrice, 1);
    }
  }
  if (intent.maxPrice !== null) {
    if (item.price <= intent.maxPrice) check.satisfied.push(`price ${price} ≤ ${formatCents(intent.maxPrice)}`);
    else {
      check.relaxable.push(`price ${price} > ${formatCents(intent.maxPrice)}`);
      check.priceDistance = Math.max(
        check.priceDistance,
        (item.price - intent.maxPrice) / Math.max(intent.maxPrice, 1),
      );
    }
  }

  if (item.available) check.satisfied.push('in stock');
  else {
    check.relaxable.push('out of stock');
    check.outOfStock = true;
  }
  return check;
}

/**
 * How far a relaxation strays, for alternatives that break equally many constraints: a wrong option
 * value costs 1, a price costs 0.5 plus how far outside the range it lies (as a share of the bound), so
 * the right kind of item a little over budget comes before a different kind at the price, but one
 * costing half as much again or more does not.
 */
function relaxationCost(check: ConstraintCheck): number {
  const priceBroken = check.priceDistance > 0 ? 1 : 0;
  const optionsBroken = check.relaxable.length - priceBroken - (check.outOfStock ? 1 : 0);
  return optionsBroken + priceBroken * (0.5 + check.priceDistance);
}

export function passes(check: ConstraintCheck): boolean {
  return check.relaxable.length === 0 && check.refused.length === 0;
}

/** Keyword words found among the item's option values: a soft signal, never a filter. */
function keywordMatches(intent: ShoppingIntent, options: Record<string, string>): number {
  const words = new Set(
    Object.values(options)
      .flatMap((v) => normalize(v).split(/[^\p{L}\p{N}]+/u))
      .filter((w) => w.length > 0),
  );
  const keywords = new Set(intent.keywords.map(normalize).filter((k) => k.length > 0));
  let hits = 0;
  for (const keyword of keywords) if (words.has(keyword)) hits++;
  return hits;
}

const round4 = (n: number): number => Math.round(n * 10_000) / 10_000;

interface Scored {
  candidate: CandidateItem;
  check: ConstraintCheck;
  score: Record<string, number>;
}

function score(intent: ShoppingIntent, entries: Array<{ candidate: CandidateItem; check: ConstraintCheck }>): Scored[] {
  const prices = entries.map((e) => e.candidate.price);
  const low = Math.min(...prices);
  const high = Math.max(...prices);
  return entries.map(({ candidate, check }) => {
    const optionMatches = sortedEntries(intent.requiredOptions).filter(([name, values]) => {
      const actual = optionValue(candidate.options, name);
      return actual !== undefined && includesNormalized(values, actual);
    }).length;
    const keywords = keywordMatches(intent, candidate.options);
    // 1 for the cheapest of the set, 0 for the dearest: where the price sits among its peers.
    const pricePosition = high === low ? 1 : (high - candidate.price) / (high - low);
    const total =
      WEIGHT.relevance * candidate.relevance +
      WEIGHT.optionMatches * optionMatches +
      WEIGHT.keywordMatches * keywords +
      WEIGHT.pricePosition * pricePosition;
    return {
      candidate,
      check,
      score: {
        relevance: round4(candidate.relevance),
        optionMatches,
        keywordMatches: keywords,
        pricePosition: round4(pricePosition),
        total: round4(total),
      },
    };
  });
}

function toSuggested({ candidate, check, score: parts }: Scored): SuggestedItem {
  return {
    itemId: candidate.itemId,
    productId: candidate.productId,
    name: candidate.name,
    options: { ...candidate.options },
    price: candidate.price,
    available: candidate.available,
    satisfied: check.satisfied,
    score: parts,
  };
}

const byItemId = (a: Scored, b: Scored): number => a.candidate.itemId.localeCompare(b.candidate.itemId);

/**
 * Which products a relaxation may come from: the ones the shopper named, or, for a keyword search,
 * the best-matching product only, so an alternative is never a different kind of thing.
 */
function alternativeProducts(intent: ShoppingIntent, candidates: CandidateItem[]): (c: CandidateItem) => boolean {
  if (intent.productTypes.length > 0) return (c) => includesNormalized(intent.productTypes, c.name);
  const eligible = candidates.filter((c) => !includesNormalized(intent.excludedProductTypes, c.name));
  if (eligible.length === 0) return () => false;
  const best = eligible.reduce((a, b) =>
    b.relevance > a.relevance || (b.relevance === a.relevance && b.productId < a.productId) ? b : a,
  );
  return (c) => c.productId === best.productId;
}

/**
 * Filters candidates by every hard constraint and orders what is left. Hard constraints are never
 * traded for relevance: an item either satisfies all of them or is not suggested. When nothing
 * passes, the nearest relaxations of the requested product come back as alternatives, each labelled
 * with the constraints it breaks.
 */
export function rankCandidates(
  intent: ShoppingIntent,
  candidates: CandidateItem[],
  options: RankOptions = {},
): RankedCandidates {
  const limit = options.limit ?? DEFAULT_LIMIT;
  const maxAlternatives = options.maxAlternatives ?? DEFAULT_MAX_ALTERNATIVES;
  const constraints = describeConstraints(intent);
  const checked = candidates.map((candidate) => ({ candidate, check: checkConstraints(intent, candidate) }));

  const passing = score(
    intent,
    checked.filter((c) => passes(c.check)),
  );
  if (passing.length > 0) {
    const ordered = [...passing].sort((a, b) =>
      intent.priceSensitive
        ? a.candidate.price - b.candidate.price || b.score.total - a.score.total || byItemId(a, b)
        : b.score.total - a.score.total || a.candidate.price - b.candidate.price || byItemId(a, b),
    );
    return {
      suggestions: ordered.slice(0, limit).map(toSuggested),
      alternatives: [],
      constraints,
      considered: candidates.length,
      outOfStockMatches: 0,
    };
  }

  const fromProduct = alternativeProducts(intent, candidates);
  const relaxations = checked.filter((c) => c.check.refused.length === 0 && fromProduct(c.candidate));
  const alternatives =
    relaxations.length === 0
      ? []
      : score(intent, relaxations)
          .sort(
            (a, b) =>
              a.check.relaxable.length - b.check.relaxable.length ||
              // Something the shopper cannot buy now is the weakest relaxation of all.
              Number(a.check.outOfStock) - Number(b.check.outOfStock) ||
              relaxationCost(a.check) - relaxationCost(b.check) ||
              b.score.total - a.score.total ||
              a.candidate.price - b.candidate.price ||
              byItemId(a, b),
          )
          .slice(0, maxAlternatives)
          .map((s) => ({ ...toSuggested(s), broken: s.check.relaxable }));
  const outOfStockMatches = checked.filter(
    (c) => c.check.refused.length === 0 && c.check.relaxable.length === 1 && c.check.outOfStock,
  ).length;
  return { suggestions: [], alternatives, constraints, considered: candidates.length, outOfStockMatches };
}
