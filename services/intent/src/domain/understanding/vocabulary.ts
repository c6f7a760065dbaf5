import {
  GENERIC_HEADS,
  GENERIC_VALUE_WORDS,
  OPTION_CONCEPTS,
  PRODUCT_SYNONYMS,
  SIZE_WORDS,
  STOPWORDS,
} from './lexicon';
import { phraseNorms, stem } from './text';
import type { ProductVocabulary } from './types';

/** The shape of a τ-bench product this module needs (structural, so the model does not import the seed data). */
export interface TauProductLike {
  product_id: string;
  name: string;
  variants: Record<string, { options: Record<string, string> }>;
}

/** ProductVocabulary from τ-bench products: every option value found in any variant, in first-seen order. */
export function vocabularyFromProducts(
  products: Record<string, TauProductLike> | readonly TauProductLike[],
): ProductVocabulary[] {
  const list = Array.isArray(products) ? products : Object.values(products);
  return list.map((p: TauProductLike) => {
    const options: Record<string, string[]> = {};
    for (const variant of Object.values(p.variants)) {
      for (const [name, value] of Object.entries(variant.options)) {
        const values = (options[name] ??= []);
        if (!values.includes(value)) values.push(value);
      }
    }
    return { productId: p.product_id, name: p.name, options };
  });
}

/** A phrase that names one or more products ("kettle" names both kettles), maybe implying option values. */
export interface ProductAlias {
  norms: string[];
  products: string[];
  /** Values the phrase implies, per product ("french press" is a Coffee Maker of type french press). */
  implied: Array<{ product: string; option: string; values: string[] }>;
  /** How directly the phrase names the product: 3 the full name, 2 a synonym, 1 a name's last word. */
  strength: number;
}

/** A phrase that names option values of one product. */
export interface OptionPhrase {
  norms: string[];
  product: string;
  option: string;
  /** The values a positive mention requires (empty for a bare option name: no constraint). */
  values: string[];
  /** The values a negated mention requires ("no backlight" -> none); empty: a negation excludes `values`. */
  negativeValues: string[];
  /** 4 value with option name, 3 exact value, 2 a spelling variant or size word, 1 one distinctive word. */
  strength: number;
  /** The phrase includes the option's name ("size 9", "laptop compartment"). */
  withName: boolean;
}

export interface CompiledProduct {
  vocab: ProductVocabulary;
  nameNorms: string[];
  /** Plural-form names (Running Shoes, Sunglasses): "a pair of" them is one item. */
  pairNoun: boolean;
  phrases: Map<string, OptionPhrase[]>;
}

export interface CompiledVocabulary {
  products: Map<string, CompiledProduct>;
  aliases: Map<string, ProductAlias[]>;
  /** Every word norm the vocabulary knows; unknown words may be typos of these. */
  knownNorms: Set<string>;
  /** Norms of option names and values only: a colour alone is not a product we lack. */
  optionNorms: Set<string>;
  /** Candidate corrections for typos (norms of four letters or more). */
  fuzzyTargets: string[];
}

const NEGATIVE_VALUE = /^(?:no|none|not\b.*)$/i;
const LETTER_SIZE = /^(?:xxs|xs|s|m|l|xl|xxl|xxxl)$/i;

function addTo<T>(map: Map<string, T[]>, norms: string[], entry: T): void {
  if (norms.length === 0) return;
  const list = map.get(norms[0]) ?? [];
  list.push(entry);
  map.set(norms[0], list);
}

/** The joined spelling of a multi-word phrase ("wi fi" -> "wifi"), for words only. */
function joined(norms: string[], raw: string): string[] | null {
  if (norms.length < 2 || !/^[a-z\s-]+$/i.test(raw)) return null;
  return [raw.toLowerCase().replace(/[\s-]+/g, '')].map(stem);
}

