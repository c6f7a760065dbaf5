import { extractPrice } from './price';
import { tokenize } from './text';

const price = (text: string) => {
  const tokens = tokenize(text);
  return extractPrice(
    tokens,
    tokens.map(() => false),
  );
};

describe('extractPrice', () => {
  it.each([
    ['under $250', null, 25000],
    ['250 dollars or less', null, 25000],
    ['less than 250', null, 25000],
    ['at most 99.99', null, 9999],
    ['max 300', null, 30000],
    ['300 max', null, 30000],
    ['no more than $1,200', null, 120000],
    ['nothing over 1k', null, 100000],
    ['budget is 2500', null, 250000],
    ['for $80', null, 8000],
    ['over $500', 50000, null],
    ['at least 40 bucks', 4000, null],
    ['$200 and up', 20000, null],
    ['between $95 and $100', 9500, 10000],
    ['between 95 and 100', 9500, 10000],
    ['from $20 to $30', 2000, 3000],
    ['280-300 dollars', 28000, 30000],
    ['around 100', 9000, 11000],
    ['about $50', 4500, 5500],
  ])('%s -> %p..%p', (text, min, max) => {
    const p = price(text);
    expect([p.minPrice, p.maxPrice]).toEqual([min, max]);
  });

  it('never reads a measure or a bare number as money', () => {
    for (const text of ['size 9', 'a 1000 piece puzzle', '9 bar', 'under 25 lbs', 'a 4k camera', 'two kettles']) {
      const p = price(text);
      expect([p.minPrice, p.maxPrice]).toEqual([null, null]);
    }
  });

  it.each(['cheap', 'the cheapest one', 'a good deal', 'budget headphones', 'affordable', 'not too expensive'])(
    '%s is price sensitive',
    (text) => expect(price(text).priceSensitive).toBe(true),
  );

  it('a budget with an amount is a ceiling, not price sensitivity', () => {
    expect(price('my budget is $300')).toEqual({ minPrice: null, maxPrice: 30000, priceSensitive: false });
  });
});
