import { proposal, vocabulary } from '../test-fixtures';
import { decodeUtf8, detectCorruption, jsonStructure, type CorruptionReason } from './corruption';

const sample = proposal({
  product_types: ['Coffee Maker'],
  required_options: { type: ['french press'] },
  excluded_options: { color: ['black'] },
  max_price: 250,
});
const clean = JSON.stringify(sample);
const pretty = JSON.stringify(sample, null, 2);
/** Printable ASCII from a seeded generator: letters, digits and symbols in no order. */
function randomAscii(length: number, seed = 11): string {
  let x = seed;
  let out = '';
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out += String.fromCharCode(33 + ((x >> 8) % 94));
  }
  return out;
}
const spaghetti = '#@!$%^&*(){}[]|\\~`<>?/;:\'",.=+-_'.repeat(4);

/** The corpus: [label, text, expected reason or null for clean]. JSON mode unless noted. */
const corpus: Array<[string, string, CorruptionReason | null]> = [
  ['clean compact JSON', clean, null],
  ['clean pretty-printed JSON with newlines and tabs', pretty.replace(/ {2}/g, '\t'), null],
  ['clean JSON with CRLF line ends', pretty.replace(/\n/g, '\r\n'), null],
  [
    'clean JSON with numbers and units',
    '{"required_options":{"capacity":["1.5L"],"pressure":["19 bar"]},"max_price":3099.99}',
    null,
  ],
  [
    'clean JSON with punctuation in values',
    '{"product_types":["T-Shirt","E-Reader"],"required_options":{"connectivity":["Wi-Fi + Cellular"]}}',
    null,
  ],
  ['clean JSON with accented Latin', '{"kind":"search","note":"café crème, naïve façade"}', null],
  ['clean JSON with an escaped quote', '{"kind":"search","note":"a 15\\" laptop"}', null],
  ['clean empty arrays and objects', '{"product_types":[],"required_options":{},"item_reference":null}', null],
  ['clean JSON array', '["Coffee Maker","Tea Kettle"]', null],
  ['clean JSON with a euro sign and degree', '{"note":"under €250, 90° angle"}', null],
  ['empty string', '', 'empty'],
  ['whitespace only', ' \n\t ', 'empty'],
  ['replacement character in a value', clean.replace('Coffee', 'Co\uFFFDfee'), 'replacement_character'],
  ['replacement character as a JSON escape', clean.replace('Coffee', 'Co\\ufffdfee'), 'replacement_character'],
  ['NUL byte', clean.replace('search', 'sea\u0000rch'), 'control_character'],
  ['bell characters for spaces', pretty.replace(/ /g, '\u0007'), 'control_character'],
  ['escape sequence (ANSI colour)', `\u001b[31m${clean}\u001b[0m`, 'control_character'],
  ['C1 control character', clean.replace('Maker', 'Ma\u0085ker'), 'control_character'],
  ['control character as a JSON escape', clean.replace('search', 'sea\\u0001rch'), 'control_character'],
  ['DEL character', clean.replace('french', 'fre\u007fnch'), 'control_character'],
  ['lone surrogate', clean.replace('Coffee', 'Co\uD83Dffee'), 'invalid_unicode'],
  ['mojibake: é read as Latin-1', '{"note":"cafÃ© crÃ¨me"}', 'mojibake'],
  ['mojibake: curly apostrophe read as cp1252', '{"note":"shopperâ€™s coffee maker"}', 'mojibake'],
  ['mojibake: replacement character read as Latin-1', '{"note":"coffee ï¿½ maker"}', 'mojibake'],
  ['truncated mid-string', clean.slice(0, 40), 'truncated'],
  ['truncated after a comma', clean.slice(0, clean.indexOf('"excluded_product_types"')), 'truncated'],
  ['truncated: only the opening brace', '{', 'truncated'],
  ['truncated nested array', '{"product_types":["Coffee Maker"', 'truncated'],
  ['unbalanced: wrong closer', '{"product_types":["Coffee Maker"}}', 'unbalanced_json'],
  ['unbalanced: extra closing brace', `${clean}}`, 'unbalanced_json'],
  ['trailing text after the JSON', `${clean} Let me know if you need anything else!`, 'unbalanced_json'],
  ['spaghetti ASCII in a value', JSON.stringify({ ...sample, product_types: [spaghetti] }), 'symbol_noise'],
  ['spaghetti ASCII as the whole answer (not JSON)', spaghetti, 'symbol_noise'],
  ['symbol soup in keys and values', '{"k@#$":"%^&*","~|\\\\":"<>{}"}', 'symbol_noise'],
  [
    'mostly CJK',
    JSON.stringify({ kind: 'search', product_types: ['咖啡机'], note: '这是一个很好的咖啡机' }),
    'unexpected_script',
  ],
  ['mostly Cyrillic', JSON.stringify({ kind: 'search', product_types: ['Кофеварка'] }), 'unexpected_script'],
  ['Arabic value', JSON.stringify({ kind: 'search', product_types: ['صانعة القهوة'] }), 'unexpected_script'],
  ['a run of one character', JSON.stringify({ kind: 'search', note: 'a'.repeat(40) }), 'repetition'],
  [
    'a phrase looping',
    JSON.stringify({ kind: 'search', note: 'the the the the the the the the the the the ' }),
    'repetition',
  ],
  ['random printable ASCII', randomAscii(300, 13), 'gibberish'],
  [
    'random printable ASCII inside a JSON value',
    JSON.stringify({ kind: 'search', note: randomAscii(120, 3) }),
    'gibberish',
  ],
  [
    'keyboard mash without vowels',
    JSON.stringify({ kind: 'search', product_types: ['xkcdqz wrtpsd mnbvcx lkjhgf'] }),
    'gibberish',
  ],
];

