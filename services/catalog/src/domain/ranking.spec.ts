import { shoppingIntent as intentOf } from '@assent/contracts';
import { loadProducts, toCents } from '@assent/taubench';
import { CandidateItem, checkConstraints, describeConstraints, formatCents, rankCandidates } from './ranking';

/** Every variant of the named τ-bench products, as the repository would return them. */
function candidatesOf(...names: string[]): CandidateItem[] {
  return Object.values(loadProducts())
    .filter((p) => names.includes(p.name))
    .flatMap((p) =>
      Object.values(p.variants).map((v) => ({
        itemId: v.item_id,
        productId: p.product_id,
        name: p.name,
        options: v.options,
        price: toCents(v.price),
        available: v.available,
        relevance: 1,
      })),
    );
}

const item = (over: Partial<CandidateItem>): CandidateItem => ({
  itemId: 'i1',
  productId: 'p1',
  name: 'Coffee Maker',
  options: { type: 'drip', color: 'white' },
  price: 10_000,
  available: true,
  relevance: 1,
  ...over,
});

describe('formatCents', () => {
  it.each([
    [0, '$0.00'],
    [5, '$0.05'],
    [4999, '$49.99'],
    [25000, '$250.00'],
    [270983, '$2,709.83'],
    [123456789, '$1,234,567.89'],
  ])('%d cents reads %s', (cents, text) => expect(formatCents(cents)).toBe(text));
});

describe('describeConstraints', () => {
  it('puts every hard constraint in words, stock always among them', () => {
    expect(
      describeConstraints(
        intentOf({
          productTypes: ['Coffee Maker'],
          excludedProductTypes: ['Espresso Machine'],
          requiredOptions: { type: ['drip', 'french press'] },
          excludedOptions: { color: ['black'] },
          minPrice: 9500,
          maxPrice: 25000,
        }),
      ),
    ).toEqual([
      'product is Coffee Maker',
      'product is not Espresso Machine',
      'type is drip or french press',
      'color is not black',
      'price ≥ $95.00',
      'price ≤ $250.00',
      'in stock',
    ]);
    expect(describeConstraints(intentOf())).toEqual(['in stock']);
  });
});

describe('checkConstraints', () => {
  it('lists what an item satisfies in words', () => {
    const check = checkConstraints(
      intentOf({ productTypes: ['Coffee Maker'], requiredOptions: { type: ['french press'] }, maxPrice: 25000 }),
      item({ options: { type: 'french press' }, price: 4999 }),
    );
    expect(check.satisfied).toEqual([
      'product is Coffee Maker',
      'type is french press',
      'price $49.99 ≤ $250.00',
      'in stock',
    ]);
    expect(check.relaxable).toEqual([]);
    expect(check.refused).toEqual([]);
  });

  it('matches option names and values without regard to case or spacing', () => {
    const check = checkConstraints(
      intentOf({ requiredOptions: { ram: ['8gb'], ' Screen  Size ': ['6.1-INCH'] } }),
      item({ options: { RAM: '8GB', 'screen size': '6.1-inch' } }),
    );
    expect(check.relaxable).toEqual([]);
  });

  it('an item without a required option does not meet it', () => {
    const check = checkConstraints(intentOf({ requiredOptions: { pressure: ['9 bar'] } }), item({}));
    expect(check.relaxable).toEqual(['has no pressure option (wanted 9 bar)']);
  });

  it('an excluded option value is a refusal, an item without that option is fine', () => {
    const intent = intentOf({ excludedOptions: { material: ['leather'] } });
    expect(checkConstraints(intent, item({ options: { material: 'Leather' } })).refused).toEqual([
      'material is Leather, which was excluded',
    ]);
    expect(checkConstraints(intent, item({ options: {} })).satisfied).toContain('material is not leather');
  });

  it('labels price and stock breaks with the numbers', () => {
    const check = checkConstraints(
      intentOf({ minPrice: 9500, maxPrice: 10000 }),
      item({ price: 9000, available: false }),
    );
    expect(check.relaxable).toEqual(['price $90.00 < $95.00', 'out of stock']);
    expect(check.outOfStock).toBe(true);
    expect(check.priceDistance).toBeCloseTo(500 / 9500);
  });
});

