import { editDistance, phraseNorms, stem, tokenize, unreadableReason } from './text';

describe('tokenize', () => {
  it('merges a number with its unit into one canonical form', () => {
    expect(phraseNorms('1L')).toEqual(['1l']);
    expect(phraseNorms('1 litre')).toEqual(['1l']);
    expect(phraseNorms('1000ml')).toEqual(['1l']);
    expect(phraseNorms('2 liters')).toEqual(['2l']);
    expect(phraseNorms('9 bar')).toEqual(['9bar']);
    expect(phraseNorms('32 GB')).toEqual(['32gb']);
    expect(phraseNorms('5.8-inch')).toEqual(['5.8inch']);
    expect(phraseNorms('13"')).toEqual(['13inch']);
    expect(phraseNorms('6 feet')).toEqual(['6ft']);
    expect(phraseNorms('20,000 mAh')).toEqual(['20000mah']);
  });

  it('keeps letter-digit words whole and splits hyphenated words', () => {
    expect(phraseNorms('i7 IPX7 A4')).toEqual(['i7', 'ipx7', 'a4']);
    expect(phraseNorms('over-ear Wi-Fi')).toEqual(['over', 'ear', 'wi', 'fi']);
  });

  it('marks dollar amounts and drops the dollar sign', () => {
    const [n] = tokenize('$1,250.50');
    expect(n).toMatchObject({ kind: 'number', value: 1250.5, dollar: true });
    expect(tokenize('250$')[0].dollar).toBe(true);
  });

  it('does not read a lone apostrophe after a number as feet', () => {
    expect(tokenize("size 9's")[1].unit).toBeUndefined();
  });
});

describe('stem', () => {
  it('meets plurals with their singular', () => {
    expect(stem('kettles')).toBe('kettle');
    expect(stem('batteries')).toBe('battery');
    expect(stem('glasses')).toBe('glass');
    expect(stem('glass')).toBe('glass');
    expect(stem('watches')).toBe('watch');
    expect(stem('shoes')).toBe('shoe');
  });
});

describe('editDistance', () => {
  it('counts a transposition as one edit', () => {
    expect(editDistance('balck', 'black')).toBe(1);
    expect(editDistance('expresso', 'espresso')).toBe(1);
    expect(editDistance('kettle', 'tablet', 2)).toBe(3);
  });
});

describe('unreadableReason', () => {
  it('rejects control characters, replacement characters and mojibake', () => {
    expect(unreadableReason('a kettle\u0007')).toBe('control_characters');
    expect(unreadableReason('a kettle \ufffd')).toBe('replacement_characters');
    expect(unreadableReason('I want a caf\u00c3\u00a9 kettle')).toBe('mojibake');
    expect(unreadableReason('it\u00e2\u20ac\u2122s a kettle')).toBe('mojibake');
    expect(unreadableReason('\u00e2\u0080\u0099 hello')).not.toBeNull();
  });

  it('rejects text that is mostly symbols or has no vowels anywhere', () => {
    expect(unreadableReason(';;;;@@@ ###')).toBe('symbols');
    expect(unreadableReason('zxqv qwrt')).toBe('gibberish');
  });

  it('accepts ordinary requests, prices and short product words', () => {
    expect(unreadableReason('a kettle under $50, please!')).toBeNull();
    expect(unreadableReason('I want a TV')).toBeNull();
    expect(unreadableReason('bbq', (w) => w === 'bbq')).toBeNull();
  });
});
