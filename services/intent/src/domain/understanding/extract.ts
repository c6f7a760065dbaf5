import { shoppingIntent, type ShoppingIntent } from '@assent/contracts';
import {
  CLAUSE_BOUNDARY_WORDS,
  CURRENCY_WORDS,
  NEGATION_CUES,
  NEGATION_PHRASES,
  NUMBER_WORDS,
  ORDINALS,
  PRICE_CONTEXT_WORDS,
  PRICE_PREFIX_CUES,
  PRICE_SENSITIVE_PHRASES,
  PRICE_SUFFIX_CUES,
  STOPWORDS,
  UNSOLD_NOUNS,
  VAGUE_WORDS,
} from './lexicon';
import { extractPrice } from './price';
import { CLAUSE_PUNCTUATION, TRANSPARENT_SYMBOLS, editDistance, stem, tokenize, type Token } from './text';
import type { CompiledProduct, CompiledVocabulary, OptionPhrase, ProductAlias } from './vocabulary';

/** What one utterance says on its own, before it is merged with the conversation's last search. */
export interface Extraction {
  intent: ShoppingIntent;
  /** Product types named positively in this utterance. */
  productMentioned: boolean;
  /** Any constraint besides the product: options, exclusions, price, price sensitivity, quantity. */
  constraintsFound: boolean;
  quantityExplicit: boolean;
  /** Unknown content words that may name a product we do not sell ("sofa", "tv"). */
  contentWords: string[];
  /** A typo was repaired to reach a catalog word. */
  corrected: boolean;
  /** The weakest way a product was named: 3 its full name, 2 a synonym, 1 a bare last word. */
  productStrength: number;
  /** Tokens read as something (product, option, price, cue); the rest are keywords. */
  tokens: Token[];
}

export const emptyIntent = (): ShoppingIntent => shoppingIntent();