describe('rankCandidates: hard constraints filter, never traded for relevance', () => {
  it('keeps only the requested product type, whatever the relevance of others', () => {
    const candidates = [
      ...candidatesOf('Espresso Machine').map((c) => ({ ...c, relevance: 5 })),
      ...candidatesOf('Coffee Maker'),
    ];
    const ranked = rankCandidates(intentOf({ productTypes: ['Coffee Maker'] }), candidates, { limit: 50 });
    expect(ranked.suggestions.length).toBeGreaterThan(0);
    expect(ranked.suggestions.every((s) => s.name === 'Coffee Maker')).toBe(true);
    expect(ranked.considered).toBe(candidates.length);
  });

  it('never suggests an excluded product type, even for a keyword search that found it', () => {
    const candidates = [...candidatesOf('Espresso Machine'), ...candidatesOf('Coffee Maker')];
    const ranked = rankCandidates(intentOf({ excludedProductTypes: ['espresso machine'] }), candidates, { limit: 50 });
    expect(ranked.suggestions.length).toBeGreaterThan(0);
    expect(ranked.suggestions.some((s) => s.name === 'Espresso Machine')).toBe(false);
    expect(ranked.suggestions[0].satisfied).toContain('product is not espresso machine');
  });

  it('requires one of the listed option values', () => {
    const ranked = rankCandidates(
      intentOf({ productTypes: ['Coffee Maker'], requiredOptions: { type: ['drip', 'french press'] } }),
      candidatesOf('Coffee Maker'),
      { limit: 50 },
    );
    expect(ranked.suggestions.length).toBeGreaterThan(0);
    expect(ranked.suggestions.every((s) => ['drip', 'french press'].includes(s.options.type))).toBe(true);
  });

  it('requires every listed option', () => {
    const ranked = rankCandidates(
      intentOf({
        productTypes: ['Headphones'],
        requiredOptions: { type: ['over-ear'], connectivity: ['wireless'], color: ['black'] },
      }),
      candidatesOf('Headphones'),
      { limit: 50 },
    );
    expect(ranked.suggestions.length).toBeGreaterThan(0);
    for (const s of ranked.suggestions) {
      expect(s.options).toMatchObject({ type: 'over-ear', connectivity: 'wireless', color: 'black' });
      expect(s.satisfied).toEqual(
        expect.arrayContaining(['color is black', 'connectivity is wireless', 'type is over-ear']),
      );
    }
  });

  it('drops excluded option values', () => {
    const ranked = rankCandidates(
      intentOf({ productTypes: ['Running Shoes'], excludedOptions: { material: ['leather'] } }),
      candidatesOf('Running Shoes'),
      { limit: 50 },
    );
    expect(ranked.suggestions.length).toBeGreaterThan(0);
    expect(ranked.suggestions.some((s) => s.options.material === 'leather')).toBe(false);
  });

  it('keeps prices within min and max, inclusive', () => {
    const candidates = [
      item({ itemId: 'a', price: 9499 }),
      item({ itemId: 'b', price: 9500 }),
      item({ itemId: 'c', price: 10000 }),
      item({ itemId: 'd', price: 10001 }),
    ];
    const ranked = rankCandidates(intentOf({ minPrice: 9500, maxPrice: 10000 }), candidates);
    expect(ranked.suggestions.map((s) => s.itemId).sort()).toEqual(['b', 'c']);
    expect(ranked.suggestions.find((s) => s.itemId === 'b')?.satisfied).toEqual([
      'price $95.00 ≥ $95.00',
      'price $95.00 ≤ $100.00',
      'in stock',
    ]);
  });

  it('never suggests an item out of stock', () => {
    const ranked = rankCandidates(intentOf({ productTypes: ['Wireless Earbuds'] }), candidatesOf('Wireless Earbuds'), {
      limit: 50,
    });
    expect(ranked.suggestions.length).toBeGreaterThan(0);
    expect(ranked.suggestions.every((s) => s.available)).toBe(true);
  });

  it('does not let relevance or keywords lift an item that breaks a constraint', () => {
    const ranked = rankCandidates(intentOf({ maxPrice: 10000, keywords: ['drip', 'white'] }), [
      item({ itemId: 'dear', price: 10001, relevance: 100 }),
      item({ itemId: 'fine', price: 9000, relevance: 0.01, options: { type: 'espresso' } }),
    ]);
    expect(ranked.suggestions.map((s) => s.itemId)).toEqual(['fine']);
  });

  it('limits suggestions, 5 by default', () => {
    const candidates = candidatesOf('Tea Kettle');
    expect(rankCandidates(intentOf({ productTypes: ['Tea Kettle'] }), candidates).suggestions).toHaveLength(5);
    expect(
      rankCandidates(intentOf({ productTypes: ['Tea Kettle'] }), candidates, { limit: 2 }).suggestions,
    ).toHaveLength(2);
  });

  it('returns nothing at all for no candidates', () => {
    expect(rankCandidates(intentOf({ productTypes: ['Sofa'] }), [])).toEqual({
      suggestions: [],
      alternatives: [],
      constraints: ['product is Sofa', 'in stock'],
      considered: 0,
      outOfStockMatches: 0,
    });
  });
});