function compileProduct(vocab: ProductVocabulary): CompiledProduct {
  const phrases = new Map<string, OptionPhrase[]>();
  const add = (p: OptionPhrase): void => addTo(phrases, p.norms, p);
  for (const [option, values] of Object.entries(vocab.options)) {
    const nameNorms = phraseNorms(option);
    const negative = values.filter((v) => NEGATIVE_VALUE.test(v));
    const positive = values.filter((v) => !NEGATIVE_VALUE.test(v));
    const yesNo = negative.length > 0;
    // The option's name alone: no constraint unless the option is a yes/no kind ("waterproof").
    add({
      norms: nameNorms,
      product: vocab.name,
      option,
      values: yesNo ? positive : [],
      negativeValues: yesNo ? negative : [],
      strength: yesNo ? 3 : 0,
      withName: true,
    });
    for (const concept of OPTION_CONCEPTS) {
      if (!yesNo || !concept.option.test(option.toLowerCase())) continue;
      for (const phrase of concept.phrases) {
        add({
          norms: phraseNorms(phrase),
          product: vocab.name,
          option,
          values: positive,
          negativeValues: negative,
          strength: 3,
          withName: true,
        });
      }
    }
    const valueNorms = positive.map((v) => phraseNorms(v));
    positive.forEach((value, i) => {
      const norms = valueNorms[i];
      const base = { product: vocab.name, option, values: [value], negativeValues: [] as string[] };
      const single = norms.length === 1;
      // A bare "9", "S" or "yes" means nothing on its own; it needs its option's name ("size 9").
      const bare = !(
        single &&
        (/^\d+(?:\.\d+)?$/.test(norms[0]) || norms[0].length === 1 || /^(?:yes|no)$/i.test(value))
      );
      if (!/^(?:yes)$/i.test(value)) {
        add({ ...base, norms: phraseNorms(`${value} ${option}`), strength: 4, withName: true });
        add({ ...base, norms: phraseNorms(`${option} ${value}`), strength: 4, withName: true });
      }
      if (bare) {
        add({ ...base, norms, strength: 3, withName: false });
        const j = joined(norms, value);
        if (j) add({ ...base, norms: j, strength: 2, withName: false });
      }
      // One distinctive word of a multi-word value ("rubber" for natural rubber, "cellular" for
      // Wi-Fi + Cellular), when no other value of the option shares it.
      if (norms.length > 1) {
        for (const word of norms) {
          if (word.length < 3 || /^\d+(?:\.\d+)?$/.test(word)) continue;
          if (GENERIC_VALUE_WORDS.has(word) || STOPWORDS.has(word)) continue;
          if (valueNorms.some((other, k) => k !== i && other.includes(word))) continue;
          add({ ...base, norms: [word], strength: 1, withName: false });
        }
      }
      if (LETTER_SIZE.test(value) && nameNorms.includes('size')) {
        for (const words of SIZE_WORDS[value.toLowerCase()] ?? []) {
          // Only when the product does not also spell sizes as words (Backpack's "small").
          if (positive.some((v) => v.toLowerCase() === words)) continue;
          add({ ...base, norms: phraseNorms(words), strength: 2, withName: false });
          add({ ...base, norms: phraseNorms(`${words} ${option}`), strength: 4, withName: true });
          add({ ...base, norms: phraseNorms(`${option} ${words}`), strength: 4, withName: true });
        }
      }
    });
  }
  const nameNorms = phraseNorms(vocab.name);
  const last = vocab.name.split(/\s+/).pop() ?? vocab.name;
  return { vocab, nameNorms, pairNoun: /s$/i.test(last) && stem(last.toLowerCase()) !== last.toLowerCase(), phrases };
}

function compile(vocabulary: readonly ProductVocabulary[]): CompiledVocabulary {
  const products = new Map<string, CompiledProduct>();
  for (const v of vocabulary) products.set(v.name, compileProduct(v));

  const byKey = new Map<string, ProductAlias>();
  const alias = (norms: string[], product: string, strength: number, implied: ProductAlias['implied'] = []): void => {
    // A phrase of function words only ("can") would fire on every sentence.
    if (norms.length === 0 || norms.every((n) => STOPWORDS.has(n))) return;
    const key = norms.join(' ');
    const existing = byKey.get(key);
    if (!existing) {
      byKey.set(key, { norms, products: [product], implied: [...implied], strength });
      return;
    }
    if (!existing.products.includes(product)) existing.products.push(product);
    existing.implied.push(...implied);
    existing.strength = Math.max(existing.strength, strength);
  };
  for (const p of products.values()) {
    const name = p.vocab.name;
    alias(p.nameNorms, name, 3);
    const j = joined(p.nameNorms, name);
    if (j) alias(j, name, 3);
    // "security camera" for Indoor Security Camera, "light bulb" for LED Light Bulb.
    for (let k = 1; k < p.nameNorms.length - 1; k++) alias(p.nameNorms.slice(k), name, 2);
    const head = p.nameNorms[p.nameNorms.length - 1];
    if (p.nameNorms.length > 1 && !GENERIC_HEADS.has(head) && head.length > 2) alias([head], name, 1);
  }
  for (const syn of PRODUCT_SYNONYMS) {
    const present = syn.products.filter((name) => products.has(name));
    for (const name of present) {
      const p = products.get(name);
      const implied = Object.entries(syn.options ?? {})
        .filter(([option, values]) => values.every((v) => p?.vocab.options[option]?.includes(v)))
        .map(([option, values]) => ({ product: name, option, values }));
      // A synonym that implies a value the product lacks would claim something the catalog does not have.
      if (Object.keys(syn.options ?? {}).length !== implied.length) continue;
      for (const phrase of syn.phrases) alias(phraseNorms(phrase), name, 2, implied);
    }
  }
  const aliases = new Map<string, ProductAlias[]>();
  for (const a of byKey.values()) addTo(aliases, a.norms, a);

  const knownNorms = new Set<string>();
  for (const a of byKey.values()) for (const n of a.norms) knownNorms.add(n);
  for (const p of products.values()) {
    for (const list of p.phrases.values()) for (const ph of list) for (const n of ph.norms) knownNorms.add(n);
  }
  const optionNorms = new Set<string>();
  for (const p of products.values()) {
    for (const list of p.phrases.values()) for (const ph of list) for (const n of ph.norms) optionNorms.add(n);
  }
  const fuzzyTargets = [...knownNorms].filter((n) => n.length >= 4 && /^[a-z]+$/.test(n));
  return { products, aliases, knownNorms, optionNorms, fuzzyTargets };
}

const compiled = new WeakMap<readonly ProductVocabulary[], CompiledVocabulary>();

/** The vocabulary's phrase index, built once per vocabulary array (the service rebuilds the array on catalog change). */
export function compileVocabulary(vocabulary: readonly ProductVocabulary[]): CompiledVocabulary {
  let c = compiled.get(vocabulary);
  if (!c) {
    c = compile(vocabulary);
    compiled.set(vocabulary, c);
  }
  return c;
}
