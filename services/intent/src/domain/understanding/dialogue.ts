import { NUMBER_WORDS, ORDINALS, STOPWORDS } from './lexicon';
import { phraseNorms, tokenize, type Token } from './text';
import type { CartLineRef, SuggestionRef } from './types';

/**
 * Dialogue acts besides searching: yes/no answers, checkout, cart, help, and references to what
 * was shown ("the second one"). Answers are read only from short, plain utterances: a sentence that
 * merely contains "confirm" is not a confirmation.
 */

/** Plain words: lower case, apostrophes kept, everything else a space. */
export function plainWords(text: string): string[] {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[^a-z0-9' ]+/g, ' ')
    .split(/\s+/)
    .filter((w) => w.length > 0);
}

const YES_WORDS = new Set(
  `yes y yeah yea yep yup ya yess yesss sure ok okay k kk confirm confirmed approve approved agree affirmative absolutely
  definitely correct proceed go ahead do it please i that's thats that is right sounds looks good great perfect fine
  thanks thank you the my this order purchase all of course let's lets exactly thing`.split(/\s+/),
);
const YES_CORE =
  /\b(?:yes+|y|yeah|yea|yep|yup|ya|sure|ok|okay|k|kk|confirm|confirmed|approved?|agree|affirmative|absolutely|definitely|correct|proceed|go ahead|do it|sounds good|looks good|that'?s right|of course|perfect)\b/;
const NO_WORDS = new Set(
  `no n nope nah cancel cancelled canceled don't dont do not stop never mind nevermind thanks thank you it that this the
  order purchase please i changed my wait hold on abort reject decline declined forget actually now yet want
  checkout`.split(/\s+/),
);
const NO_CORE =
  /\b(?:no|n|nope|nah|cancel|cancell?ed|don'?t|do not|stop|never ?mind|wait|hold on|abort|reject|decline|forget it|not now|not yet|changed my mind)\b/;
const MAX_ANSWER_WORDS = 8;

/** A plain yes or no, or null. Anything with other content is not an answer. */
export function yesNo(text: string): 'confirm' | 'decline' | null {
  const words = plainWords(text);
  if (words.length === 0 || words.length > MAX_ANSWER_WORDS || text.length > 80) return null;
  const joined = words.join(' ');
  const yes = words.every((w) => YES_WORDS.has(w)) && YES_CORE.test(joined);
  const no = words.every((w) => NO_WORDS.has(w)) && NO_CORE.test(joined);
  if (yes === no) return null;
  return yes ? 'confirm' : 'decline';
}

const CHECKOUT =
  /\b(?:check ?out|proceed to (?:the )?(?:checkout|payment)|go to (?:the )?checkout|ready to (?:pay|check ?out|order|buy)|pay now|pay for (?:it|them|this|my cart|everything)|buy (?:it|them|these|those|this|that|everything|all)(?: now)?|buy now|purchase (?:it|them|these|everything|this)|place (?:the|my|an|this) order|complete (?:the|my) (?:order|purchase)|finish (?:the|my) (?:order|purchase)|i'?m done(?: shopping)?|that'?s (?:all|everything))\b/;
export const isCheckout = (text: string): boolean =>
  plainWords(text).length <= 12 && CHECKOUT.test(plainWords(text).join(' '));

const SHOW_CART =
  /\b(?:(?:show|view|see|display|open|check|review)(?: me)?(?: my| the)? (?:cart|basket|bag)|what'?s in (?:my|the) (?:cart|basket)|what (?:is|do i have) in (?:my|the) (?:cart|basket)|what did i add)\b|^(?:my )?(?:cart|basket)$/;
export const isShowCart = (text: string): boolean => SHOW_CART.test(plainWords(text).join(' '));

const HELP =
  /^(?:help|help me|\?+|what can you do|what do you do|how does (?:this|it) work|how do i (?:use this|order|buy|shop)|what (?:do|can) you (?:sell|offer|have)|commands|menu|instructions|what are my options)$/;
export const isHelp = (text: string): boolean => {
  const words = plainWords(text).join(' ');
  return HELP.test(words) || text.trim() === '?';
};

// Text that tries to steer the assistant rather than shop. It is never obeyed; without a product in
// it, the answer is a question, not a guess.
const INJECTION =
  /\b(?:ignore|disregard|forget|override|bypass)\b(?: \w+){0,4} (?:instructions?|rules?|prompts?|guidelines?|polic(?:y|ies)|guardrails?|constraints?)\b|\bsystem prompt\b|\byou are now\b|\bact as (?:an?|the)\b|\bdeveloper mode\b|\bjailbreak\b|\bpretend (?:to be|you)\b|\bwithout (?:asking|confirmation|my approval)\b/;
export const looksLikeInjection = (text: string): boolean => INJECTION.test(plainWords(text).join(' '));

// After-sales requests: the aftersales service handles them from the order page, not this chat.
const AFTERSALES =
  /\b(?:(?:return|exchange|refund|send back)(?:ing)? (?:my|the|this|these|those|an?|it|them|for)\b|refund|track(?:ing)? (?:my|the) (?:order|package|parcel)|cancel (?:my|the|an|that) (?:order|purchase) \S+|where is my (?:order|package|parcel)|order status|change (?:my )?(?:shipping )?(?:address|payment method))/;
export const isAfterSales = (text: string): boolean => AFTERSALES.test(plainWords(text).join(' '));

export type Reference =
  { kind: 'item'; itemId: string; quantity: number | null } | { kind: 'unclear'; question: string } | null;

const ADD_VERB =
  /\b(?:add|put|throw|toss|take|i'?ll take|i will take|i'?d like|i want|i'?ll have|give me|get me|get|grab|choose|pick|select|go with|buy|order|want|like)\b/;
const PRONOUN_ADD =
  /\b(?:add|put|take|grab|get|order|want|choose|pick)(?: me)? (?:it|that|this|that one|this one|them|those|these)\b|\bi'?ll (?:take|have) (?:it|that|this|them)\b/;
// Verbs that only ever mean putting an item in the cart ("want" and "like" also start searches).
const STRONG_ADD_VERB =
  /\b(?:add|put|throw|toss|take|i'?ll take|i will take|grab|choose|pick|select|go with|i'?ll go with)\b/;
// Removal is read only as a command (verb first) or about the cart: "a vacuum that can remove pet hair" is a search.
const REMOVE_VERB =
  /^(?:(?:please|can you|could you|pls|and|also|now|i want to|i'?d like to|let'?s) )*(?:remove|delete|drop|take out|take off|get rid of|discard|cancel)\b|\b(?:remove|delete|drop|take|get rid of)\b.*\b(?:from|out of|off) (?:my|the) (?:cart|basket)\b/;
const REFERENCE_FILLER = new Set([
  ...STOPWORDS,
  'add',
  'put',
  'throw',
  'toss',
  'take',
  'grab',
  'choose',
  'pick',
  'select',
  'cart',
  'basket',
  'bag',
  'remove',
  'delete',
  'drop',
  'rid',
  'discard',
  'cancel',
  'number',
  'option',
  'item',
  'no',
  'last',
  'final',
  'cheapest',
  'cheaper',
  'expensive',
  'priciest',
  'lowest',
  'highest',
  'price',
  'priced',
  'least',
  'most',
  'ill',
  'id',
]);

interface Referent {
  itemId: string;
  name: string;
  price?: number;
  options?: Record<string, string>;
}

function ordinalIn(words: string[], count: number): number | null {
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (ORDINALS[w] !== undefined) return ORDINALS[w];
    if ((w === 'last' || w === 'final') && count > 0) return count;
    if (/^#?\d{1,2}$/.test(w) && /^(?:number|option|item|no|#)$/.test(words[i - 1] ?? ''))
      return Number(w.replace('#', ''));
  }
  return null;
}

function superlativeIn(joined: string): 'min' | 'max' | null {
  if (/\b(?:cheapest|least expensive|lowest price[d]?|cheaper one|less expensive one)\b/.test(joined)) return 'min';
  if (/\b(?:most expensive|priciest|highest price[d]?|pricier one|more expensive one)\b/.test(joined)) return 'max';
  return null;
}

function quantityIn(words: string[]): number | null {
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    const x = /^(?:x(\d{1,3})|(\d{1,3})x)$/.exec(w);
    if (x) return Number(x[1] ?? x[2]);
    // "two of the first one", "add 2 of those": the count comes before "of".
    if (words[i + 1] === 'of' || words[i + 1] === 'more') {
      if (/^\d{1,3}$/.test(w)) return Number(w);
      if (NUMBER_WORDS[w] !== undefined && w !== 'one') return NUMBER_WORDS[w];
    }
  }
  return null;
}

/** Words that describe the item ("the white one", "the 1L kettle") and the items they fit. */
function describedBy(tokens: Token[], items: Referent[]): Referent[] | null {
  const words = tokens.filter(
    (t) =>
      (t.kind === 'word' || (t.kind === 'number' && t.unit)) &&
      !REFERENCE_FILLER.has(t.raw) &&
      ORDINALS[t.raw] === undefined &&
      NUMBER_WORDS[t.raw] === undefined,
  );
  if (words.length === 0) return null;
  const fits = items.filter((item) => {
    const norms = new Set([
      ...phraseNorms(item.name),
      ...Object.values(item.options ?? {}).flatMap((v) => [...phraseNorms(v), v.toLowerCase().replace(/[\s-]+/g, '')]),
    ]);
    return words.every((w) => norms.has(w.norm));
  });
  return fits;
}

const pick = (items: Referent[], how: 'min' | 'max'): Referent =>
  items.reduce((best, it) =>
    (how === 'min' ? (it.price ?? 0) < (best.price ?? 0) : (it.price ?? 0) > (best.price ?? 0)) ? it : best,
  );

const listOf = (items: Referent[]): string =>
  items
    .slice(0, 5)
    .map((it, i) => `${i + 1}. ${it.name}${it.options ? ` (${Object.values(it.options).join(', ')})` : ''}`)
    .join('; ');

/**
 * Resolves "the first one", "the cheapest one", "the white one", "it" or an item id against what
 * was shown (to add) or what is in the cart (to remove). Null when the utterance is not a reference.
 */
export function resolveReference(
  text: string,
  action: 'add' | 'remove',
  suggestions: readonly SuggestionRef[],
  cart: readonly CartLineRef[],
): Reference {
  const words = plainWords(text);
  const joined = words.join(' ');
  const items: Referent[] = action === 'add' ? [...suggestions] : cart.map((c) => ({ itemId: c.itemId, name: c.name }));
  const tokens = tokenize(text);
  const verb = action === 'add' ? ADD_VERB.test(joined) : REMOVE_VERB.test(joined);
  if (action === 'remove' && !verb) return null;

  const ids = words.filter((w) => /^\d{6,}$/.test(w));
  const ordinal = ordinalIn(words, items.length);
  const superlative = action === 'add' ? superlativeIn(joined) : null;
  const pronoun = action === 'add' ? PRONOUN_ADD.test(joined) : /\b(?:it|that|this|that one|this one)\b/.test(joined);
  // "the second", "the white one", "number 2": a short utterance that is nothing but a reference.
  const shaped =
    words.length <= 6 &&
    (/^(?:the |that |this )?(?:[\w']+ ){0,2}one$/.test(joined) ||
      (ordinal !== null && words.length <= 4) ||
      ids.length > 0);
  const described = describedBy(tokens, items);
  // "add the white one", "remove the kettle": a description counts only after a verb that picks.
  const picking = action === 'remove' ? verb : STRONG_ADD_VERB.test(joined) || words[words.length - 1] === 'one';
  const isReference =
    ids.length > 0 ||
    ((verb || shaped) && (ordinal !== null || superlative !== null)) ||
    pronoun ||
    (shaped && words[words.length - 1] === 'one') ||
    (picking && described !== null);
  if (!isReference) return null;

  const where = action === 'add' ? 'in the last suggestions' : 'in your cart';
  if (items.length === 0) {
    return {
      kind: 'unclear',
      question:
        action === 'add'
          ? "I haven't shown you anything to pick from yet. What are you looking for?"
          : 'Your cart is empty, so there is nothing to remove.',
    };
  }
  const quantity = action === 'add' ? quantityIn(words) : null;
  const found = (it: Referent): Reference => ({ kind: 'item', itemId: it.itemId, quantity });
  if (ids.length > 0) {
    const it = items.find((i) => ids.includes(i.itemId));
    return it
      ? found(it)
      : { kind: 'unclear', question: `I can't find item ${ids[0]} ${where}. Which one do you mean? ${listOf(items)}` };
  }
  let pool = items;
  if (described && described.length > 0) pool = described;
  else if (described && described.length === 0 && !pronoun && ordinal === null && superlative === null) {
    return {
      kind: 'unclear',
      question: `None of the items ${where} fits that. Which one do you mean? ${listOf(items)}`,
    };
  }
  if (ordinal !== null) {
    const it = pool[ordinal - 1];
    return it
      ? found(it)
      : { kind: 'unclear', question: `There are only ${pool.length} items ${where}: ${listOf(pool)}. Which one?` };
  }
  if (superlative) return found(pick(pool, superlative));
  if (pool.length === 1) return found(pool[0]);
  return { kind: 'unclear', question: `Which one do you mean? ${listOf(pool)}` };
}