let lexiconNorms: Set<string> | undefined;
/** Norms of every hand-written word, so typo repair never rewrites a word it already knows. */
function knownLexicon(): Set<string> {
  if (lexiconNorms) return lexiconNorms;
  const words: string[] = [
    ...STOPWORDS,
    ...VAGUE_WORDS,
    ...NEGATION_CUES,
    ...CLAUSE_BOUNDARY_WORDS,
    ...CURRENCY_WORDS,
    ...PRICE_CONTEXT_WORDS,
    ...UNSOLD_NOUNS,
    ...Object.keys(NUMBER_WORDS),
    ...Object.keys(ORDINALS),
    ...NEGATION_PHRASES.flat(),
    ...PRICE_SENSITIVE_PHRASES.flat(),
    ...PRICE_PREFIX_CUES.flatMap(([p]) => p),
    ...PRICE_SUFFIX_CUES.flatMap(([p]) => p),
  ];
  lexiconNorms = new Set(words.map((w) => stem(w.replace(/'/g, ''))));
  return lexiconNorms;
}

/** Price-sensitivity words are typo targets too ("cheapst"). */
const LEXICON_TARGETS = [...new Set(PRICE_SENSITIVE_PHRASES.flat())].filter((w) => w.length >= 5).map(stem);

/**
 * Repairs a word the vocabulary does not know to the one catalog word it is a typo of ("wireles",
 * "expresso", "headphnes"). Short words and nouns of unsold things are left alone: "table" must not
 * become "tablet". Ambiguous repairs (two targets equally close) are not made.
 */
function repairTypos(tokens: Token[], vocab: CompiledVocabulary): boolean {
  const lexicon = knownLexicon();
  let corrected = false;
  for (const t of tokens) {
    if (t.kind !== 'word' || t.norm.length < 5) continue;
    if (vocab.knownNorms.has(t.norm) || lexicon.has(t.norm) || UNSOLD_NOUNS.has(t.raw)) continue;
    const limit = t.raw.length >= 8 ? 2 : 1;
    let best: string | null = null;
    let bestDistance = limit + 1;
    let tie = false;
    for (const target of [...vocab.fuzzyTargets, ...LEXICON_TARGETS]) {
      if (target[0] !== t.norm[0]) continue;
      const d = Math.min(editDistance(t.norm, target, limit), editDistance(t.raw, target, limit));
      // Between equally close targets, one of the same length (a swap or a wrong letter) is the likelier typo.
      const sameLength = (w: string | null): boolean =>
        w !== null && (w.length === t.raw.length || w.length === t.norm.length);
      if (d < bestDistance || (d === bestDistance && sameLength(target) && !sameLength(best))) {
        best = target;
        bestDistance = d;
        tie = false;
      } else if (d === bestDistance && target !== best && sameLength(target) === sameLength(best)) tie = true;
    }
    if (best && !tie && bestDistance <= limit) {
      t.norm = best;
      corrected = true;
    }
  }
  return corrected;
}

/** The end index of `norms` matched at token `i`, stepping over joining symbols; -1 when it does not match. */
function matchNorms(tokens: readonly Token[], blocked: readonly boolean[], i: number, norms: string[]): number {
  let k = i;
  for (let n = 0; n < norms.length; n++) {
    if (n > 0) while (k < tokens.length && tokens[k].kind === 'symbol' && TRANSPARENT_SYMBOLS.has(tokens[k].raw)) k++;
    if (k >= tokens.length || blocked[k] || tokens[k].norm !== norms[n]) return -1;
    k++;
  }
  return k;
}

interface Span {
  start: number;
  end: number;
}

interface ProductMention extends Span {
  alias: ProductAlias;
}

interface OptionMatch extends Span {
  phrase: OptionPhrase;
}

type Candidate =
  (Span & { kind: 'product'; mention: ProductMention }) | (Span & { kind: 'option'; matches: OptionMatch[] });

const MODIFIER_LEAD = new Set(['for', 'with']);
const DETERMINERS = new Set(['a', 'an', 'the', 'my', 'your', 'our', 'his', 'her', 'their', 'some']);

/** "laptop backpack", "a backpack for my camera": the product word modifies another product. */
function inModifierPosition(tokens: readonly Token[], m: Span, mentions: readonly Span[]): boolean {
  if (mentions.some((o) => o !== m && o.start === m.end)) return true;
  let k = m.start - 1;
  if (k >= 0 && DETERMINERS.has(tokens[k].raw)) k--;
  return k >= 0 && MODIFIER_LEAD.has(tokens[k].raw) && mentions.some((o) => o !== m);
}

const SIZE_WORDS_RE = /^(?:extra|x|xx|small|medium|med|large|xs|xl|xxl|xsmall|xlarge)$/;

/** Picks one option when a phrase names values of two options of one product ("medium" helmet). */
function preferOption(tokens: readonly Token[], span: Span, list: OptionMatch[]): OptionMatch {
  const window = tokens.slice(Math.max(0, span.start - 2), Math.min(tokens.length, span.end + 2)).map((t) => t.norm);
  // The option named next to the value ("medium ventilation") says which one is meant.
  const near = (m: OptionMatch): boolean =>
    m.phrase.withName ||
    m.phrase.option
      .toLowerCase()
      .split(/\s+/)
      .some((w) => window.includes(stem(w)));
  // Otherwise "small", "medium", "large" are sizes far more often than any other scale.
  const sizeWord = tokens.slice(span.start, span.end).every((t) => SIZE_WORDS_RE.test(t.raw));
  const size = (m: OptionMatch): number => (sizeWord && /size/i.test(m.phrase.option) ? 1 : 0);
  return [...list].sort(
    (a, b) => Number(near(b)) - Number(near(a)) || size(b) - size(a) || b.phrase.strength - a.phrase.strength,
  )[0];
}

interface NegationScope extends Span {
  /** "doesn't have to be": the words are optional, neither wanted nor refused. */
  optional: boolean;
}

const OPTIONAL_PHRASES = [
  ["doesn't", 'have', 'to'],
  ['does', 'not', 'have', 'to'],
  ["don't", 'have', 'to'],
  ['do', 'not', 'have', 'to'],
  ["doesn't", 'need', 'to'],
  ["don't", 'need', 'to'],
  ['not', 'necessarily'],
  ["don't", 'care'],
  ["doesn't", 'matter'],
  ["don't", 'mind'],
];
const MAX_SCOPE = 6;

function negationScopes(tokens: readonly Token[], consumed: readonly boolean[]): NegationScope[] {
  const scopes: NegationScope[] = [];
  for (let i = 0; i < tokens.length; i++) {
    if (consumed[i]) continue;
    let cueEnd = -1;
    let optional = false;
    for (const phrase of OPTIONAL_PHRASES) {
      if (phrase.every((w, k) => tokens[i + k]?.raw === w)) {
        cueEnd = i + phrase.length;
        optional = true;
        break;
      }
    }
    if (cueEnd < 0) {
      for (const phrase of NEGATION_PHRASES)
        if (phrase.every((w, k) => tokens[i + k]?.raw === w)) cueEnd = i + phrase.length;
    }
    if (cueEnd < 0 && NEGATION_CUES.has(tokens[i].raw)) cueEnd = i + 1;
    if (cueEnd < 0) continue;
    let end = cueEnd;
    while (
      end < tokens.length &&
      end - cueEnd < MAX_SCOPE &&
      !CLAUSE_PUNCTUATION.has(tokens[end].raw) &&
      !CLAUSE_BOUNDARY_WORDS.has(tokens[end].raw)
    )
      end++;
    scopes.push({ start: cueEnd, end, optional });
    i = cueEnd - 1;
  }
  return scopes;
}

const inside = (s: Span, inner: Span): boolean => inner.start >= s.start && inner.start < s.end;

/** The units a product's option values are measured in ("capacity" in l), to read "a 3L kettle" as capacity. */
function optionsByUnit(product: CompiledProduct): Map<string, Set<string>> {
  const byUnit = new Map<string, Set<string>>();
  for (const [option, values] of Object.entries(product.vocab.options)) {
    for (const value of values) {
      for (const t of tokenize(value)) {
        if (!t.unit) continue;
        const set = byUnit.get(t.unit) ?? new Set<string>();
        set.add(option);
        byUnit.set(t.unit, set);
      }
    }
  }
  return byUnit;
}

function addValues(target: Record<string, string[]>, option: string, values: readonly string[]): void {
  const list = (target[option] ??= []);
  for (const v of values) if (!list.includes(v)) list.push(v);
}

/**
 * Reads one utterance against the catalog vocabulary. `contextProducts` are the product types of the
 * conversation's last search: a follow-up without a product ("only polyester ones") is read against them.
 */
export function extractIntent(text: string, vocab: CompiledVocabulary, contextProducts: readonly string[]): Extraction {
  const tokens = tokenize(text);
  const corrected = repairTypos(tokens, vocab);
  const consumed = tokens.map(() => false);
  const price = extractPrice(tokens, consumed);

  // Product mentions: longest alias at each position.
  const mentions: ProductMention[] = [];
  for (let i = 0; i < tokens.length; i++) {
    let best: ProductMention | null = null;
    for (const alias of vocab.aliases.get(tokens[i].norm) ?? []) {
      const end = matchNorms(tokens, consumed, i, alias.norms);
      if (end < 0) continue;
      if (!best || end > best.end || (end === best.end && alias.strength > best.alias.strength))
        best = { start: i, end, alias };
    }
    if (best) {
      mentions.push(best);
      i = best.end - 1;
    }
  }

  // Option phrases of every product that could be meant: named now, or searched for before.
  const candidateProducts = new Set<string>([...mentions.flatMap((m) => m.alias.products), ...contextProducts]);
  const optionSpans = new Map<string, OptionMatch[]>();
  for (const name of candidateProducts) {
    const product = vocab.products.get(name);
    if (!product) continue;
    for (let i = 0; i < tokens.length; i++) {
      for (const phrase of product.phrases.get(tokens[i].norm) ?? []) {
        const end = matchNorms(tokens, consumed, i, phrase.norms);
        if (end < 0) continue;
        const key = `${i}:${end}`;
        const list = optionSpans.get(key) ?? [];
        list.push({ start: i, end, phrase });
        optionSpans.set(key, list);
      }
    }
  }

  // One reading per word: longer phrases win; on a tie a product name wins unless it modifies
  // another product ("laptop backpack" is a backpack with a laptop compartment).
  const candidates: Candidate[] = [
    ...mentions.map((m) => ({ kind: 'product' as const, start: m.start, end: m.end, mention: m })),
    ...[...optionSpans.values()].map((matches) => ({
      kind: 'option' as const,
      start: matches[0].start,
      end: matches[0].end,
      matches,
    })),
  ];
  const len = (c: Span): number => c.end - c.start;
  const rank = (c: Candidate): number => {
    if (c.kind === 'product') return inModifierPosition(tokens, c.mention, mentions) ? 0 : 2;
    return Math.max(...c.matches.map((m) => m.phrase.strength)) >= 3 ? 1 : 0.5;
  };
  candidates.sort((a, b) => len(b) - len(a) || rank(b) - rank(a) || a.start - b.start);
  const taken: boolean[] = tokens.map(() => false);
  const chosen: Candidate[] = [];
  for (const c of candidates) {
    let free = true;
    for (let k = c.start; k < c.end; k++) if (taken[k]) free = false;
    if (!free) continue;
    // A demoted product word in modifier position with no option to become stays unread.
    if (c.kind === 'product' && rank(c) === 0 && optionSpans.has(`${c.start}:${c.end}`)) continue;
    chosen.push(c);
    for (let k = c.start; k < c.end; k++) taken[k] = true;
  }
  chosen.sort((a, b) => a.start - b.start);
  for (const c of chosen) for (let k = c.start; k < c.end; k++) consumed[k] = true;

  const scopes = negationScopes(tokens, consumed);
  const scopeOf = (s: Span): NegationScope | undefined => scopes.find((sc) => inside(sc, s));

  const positiveProducts: string[] = [];
  const excludedProducts: string[] = [];
  const implied: ProductAlias['implied'] = [];
  let productStrength = 3;
  const positive = chosen.filter(
    (c): c is Extract<Candidate, { kind: 'product' }> => c.kind === 'product' && !scopeOf(c),
  );
  // An unknown noun before "with a camera" is what the shopper wants ("a drone with a camera"): the
  // product named after "with" is a part of it, not a request for a camera.
  const unknownBefore = (at: number): boolean =>
    tokens
      .slice(0, at)
      .some(
        (t, k) =>
          t.kind === 'word' &&
          !consumed[k] &&
          t.raw.length >= 3 &&
          (UNSOLD_NOUNS.has(t.raw) ||
            (!STOPWORDS.has(t.raw) &&
              !VAGUE_WORDS.has(t.raw) &&
              !vocab.knownNorms.has(t.norm) &&
              !knownLexicon().has(t.norm))),
      );
  const partOfSomethingElse = (c: Extract<Candidate, { kind: 'product' }>): boolean => {
    let k = c.start - 1;
    if (k >= 0 && DETERMINERS.has(tokens[k].raw)) k--;
    return k >= 0 && tokens[k].raw === 'with' && positive.length === 1 && unknownBefore(k);
  };
  // "a gopro style camera": the broad word ("camera") adds nothing to the specific one ("gopro").
  const subsumed = (c: Extract<Candidate, { kind: 'product' }>): boolean =>
    positive.some(
      (o) =>
        o !== c &&
        o.mention.alias.products.length < c.mention.alias.products.length &&
        o.mention.alias.products.every((p) => c.mention.alias.products.includes(p)),
    );
  for (const c of chosen) {
    if (c.kind !== 'product') continue;
    const scope = scopeOf(c);
    if (scope?.optional) continue;
    if (scope) excludedProducts.push(...c.mention.alias.products);
    else if (partOfSomethingElse(c)) {
      for (let k = c.start; k < c.end; k++) consumed[k] = false;
    } else if (subsumed(c)) continue;
    else {
      positiveProducts.push(...c.mention.alias.products);
      implied.push(...c.mention.alias.implied);
      productStrength = Math.min(productStrength, c.mention.alias.strength);
    }
  }
  let productTypes = [...new Set(positiveProducts)].filter((p) => !excludedProducts.includes(p));
  const readAgainst = productTypes.length > 0 ? productTypes : [...contextProducts];

  // "a kettle, not an electric one": a negated word that tells one candidate product from another.
  const distinctive = (word: string): string | null => {
    if (readAgainst.length < 2) return null;
    const owners = readAgainst.filter((p) => vocab.products.get(p)?.nameNorms.includes(word));
    return owners.length === 1 ? owners[0] : null;
  };
  for (const scope of scopes) {
    if (scope.optional) continue;
    for (let k = scope.start; k < scope.end; k++) {
      const owner = distinctive(tokens[k].norm);
      if (!owner) continue;
      excludedProducts.push(owner);
      consumed[k] = true;
      const c = chosen.find((x) => x.start <= k && k < x.end && x.kind === 'option');
      if (c) chosen.splice(chosen.indexOf(c), 1);
    }
  }
  productTypes = productTypes.filter((p) => !excludedProducts.includes(p));
  const readProducts =
    productTypes.length > 0 ? productTypes : [...contextProducts].filter((p) => !excludedProducts.includes(p));

  const required: Record<string, string[]> = {};
  const concept: Record<string, string[]> = {};
  const excluded: Record<string, string[]> = {};
  for (const i of implied) if (readProducts.includes(i.product)) addValues(required, i.option, i.values);
  let optionNamed: Array<{ option: string; product: string; span: Span }> = [];
  for (const c of chosen) {
    if (c.kind !== 'option') continue;
    const scope = scopeOf(c);
    if (scope?.optional) continue;
    for (const productName of readProducts) {
      const mine = c.matches.filter((m) => m.phrase.product === productName);
      if (mine.length === 0) continue;
      const m = preferOption(tokens, c, mine);
      const p = m.phrase;
      if (p.values.length === 0) {
        optionNamed.push({ option: p.option, product: productName, span: c });
        continue;
      }
      const isConcept = p.negativeValues.length > 0;
      if (scope) {
        if (isConcept) addValues(required, p.option, p.negativeValues);
        else addValues(excluded, p.option, p.values);
      } else if (isConcept) addValues(concept, p.option, p.values);
      else addValues(required, p.option, p.values);
    }
  }
  // "waterproof ... IPX7": the named value is more precise than the concept.
  for (const [option, values] of Object.entries(concept)) if (!required[option]) required[option] = values;

  // A measure the catalog does not have ("size 13", "a 3L kettle") is still a hard constraint: the
  // catalog must answer no match rather than show another size.
  const literal = (k: number, option: string): void => {
    const t = tokens[k];
    const value = t.unit ? t.raw.replace(/\s+/g, '') : t.raw;
    addValues(scopeOf({ start: k, end: k + 1 }) ? excluded : required, option, [value]);
    consumed[k] = true;
  };
  optionNamed = optionNamed.filter(({ option, span }) => {
    for (const k of [span.end, span.start - 1]) {
      const t = tokens[k];
      if (
        t &&
        !consumed[k] &&
        (t.kind === 'number' || (t.kind === 'word' && /^(?:x{0,3}[sml]|x{1,3}l)$/.test(t.raw)))
      ) {
        if (required[option]) return false;
        literal(k, option);
        return false;
      }
    }
    return true;
  });
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k];
    if (consumed[k] || t.kind !== 'number' || !t.unit || t.unit === 'x' || t.unit === 'k') continue;
    const options = new Set<string>();
    for (const name of readProducts) {
      const product = vocab.products.get(name);
      if (product) for (const o of optionsByUnit(product).get(t.unit) ?? []) options.add(o);
    }
    if (options.size === 1) {
      const [option] = [...options];
      if (!required[option]) literal(k, option);
    }
  }

  for (const [option, values] of Object.entries(excluded)) {
    if (!required[option]) continue;
    required[option] = required[option].filter((v) => !values.includes(v));
    if (required[option].length === 0) delete required[option];
  }

  // Quantity: "two kettles", "2x", "a pair of t-shirts" (but a pair of running shoes is one item).
  let quantity = 1;
  let quantityExplicit = false;
  const setQuantity = (q: number, from: number, to: number): void => {
    if (!Number.isInteger(q) || q < 1) return;
    quantity = Math.min(q, 100);
    quantityExplicit = true;
    for (let k = from; k < to; k++) consumed[k] = true;
  };
  for (const c of chosen) {
    if (c.kind !== 'product' || quantityExplicit) continue;
    const pair = [c.start - 3, c.start - 2].find(
      (s) => s >= 0 && tokens[s].raw === 'pair' && tokens[s + 1]?.raw === 'of',
    );
    if (pair !== undefined) {
      const pairNoun = c.mention.alias.products.every((p) => vocab.products.get(p)?.pairNoun);
      setQuantity(pairNoun ? 1 : 2, pair, pair + 2);
      continue;
    }
    for (let k = c.start - 1; k >= Math.max(0, c.start - 4); k--) {
      const t = tokens[k];
      if (CLAUSE_PUNCTUATION.has(t.raw) || (t.kind === 'number' && consumed[k])) break;
      if (consumed[k]) continue;
      if (t.kind === 'number' && !t.unit && !t.dollar && t.value !== undefined) {
        setQuantity(t.value, k, k + 1);
        break;
      }
      const word = NUMBER_WORDS[t.raw];
      if (word !== undefined) {
        setQuantity(word, k, k + 1);
        break;
      }
    }
  }
  for (let k = 0; k < tokens.length && !quantityExplicit; k++) {
    const t = tokens[k];
    if (consumed[k]) continue;
    const times = /^x(\d{1,3})$/.exec(t.raw);
    if (times) setQuantity(Number(times[1]), k, k + 1);
    else if (t.kind === 'number' && t.unit === 'x' && t.value !== undefined) setQuantity(t.value, k, k + 1);
    else if ((t.raw === 'qty' || t.raw === 'quantity') && tokens[k + 1]?.kind === 'number') {
      setQuantity(tokens[k + 1].value ?? 1, k, k + 2);
    }
  }

  // Keywords: content words nobody read. Words after "for (my)" name a purpose or a person, not a product.
  const keywords: string[] = [];
  const contentWords: string[] = [];
  let purpose = 0;
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k];
    if (CLAUSE_PUNCTUATION.has(t.raw)) purpose = 0;
    if (t.raw === 'for') {
      purpose = 3;
      continue;
    }
    const inPurpose = purpose > 0 && !DETERMINERS.has(t.raw);
    if (purpose > 0) purpose--;
    if (!consumed[k] && t.kind === 'number' && t.unit && !keywords.includes(t.norm)) keywords.push(t.norm);
    if (consumed[k] || t.kind !== 'word' || t.raw.length < 2) continue;
    if (STOPWORDS.has(t.raw) || NEGATION_CUES.has(t.raw) || CLAUSE_BOUNDARY_WORDS.has(t.raw)) continue;
    if (NUMBER_WORDS[t.raw] !== undefined || ORDINALS[t.raw] !== undefined || CURRENCY_WORDS.has(t.raw)) continue;
    if (vocab.knownNorms.has(t.norm) && readProducts.length > 0) continue;
    // Keywords keep the shopper's spelling unless a typo was repaired.
    const keyword = (t.norm !== stem(t.raw.replace(/'/g, '')) ? t.norm : t.raw).slice(0, 100);
    if (!keywords.includes(keyword) && keywords.length < 50) keywords.push(keyword);
    // An option value without a product ("something blue") is vague, not a product we lack.
    const optionWord = vocab.optionNorms.has(t.norm) && !UNSOLD_NOUNS.has(t.raw);
    if (!optionWord && !VAGUE_WORDS.has(t.raw) && !inPurpose && !PRICE_CONTEXT_WORDS.has(t.raw))
      contentWords.push(t.raw);
  }

  const intent: ShoppingIntent = {
    productTypes,
    excludedProductTypes: [...new Set(excludedProducts)],
    requiredOptions: required,
    excludedOptions: excluded,
    minPrice: price.minPrice,
    maxPrice: price.maxPrice,
    priceSensitive: price.priceSensitive,
    quantity,
    keywords,
  };
  const constraintsFound =
    Object.keys(required).length > 0 ||
    Object.keys(excluded).length > 0 ||
    intent.excludedProductTypes.length > 0 ||
    price.minPrice !== null ||
    price.maxPrice !== null ||
    price.priceSensitive ||
    quantityExplicit;
  return {
    intent,
    productMentioned: productTypes.length > 0,
    constraintsFound,
    quantityExplicit,
    contentWords,
    corrected,
    productStrength: productTypes.length > 0 ? productStrength : 0,
    tokens,
  };
}
