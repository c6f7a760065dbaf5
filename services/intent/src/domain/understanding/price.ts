import {
  CURRENCY_WORDS,
  PRICE_CONTEXT_WORDS,
  PRICE_PREFIX_CUES,
  PRICE_SENSITIVE_PHRASES,
  PRICE_SUFFIX_CUES,
  type PriceCue,
} from './lexicon';
import { stem, type Token } from './text';

export interface PriceExtraction {
  /** Minor units, or null when the shopper set no bound. */
  minPrice: number | null;
  maxPrice: number | null;
  priceSensitive: boolean;
}

/** Whether `phrase` (raw words) occurs in `tokens` at `at`, on tokens nobody has claimed yet. */
export function phraseAt(
  tokens: readonly Token[],
  consumed: readonly boolean[],
  at: number,
  phrase: string[],
): boolean {
  if (at < 0 || at + phrase.length > tokens.length) return false;
  // Norms too, so a repaired typo ("cheapst") reads as the word it was meant to be.
  return phrase.every((w, k) => !consumed[at + k] && (tokens[at + k].raw === w || tokens[at + k].norm === stem(w)));
}

interface Amount {
  cents: number;
  /** Index after the amount (past "dollars" or "k"). */
  end: number;
  /** Written as money: "$250", "250 dollars". A bare number is money only after a price cue. */
  money: boolean;
  /** Written with `k` ("2k"): money only with a cue, since 4K is also a resolution. */
  thousands: boolean;
}

function amountAt(tokens: readonly Token[], consumed: readonly boolean[], i: number): Amount | null {
  const t = tokens[i];
  if (!t || t.kind !== 'number' || consumed[i] || t.value === undefined) return null;
  // "9 bar", "1000 pieces", "32gb": a quantity of something else, never money.
  if (t.unit && t.unit !== 'k') return null;
  let value = t.value;
  let end = i + 1;
  let thousands = t.unit === 'k';
  if (!t.unit && tokens[end]?.raw === 'k' && !consumed[end]) {
    value *= 1000;
    thousands = true;
    end++;
  } else if (t.unit === 'k') value = Number(t.raw.split(' ')[0].replace(/,/g, '')) * 1000;
  let money = t.dollar === true;
  if (tokens[end] && CURRENCY_WORDS.has(tokens[end].raw) && !consumed[end]) {
    money = true;
    end++;
  }
  return { cents: Math.round(value * 100), end, money, thousands };
}

function cueBefore(
  tokens: readonly Token[],
  consumed: readonly boolean[],
  i: number,
): { cue: PriceCue; start: number } | null {
  let best: { cue: PriceCue; start: number; len: number } | null = null;
  for (const [phrase, cue] of PRICE_PREFIX_CUES) {
    const start = i - phrase.length;
    if (phraseAt(tokens, consumed, start, phrase) && (!best || phrase.length > best.len))
      best = { cue, start, len: phrase.length };
  }
  return best;
}

function cueAfter(
  tokens: readonly Token[],
  consumed: readonly boolean[],
  end: number,
): { cue: PriceCue; end: number } | null {
  let best: { cue: PriceCue; end: number; len: number } | null = null;
  for (const [phrase, cue] of PRICE_SUFFIX_CUES) {
    if (phraseAt(tokens, consumed, end, phrase) && (!best || phrase.length > best.len)) {
      best = { cue, end: end + phrase.length, len: phrase.length };
    }
  }
  return best;
}

const RANGE_JOINERS = new Set(['and', 'to', '-', 'through', 'or']);

function priceContextBefore(tokens: readonly Token[], i: number): boolean {
  for (let k = Math.max(0, i - 4); k < i; k++) if (PRICE_CONTEXT_WORDS.has(tokens[k].raw)) return true;
  return false;
}

/**
 * Budgets and ranges: "under $250", "250 dollars or less", "between 95 and 100", "around 100"
 * (±10%), a bare "$250" (a ceiling), and "cheap / good deal" as price sensitivity. Marks the words
 * it used in `consumed`, so they are not read again as sizes, quantities or keywords.
 */
export function extractPrice(tokens: readonly Token[], consumed: boolean[]): PriceExtraction {
  let minPrice: number | null = null;
  let maxPrice: number | null = null;
  const claim = (from: number, to: number): void => {
    for (let k = from; k < to; k++) consumed[k] = true;
  };
  for (let i = 0; i < tokens.length; i++) {
    const a = amountAt(tokens, consumed, i);
    if (!a) continue;
    const prev = tokens[i - 1]?.raw;
    const joiner = tokens[a.end];
    const b =
      joiner && RANGE_JOINERS.has(joiner.raw) && !consumed[a.end] ? amountAt(tokens, consumed, a.end + 1) : null;
    if (b && b.cents >= a.cents && (joiner.raw !== 'or' || a.money || b.money)) {
      const opener = prev === 'between' || prev === 'from';
      if (opener || a.money || b.money || priceContextBefore(tokens, i)) {
        minPrice = a.cents;
        maxPrice = b.cents;
        claim(opener ? i - 1 : i, b.end);
        i = b.end - 1;
        continue;
      }
    }
    const before = cueBefore(tokens, consumed, i);
    const after = before ? null : cueAfter(tokens, consumed, a.end);
    const fromMoney = !before && prev === 'from' && a.money ? { cue: 'min' as PriceCue, start: i - 1 } : null;
    const cue = before?.cue ?? after?.cue ?? fromMoney?.cue ?? (a.money ? 'max' : null);
    if (!cue) continue;
    // "2k" alone stays a resolution; "under 2k" or "$2k" is money.
    if (a.thousands && !a.money && !before && !after) continue;
    if (cue === 'max') maxPrice = a.cents;
    else if (cue === 'min') minPrice = a.cents;
    else {
      minPrice = Math.round(a.cents * 0.9);
      maxPrice = Math.round(a.cents * 1.1);
    }
    claim(before?.start ?? fromMoney?.start ?? i, after?.end ?? a.end);
    i = (after?.end ?? a.end) - 1;
  }
  if (minPrice !== null && maxPrice !== null && minPrice > maxPrice) [minPrice, maxPrice] = [maxPrice, minPrice];

  let priceSensitive = false;
  const phrases = [...PRICE_SENSITIVE_PHRASES].sort((x, y) => y.length - x.length);
  for (let i = 0; i < tokens.length; i++) {
    for (const phrase of phrases) {
      if (!phraseAt(tokens, consumed, i, phrase)) continue;
      priceSensitive = true;
      claim(i, i + phrase.length);
      break;
    }
  }
  return { minPrice, maxPrice, priceSensitive };
}
