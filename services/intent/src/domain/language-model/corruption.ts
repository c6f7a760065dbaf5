/**
 * Detects model output that was damaged on the way (a broken decoder, a proxy that rewrote the
 * body, a sampler gone off the rails) before anything in it is believed. It looks at the text as
 * text; whether the JSON has the right shape is the schema's job.
 */

export type CorruptionReason =
  | 'empty'
  | 'invalid_utf8'
  | 'invalid_unicode'
  | 'replacement_character'
  | 'control_character'
  | 'mojibake'
  | 'truncated'
  | 'unbalanced_json'
  | 'unexpected_script'
  | 'symbol_noise'
  | 'repetition'
  | 'gibberish';

export interface Corruption {
  reason: CorruptionReason;
  detail: string;
}

export interface CorruptionOptions {
  /** The script the text should be in: proposals name catalog products and values, all Latin. */
  script?: 'latin' | 'any';
  /** The text should be one JSON value: check that it is complete and balanced. */
  json?: boolean;
}

const REPLACEMENT = '\uFFFD';
// C0 and C1 control characters other than tab, line feed and carriage return (and DEL).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/u;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// UTF-8 read as Latin-1 or Windows-1252: "Ã©" for é, "â€™" for ’, "Â " for a no-break space, "ï¿½" for U+FFFD.
const MOJIBAKE = /Ã[\u0080-\u00BF\u0152\u0153\u0160\u0161\u0178\u017D\u017E\u2018-\u203A]|Â[\u0080-\u00BF]|â€|ï¿½/u;

/** Scripts we name when text is in the wrong one; anything else non-Latin counts as "other". */
const SCRIPTS: Array<[string, RegExp]> = [
  ['CJK', /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u],
  ['Cyrillic', /\p{Script=Cyrillic}/u],
  ['Greek', /\p{Script=Greek}/u],
  ['Arabic', /\p{Script=Arabic}/u],
  ['Hebrew', /\p{Script=Hebrew}/u],
  ['Devanagari', /\p{Script=Devanagari}/u],
  ['Thai', /\p{Script=Thai}/u],
];

// Punctuation ordinary product text uses ("T-Shirt", "Wi-Fi + Cellular", "15.6\"", "100%", "$250").
const ORDINARY_PUNCTUATION = /[.,;:'"!?()\-/&%$+_]/u;

/** Decodes bytes as strict UTF-8; null when they are not valid UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return null;
  }
}

/** The first reason the text looks damaged, or null when it reads as ordinary text. */
export function detectCorruption(input: string | Uint8Array, options: CorruptionOptions = {}): Corruption | null {
  const script = options.script ?? 'latin';
  let text: string;
  if (typeof input === 'string') text = input;
  else {
    const decoded = decodeUtf8(input);
    if (decoded === null) return { reason: 'invalid_utf8', detail: 'the bytes are not valid UTF-8' };
    text = decoded;
  }
  if (text.trim().length === 0) return { reason: 'empty', detail: 'no text' };

  const raw = characterProblem(text);
  if (raw) return raw;

  let strings: string | null = null;
  if (options.json) {
    const structure = jsonStructure(text);
    if (structure) return structure;
    strings = jsonStrings(text);
    // Escapes decode to characters the raw text did not show ("\u0000", "\ufffd").
    const decoded = strings === null ? null : characterProblem(strings);
    if (decoded) return decoded;
  }
  // JSON that does not parse is judged on its words, not on its own brackets and quotes.
  return textProblem(strings ?? (options.json ? text.replace(/[{}[\]":,]/g, ' ') : text), script);
}

function characterProblem(text: string): Corruption | null {
  if (LONE_SURROGATE.test(text)) return { reason: 'invalid_unicode', detail: 'a lone UTF-16 surrogate' };
  const replacement = text.indexOf(REPLACEMENT);
  if (replacement >= 0) {
    return { reason: 'replacement_character', detail: `U+FFFD at character ${replacement}` };
  }
  const control = CONTROL.exec(text);
  if (control) {
    const code = control[0].codePointAt(0) ?? 0;
    return {
      reason: 'control_character',
      detail: `U+${code.toString(16).toUpperCase().padStart(4, '0')} at character ${control.index}`,
    };
  }
  const mojibake = MOJIBAKE.exec(text);
  if (mojibake) return { reason: 'mojibake', detail: `"${mojibake[0]}" (UTF-8 read as Latin-1)` };
  return null;
}

/**
 * Whether text that starts as a JSON object or array ends as one: a stream cut short leaves an
 * open string or bracket; a mangled one closes the wrong bracket or trails text after the end.
 * Text that does not start with a bracket is left to the JSON parser.
 */
export function jsonStructure(text: string): Corruption | null {
  const start = text.search(/\S/);
  if (start < 0 || (text[start] !== '{' && text[start] !== '[')) return null;
  const stack: string[] = [];
  let inString = false;
  let escaped = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') stack.push(c === '{' ? '}' : ']');
    else if (c === '}' || c === ']') {
      const expected = stack.pop();
      if (expected !== c) {
        return { reason: 'unbalanced_json', detail: `"${c}" at character ${i} closes ${expected ?? 'nothing'}` };
      }
      if (stack.length === 0) {
        const rest = text.slice(i + 1);
        if (rest.trim().length > 0) {
          return { reason: 'unbalanced_json', detail: `${rest.trim().length} characters after the JSON value` };
        }
        return null;
      }
    }
  }
  return {
    reason: 'truncated',
    detail: inString ? 'ends inside a string' : `ends with ${stack.length} bracket(s) open`,
  };
}

/** Every key and string value of parseable JSON, joined; null when it does not parse. */
function jsonStrings(text: string): string | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        out.push(k);
        walk(x);
      }
    }
  };
  walk(value);
  return out.join(' ');
}

