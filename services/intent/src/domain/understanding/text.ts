/**
 * Text primitives of the rules model: normalization, tokens with canonical forms, a light stemmer,
 * edit distance and the readability checks. Pure functions, no vocabulary knowledge here.
 */

export type TokenKind = 'word' | 'number' | 'symbol';

export interface Token {
  /** The surface form, lower-cased. */
  raw: string;
  /**
   * The form used for matching: stemmed words, numbers without formatting, and a number merged with
   * its unit (`1 litre` -> `1l`, `1000ml` -> `1l`, `32 GB` -> `32gb`), so vocabulary values and
   * shopper text meet in one spelling.
   */
  norm: string;
  kind: TokenKind;
  /** For numbers: the value; for a merged quantity: the value in its canonical unit. */
  value?: number;
  /** For a number merged with a unit: the canonical unit (`l`, `gb`, `inch`, `k`...). */
  unit?: string;
  /** Whether a `$` stood right before the number. */
  dollar?: boolean;
}

/** Unit spellings to their canonical unit; `scale` converts into it (millilitres are litres / 1000). */
const UNITS: Record<string, { unit: string; scale: number }> = {};
const unit = (canonical: string, spellings: string[], scale = 1): void => {
  for (const s of spellings) UNITS[s] = { unit: canonical, scale };
};
unit('l', ['l', 'liter', 'liters', 'litre', 'litres', 'ltr']);
unit('l', ['ml', 'milliliter', 'milliliters', 'millilitre', 'millilitres'], 0.001);
unit('gb', ['gb', 'gig', 'gigs', 'gigabyte', 'gigabytes']);
unit('tb', ['tb', 'terabyte', 'terabytes']);
unit('inch', ['inch', 'inches', '"', '\u2033', 'inchs']);
unit('ft', ['ft', 'feet', 'foot', "'"]);
unit('bar', ['bar', 'bars']);
unit('mah', ['mah']);
unit('mp', ['mp', 'megapixel', 'megapixels']);
unit('w', ['w', 'watt', 'watts']);
unit('x', ['x']);
unit('hour', ['hour', 'hours', 'hr', 'hrs', 'h']);
unit('cup', ['cup', 'cups']);
unit('mm', ['mm']);
unit('lb', ['lb', 'lbs', 'pound', 'pounds']);
unit('deg', ['degree', 'degrees', '\u00b0', 'deg']);
unit('p', ['p']);
unit('k', ['k']);
unit('piece', ['piece', 'pieces', 'pc', 'pcs']);
unit('pct', ['%', 'percent']);
unit('cm', ['cm']);

export function isUnitWord(word: string): boolean {
  return word in UNITS;
}

/** Canonical spelling of a number: `1,000` -> `1000`, `1.50` -> `1.5`. */
function numberText(n: number): string {
  return String(Math.round(n * 1000) / 1000);
}

/**
 * Light English stemmer: enough to make plurals meet their singular (`kettles`, `boxes`, `batteries`,
 * `glasses`). Applied to vocabulary and shopper text alike, so an odd stem still matches itself.
 */
export function stem(word: string): string {
  if (word.length <= 3) return word;
  if (word.endsWith('ies') && word.length > 4) return `${word.slice(0, -3)}y`;
  if (word.endsWith('sses')) return word.slice(0, -2);
  if (/(?:sh|ch|x|z)es$/.test(word)) return word.slice(0, -2);
  if (word.endsWith('s') && !/(?:ss|us|is)$/.test(word)) return word.slice(0, -1);
  return word;
}

/**
 * Lower-case, compatibility-normalized text with typographic quotes and dashes made plain; hyphens
 * between letters become spaces so `over-ear`, `over ear` and `Wi-Fi` tokenize alike.
 */
export function normalizeText(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\u2018\u2019\u02bc\u0060\u00b4]/g, "'")
    .replace(/[\u201c\u201d]/g, '"')
    .replace(/[\u2010-\u2015\u2212]/g, '-')
    .replace(/([a-z])-(?=[a-z0-9])/g, '$1 ')
    .replace(/(\d)-(?=[a-z])/g, '$1 ');
}