describe('detectCorruption on a corpus of model output', () => {
  it.each(corpus)('%s', (_label, text, expected) => {
    const found = detectCorruption(text, { json: true });
    expect(found?.reason ?? null).toBe(expected);
    if (found) expect(found.detail.length).toBeGreaterThan(0);
  });

  it('has at least 30 cases, clean and damaged', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(30);
    expect(corpus.filter(([, , r]) => r === null).length).toBeGreaterThanOrEqual(8);
  });
});

describe('detectCorruption on bytes', () => {
  it('accepts valid UTF-8', () => {
    expect(detectCorruption(Buffer.from(clean, 'utf8'), { json: true })).toBeNull();
    expect(detectCorruption(Buffer.from('{"note":"café"}', 'utf8'), { json: true })).toBeNull();
  });

  it.each([
    ['a lone continuation byte', [0x7b, 0x80, 0x7d]],
    ['a truncated two-byte sequence', [0x22, 0xc3, 0x22]],
    ['an overlong encoding of "/"', [0xc0, 0xaf]],
    ['a UTF-16 surrogate encoded in UTF-8', [0xed, 0xa0, 0x80]],
    ['Latin-1 bytes', [...Buffer.from('{"note":"caf', 'latin1'), 0xe9, ...Buffer.from('"}', 'latin1')]],
  ])('rejects %s as invalid UTF-8', (_label, bytes) => {
    expect(detectCorruption(Uint8Array.from(bytes))?.reason).toBe('invalid_utf8');
    expect(decodeUtf8(Uint8Array.from(bytes))).toBeNull();
  });
});

describe('detectCorruption options', () => {
  it('accepts another script when told to', () => {
    expect(detectCorruption('这是一个很好的咖啡机', { script: 'any' })).toBeNull();
    expect(detectCorruption('这是一个很好的咖啡机')?.reason).toBe('unexpected_script');
  });

  it('checks JSON structure only in JSON mode', () => {
    expect(detectCorruption('{"kind": "sea')).toBeNull();
    expect(detectCorruption('{"kind": "sea', { json: true })?.reason).toBe('truncated');
  });

  it('leaves plain words to the JSON parser', () => {
    expect(jsonStructure('Sure! Here is the JSON you asked for.')).toBeNull();
  });

  it('finds nothing wrong in any catalog name or option value', () => {
    for (const v of vocabulary) {
      const text = JSON.stringify({ kind: 'search', product_types: [v.name], required_options: v.options });
      expect([v.name, detectCorruption(text, { json: true })]).toEqual([v.name, null]);
    }
  });
});