describe('rankCandidates: order', () => {
  it('price-sensitive: the cheapest matching item comes first, then ascending price', () => {
    const candidates = candidatesOf('Laptop');
    const ranked = rankCandidates(intentOf({ productTypes: ['Laptop'], priceSensitive: true }), candidates);
    const cheapest = Math.min(...candidates.filter((c) => c.available).map((c) => c.price));
    expect(ranked.suggestions[0].price).toBe(cheapest);
    const prices = ranked.suggestions.map((s) => s.price);
    expect(prices).toEqual([...prices].sort((a, b) => a - b));
  });

  it('price-sensitive wins over relevance', () => {
    const ranked = rankCandidates(intentOf({ priceSensitive: true }), [
      item({ itemId: 'relevant', price: 20000, relevance: 3 }),
      item({ itemId: 'cheap', price: 10000, relevance: 0.2 }),
    ]);
    expect(ranked.suggestions.map((s) => s.itemId)).toEqual(['cheap', 'relevant']);
  });

  it('otherwise by total score, relevance counting most', () => {
    const ranked = rankCandidates(intentOf(), [
      item({ itemId: 'cheap', price: 10000, relevance: 0.2 }),
      item({ itemId: 'relevant', price: 20000, relevance: 3 }),
    ]);
    expect(ranked.suggestions.map((s) => s.itemId)).toEqual(['relevant', 'cheap']);
  });

  it('keywords found in option values rank an item higher', () => {
    const ranked = rankCandidates(intentOf({ keywords: ['white'] }), [
      item({ itemId: 'black', options: { color: 'black' }, price: 10000 }),
      item({ itemId: 'white', options: { color: 'white' }, price: 12000 }),
    ]);
    expect(ranked.suggestions.map((s) => s.itemId)).toEqual(['white', 'black']);
    expect(ranked.suggestions[0].score.keywordMatches).toBe(1);
  });

  it('breaks equal scores by price, then item id', () => {
    const ranked = rankCandidates(intentOf(), [
      item({ itemId: 'z', price: 10000 }),
      item({ itemId: 'b', price: 10000 }),
      item({ itemId: 'a', price: 10000 }),
    ]);
    expect(ranked.suggestions.map((s) => s.itemId)).toEqual(['a', 'b', 'z']);
  });

  it('reports score parts that add up to the total', () => {
    const ranked = rankCandidates(
      intentOf({ productTypes: ['Coffee Maker'], requiredOptions: { type: ['drip'] }, keywords: ['white'] }),
      candidatesOf('Coffee Maker'),
    );
    for (const s of ranked.suggestions) {
      expect(Object.keys(s.score).sort()).toEqual([
        'keywordMatches',
        'optionMatches',
        'pricePosition',
        'relevance',
        'total',
      ]);
      expect(s.score.optionMatches).toBe(1);
      const { relevance, optionMatches, keywordMatches, pricePosition, total } = s.score;
      expect(total).toBeCloseTo(relevance + 0.5 * optionMatches + 0.25 * keywordMatches + 0.1 * pricePosition, 3);
      expect(pricePosition).toBeGreaterThanOrEqual(0);
      expect(pricePosition).toBeLessThanOrEqual(1);
    }
  });
});