function textProblem(text: string, script: 'latin' | 'any'): Corruption | null {
  let letters = 0;
  let latin = 0;
  let noise = 0;
  let punctuation = 0;
  const others = new Map<string, number>();
  for (const ch of text) {
    if (/\p{L}/u.test(ch)) {
      letters++;
      if (/\p{Script=Latin}/u.test(ch)) latin++;
      else {
        const name = SCRIPTS.find(([, re]) => re.test(ch))?.[0] ?? 'non-Latin';
        others.set(name, (others.get(name) ?? 0) + 1);
      }
    } else if (/[\p{N}\s]/u.test(ch)) continue;
    else if (ORDINARY_PUNCTUATION.test(ch)) punctuation++;
    else noise++;
  }

  if (script === 'latin') {
    const foreign = letters - latin;
    if (foreign >= 3 && foreign / letters > 0.2) {
      const [name] = [...others.entries()].sort((a, b) => b[1] - a[1])[0];
      return {
        reason: 'unexpected_script',
        detail: `${Math.round((100 * foreign) / letters)}% of letters are ${name}, Latin expected`,
      };
    }
  }

  // Ordinary text has a symbol now and then; noise has as many symbols as letters.
  if (noise >= 4 && noise > 0.3 * letters) {
    return { reason: 'symbol_noise', detail: `${noise} stray symbols for ${letters} letters` };
  }
  if (noise + punctuation >= 8 && noise + punctuation > letters) {
    return { reason: 'symbol_noise', detail: `${noise + punctuation} symbols for ${letters} letters` };
  }

  // A sampler stuck in a loop: one character, or a short phrase, over and over.
  const squeezed = text.replace(/\s+/g, ' ');
  const run = /(\S)\1{15,}/u.exec(squeezed) ?? /(.{2,16}?)\1{7,}/su.exec(squeezed);
  if (run && run[1].trim()) {
    return { reason: 'repetition', detail: `"${run[1]}" repeated ${Math.floor(run[0].length / run[1].length)} times` };
  }

  // Random characters switch case inside words ("qXbT"); product text almost never does ("iPhone" once).
  const humps = (text.match(/\p{Ll}\p{Lu}/gu) ?? []).length;
  if (humps >= 5 && humps > 0.05 * letters) {
    return { reason: 'gibberish', detail: `${humps} case switches inside words for ${letters} letters` };
  }

  // Words of five letters or more without a vowel: keyboard mashing, or bytes decoded as letters.
  const words = text.match(/\p{Script=Latin}{5,}/gu) ?? [];
  const vowelless = words.filter((w) => !/[aeiouyàáâãäåæèéêëìíîïòóôõöøùúûüýÿ]/iu.test(w));
  if (vowelless.length >= 3 && vowelless.length >= 0.4 * words.length) {
    return {
      reason: 'gibberish',
      detail: `${vowelless.length} of ${words.length} long words have no vowel ("${vowelless[0]}")`,
    };
  }
  return null;
}