// Numbers (with thousands separators and decimals), words (letters then letters/digits, so `i7`,
// `ipx7`, `a4` stay one word), and the few symbols that carry meaning for prices and units.
const TOKEN_RE =
  /\$|\d+(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+|[a-z][a-z0-9']*|[%"\u2033'\u00b0<>~+#=-]|[,;:!?()/]|\.(?!\d)/g;

/** Punctuation that ends a clause, and so a negation's scope. */
export const CLAUSE_PUNCTUATION = new Set([',', ';', ':', '!', '?', '(', ')', '.']);
/** Symbols a phrase match steps over ("Wi-Fi + Cellular", "55-75 lbs"). */
export const TRANSPARENT_SYMBOLS = new Set(['+', '-', '"', "'", '~', '#', '/']);

/** Tokens of normalized text, with numbers merged with the unit that follows them. */
export function tokenize(text: string): Token[] {
  const rough: Array<{ raw: string; kind: TokenKind }> = [];
  const normalized = normalizeText(text);
  for (const m of normalized.matchAll(TOKEN_RE)) {
    const raw = m[0];
    if (/^[\d.]/.test(raw)) rough.push({ raw, kind: 'number' });
    else if (/^[a-z]/.test(raw)) rough.push({ raw: raw.replace(/'+$/, ''), kind: 'word' });
    else rough.push({ raw, kind: 'symbol' });
  }
  const out: Token[] = [];
  // `$` is not a token of its own: it marks the number next to it as money ("$250", "250$").
  let dollarPending = false;
  for (let i = 0; i < rough.length; i++) {
    const t = rough[i];
    if (t.raw === '$') {
      const prev = out[out.length - 1];
      if (prev?.kind === 'number' && !prev.unit && i > 0 && rough[i - 1].kind === 'number') prev.dollar = true;
      else dollarPending = true;
      continue;
    }
    const dollar = dollarPending;
    dollarPending = false;
    if (t.kind === 'number') {
      const value = Number(t.raw.replace(/,/g, ''));
      const next = rough[i + 1];
      const u = next && next.kind !== 'number' ? UNITS[next.raw] : undefined;
      // A lone `'` after a number is an apostrophe more often than feet; only `"` and words count.
      if (u && next.raw !== "'" && !dollar) {
        const v = value * u.scale;
        out.push({
          raw: `${t.raw} ${next.raw}`,
          norm: `${numberText(v)}${u.unit}`,
          kind: 'number',
          value: v,
          unit: u.unit,
        });
        i++;
        continue;
      }
      out.push({ raw: t.raw, norm: numberText(value), kind: 'number', value, dollar });
      continue;
    }
    if (t.kind === 'word') {
      out.push({ raw: t.raw, norm: stem(t.raw.replace(/'/g, '')), kind: 'word' });
      continue;
    }
    out.push({ raw: t.raw, norm: t.raw, kind: 'symbol' });
  }
  return out;
}

/** The matching forms of a vocabulary phrase (`"1.5 liters"` -> `["1.5l"]`), symbols dropped. */
export function phraseNorms(text: string): string[] {
  return tokenize(text)
    .filter((t) => t.kind !== 'symbol' || t.raw === '%')
    .map((t) => t.norm);
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions), capped for speed. */
export function editDistance(a: string, b: string, cap = 3): number {
  if (Math.abs(a.length - b.length) > cap) return cap + 1;
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) rows.push([i]);
  for (let j = 1; j <= b.length; j++) rows[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    let best = cap + 1;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2][j - 2] + 1);
      rows[i][j] = d;
      best = Math.min(best, d);
    }
    if (best > cap) return cap + 1;
  }
  return rows[a.length][b.length];
}

export type Unreadable = 'control_characters' | 'replacement_characters' | 'mojibake' | 'symbols' | 'gibberish';

// UTF-8 read as Latin-1/Windows-1252: `â€™`, `Ã©`, `Ã¼`, `ï¿½` and their C1-control variants.
const MOJIBAKE_RE =
  /[\u00c2\u00c3][\u0080-\u00bf]|\u00e2[\u0080-\u0084\u20ac][\u0080-\u00bf\u2122\u0153\u0161\u017e\u02dc\u201c\u201d\u2018\u2019\u2020\u2021\u2026]?|\u00ef\u00bf\u00bd/;
// C0 controls except tab and newlines, DEL and C1 controls: no keyboard types them.
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

/**
 * Why the text cannot be read, or null. Corrupted text is never guessed at: a wrong guess could
 * become a wrong suggestion, and asking costs the shopper one line.
 */
export function unreadableReason(
  text: string,
  isKnownWord: (word: string) => boolean = () => false,
): Unreadable | null {
  if (CONTROL_RE.test(text)) return 'control_characters';
  if (text.includes('\ufffd')) return 'replacement_characters';
  if (MOJIBAKE_RE.test(text)) return 'mojibake';
  const visible = text.replace(/\s+/g, '');
  if (!visible) return null;
  const meaningful = visible.match(/[\p{L}\p{N}$]/gu)?.length ?? 0;
  if (meaningful / visible.length < 0.5) return 'symbols';
  const words = normalizeText(text).match(/[a-z]+/g) ?? [];
  // Letters with no vowel across every word of three or more letters ("zxqv", "qwrtp") is keyboard noise.
  const long = words.filter((w) => w.length >= 3);
  if (words.some(isKnownWord)) return null;
  if (long.length > 0 && long.every((w) => !/[aeiouy]/.test(w) || /[^aeiouy]{6,}/.test(w))) return 'gibberish';
  return null;
}