describe('rankCandidates: alternatives when nothing matches', () => {
  it('names the nearest relaxations of the requested product, labelled with what they break', () => {
    const ranked = rankCandidates(
      intentOf({ productTypes: ['Wireless Earbuds'], maxPrice: 5000 }),
      candidatesOf('Wireless Earbuds'),
    );
    expect(ranked.suggestions).toEqual([]);
    expect(ranked.alternatives.length).toBeGreaterThan(0);
    expect(ranked.alternatives.length).toBeLessThanOrEqual(3);
    for (const a of ranked.alternatives) {
      expect(a.name).toBe('Wireless Earbuds');
      expect(a.available).toBe(true);
      expect(a.broken).toEqual([`price ${formatCents(a.price)} > $50.00`]);
    }
    // The nearest relaxation is the cheapest: it misses the budget by the least.
    expect(ranked.alternatives[0].price).toBe(22649);
  });

  it('prefers fewer broken constraints, and stock problems last', () => {
    const ranked = rankCandidates(intentOf({ requiredOptions: { color: ['red'] }, maxPrice: 10000 }), [
      item({ itemId: 'two', options: { color: 'blue' }, price: 20000 }),
      item({ itemId: 'stock', options: { color: 'red' }, price: 9000, available: false }),
      item({ itemId: 'colour', options: { color: 'blue' }, price: 9000 }),
    ]);
    expect(ranked.outOfStockMatches).toBe(1);
    expect(ranked.alternatives.map((a) => [a.itemId, a.broken])).toEqual([
      ['colour', ['color is blue, not red']],
      ['stock', ['out of stock']],
      ['two', ['color is blue, not red', 'price $200.00 > $100.00']],
    ]);
  });

  it('the right kind a little over budget comes before the wrong kind at the price; far over does not', () => {
    const intent = intentOf({ requiredOptions: { type: ['french press'] }, maxPrice: 10000 });
    const near = rankCandidates(intent, [
      item({ itemId: 'drip', options: { type: 'drip' }, price: 9000 }),
      item({ itemId: 'press', options: { type: 'french press' }, price: 10500 }),
    ]);
    expect(near.alternatives.map((a) => a.itemId)).toEqual(['press', 'drip']);
    const far = rankCandidates(intent, [
      item({ itemId: 'press', options: { type: 'french press' }, price: 30000 }),
      item({ itemId: 'drip', options: { type: 'drip' }, price: 9000 }),
    ]);
    expect(far.alternatives.map((a) => a.itemId)).toEqual(['drip', 'press']);
  });

  it('a required option value the product lacks is a labelled relaxation', () => {
    const ranked = rankCandidates(
      intentOf({ productTypes: ['Running Shoes'], requiredOptions: { size: ['12'] } }),
      candidatesOf('Running Shoes'),
    );
    expect(ranked.suggestions).toEqual([]);
    expect(ranked.alternatives.length).toBeGreaterThan(0);
    for (const a of ranked.alternatives) expect(a.broken).toEqual([`size is ${a.options.size}, not 12`]);
  });

  it('never offers a different product type than the one asked for', () => {
    const ranked = rankCandidates(intentOf({ productTypes: ['Coffee Maker'], maxPrice: 100 }), [
      ...candidatesOf('Espresso Machine'),
      ...candidatesOf('Coffee Maker'),
      ...candidatesOf('Electric Kettle'),
    ]);
    expect(ranked.alternatives.length).toBeGreaterThan(0);
    expect(ranked.alternatives.every((a) => a.name === 'Coffee Maker')).toBe(true);
  });

  it('never offers an excluded product type or an excluded option value', () => {
    const ranked = rankCandidates(
      intentOf({
        excludedProductTypes: ['Espresso Machine'],
        excludedOptions: { type: ['espresso'] },
        maxPrice: 100,
      }),
      [...candidatesOf('Espresso Machine').map((c) => ({ ...c, relevance: 9 })), ...candidatesOf('Coffee Maker')],
      { maxAlternatives: 20 },
    );
    expect(ranked.alternatives.length).toBeGreaterThan(0);
    expect(ranked.alternatives.some((a) => a.name === 'Espresso Machine')).toBe(false);
    expect(ranked.alternatives.some((a) => a.options.type === 'espresso')).toBe(false);
  });

  it('for a keyword search, only the best-matching product supplies alternatives', () => {
    const ranked = rankCandidates(intentOf({ keywords: ['headphnes'], maxPrice: 1000 }), [
      ...candidatesOf('Headphones').map((c) => ({ ...c, relevance: 0.9 })),
      ...candidatesOf('Wireless Earbuds').map((c) => ({ ...c, relevance: 0.3 })),
    ]);
    expect(ranked.alternatives.length).toBeGreaterThan(0);
    expect(ranked.alternatives.every((a) => a.name === 'Headphones')).toBe(true);
  });

  it('offers none when the product type itself is not sold', () => {
    const ranked = rankCandidates(intentOf({ productTypes: ['Sofa'] }), candidatesOf('Bookshelf'));
    expect(ranked.suggestions).toEqual([]);
    expect(ranked.alternatives).toEqual([]);
  });

  it('offers none when every item was refused outright', () => {
    const ranked = rankCandidates(intentOf({ excludedOptions: { material: ['leather'] } }), [
      item({ options: { material: 'leather' } }),
    ]);
    expect(ranked).toMatchObject({ suggestions: [], alternatives: [], considered: 1 });
  });

  it('limits alternatives, 3 by default', () => {
    const intent = intentOf({ productTypes: ['Tea Kettle'], maxPrice: 5000 });
    expect(rankCandidates(intent, candidatesOf('Tea Kettle')).alternatives).toHaveLength(3);
    expect(rankCandidates(intent, candidatesOf('Tea Kettle'), { maxAlternatives: 1 }).alternatives).toHaveLength(1);
  });

  it('gives no alternatives when something matches', () => {
    const ranked = rankCandidates(intentOf({ productTypes: ['Tea Kettle'] }), candidatesOf('Tea Kettle'));
    expect(ranked.alternatives).toEqual([]);
  });
});
