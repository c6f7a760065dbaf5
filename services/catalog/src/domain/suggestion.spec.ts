import { InvalidEventError, ShoppingIntent, shoppingIntent, shoppingRegistry } from '@assent/contracts';
import { loadProducts, toCents } from '@assent/taubench';
import { CandidateItem, RANKER_VERSION, rankCandidates, RankedCandidates } from './ranking';
import {
  decideSuggestion,
  IntentCapturedPayload,
  NoMatchFoundPayload,
  noMatchReason,
  pluralize,
  ProductsSuggestedPayload,
  searchQuery,
} from './suggestion';

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

function captured(intent: ShoppingIntent): IntentCapturedPayload {
  return {
    conversationId: 'conv-1',
    turnId: 'turn-1',
    shopperId: 'yusuf_rossi_9620',
    intent,
    refinesTurnId: null,
    confidence: 0.9,
    model: { name: 'rules', version: '1' },
    fallback: null,
    modelMs: 1,
  };
}

const versions = { ranker: RANKER_VERSION, model: 'rules@1' };

function decide(intent: ShoppingIntent, candidates: CandidateItem[]) {
  return decideSuggestion(captured(intent), rankCandidates(intent, candidates), versions);
}

describe('decideSuggestion: products suggested', () => {
  const intent = shoppingIntent({
    productTypes: ['Coffee Maker'],
    excludedProductTypes: ['Espresso Machine'],
    requiredOptions: { type: ['french press'] },
    maxPrice: 25000,
    keywords: ['just', 'me'],
  });
  const candidates = [...candidatesOf('Coffee Maker'), ...candidatesOf('Espresso Machine')];

  it('records what an auditor needs to know why these items were suggested', () => {
    const draft = decide(intent, candidates);
    expect(draft.type).toBe('catalog.ProductsSuggested');
    const payload = draft.payload as ProductsSuggestedPayload;
    expect(payload).toMatchObject({
      conversationId: 'conv-1',
      turnId: 'turn-1',
      intent,
      query: 'Coffee Maker just me',
      constraints: [
        'product is Coffee Maker',
        'product is not Espresso Machine',
        'type is french press',
        'price ≤ $250.00',
        'in stock',
      ],
      candidatesConsidered: candidates.length,
      rankerVersion: RANKER_VERSION,
      modelVersion: 'rules@1',
    });
    expect(payload.items.map((i) => i.itemId)).toEqual(['3020722515']);
    expect(payload.items[0].satisfied).toEqual([
      'product is Coffee Maker',
      'product is not Espresso Machine',
      'type is french press',
      'price $238.64 ≤ $250.00',
      'in stock',
    ]);
    expect(payload.items[0].score.total).toBeGreaterThan(0);
  });

  it('is a valid event for the shopping registry', () => {
    const draft = decide(intent, candidates);
    expect(() => shoppingRegistry().validateForWrite(draft.type, draft.payload)).not.toThrow();
  });

  it('refuses a ranking that would substitute an item breaking a constraint', () => {
    const ranked = rankCandidates(shoppingIntent({ productTypes: ['Espresso Machine'] }), candidates);
    expect(ranked.suggestions.length).toBeGreaterThan(0);
    expect(() => decideSuggestion(captured(intent), ranked, versions)).toThrow(/breaks product is Espresso Machine/);
  });

  it('refuses a suggested item whose price no longer meets the intent', () => {
    const ranked = rankCandidates(intent, candidates);
    const tampered: RankedCandidates = {
      ...ranked,
      suggestions: ranked.suggestions.map((s) => ({ ...s, price: 99_999 })),
    };
    expect(() => decideSuggestion(captured(intent), tampered, versions)).toThrow(/price \$999.99 > \$250.00/);
  });

  it('rejects a payload the contract does not allow', () => {
    const ranked = rankCandidates(intent, candidates);
    const broken = { ...ranked, suggestions: ranked.suggestions.map((s) => ({ ...s, itemId: '' })) };
    expect(() => decideSuggestion(captured(intent), broken, versions)).toThrow();
  });

  it('keeps the cheapest-first order of a price-sensitive search', () => {
    const cheap = shoppingIntent({ productTypes: ['Wireless Earbuds'], priceSensitive: true });
    const payload = decide(cheap, candidatesOf('Wireless Earbuds')).payload as ProductsSuggestedPayload;
    expect(payload.items[0]).toMatchObject({ itemId: '8555936349', price: 22649 });
    expect(payload.items.map((i) => i.price)).toEqual([...payload.items.map((i) => i.price)].sort((a, b) => a - b));
  });
});

describe('decideSuggestion: no match', () => {
  it('says the store does not sell a product type it has never heard of, with no alternatives', () => {
    const draft = decide(shoppingIntent({ productTypes: ['Sofa'] }), []);
    expect(draft.type).toBe('catalog.NoMatchFound');
    expect(draft.payload).toMatchObject({ reason: "We don't sell sofas", alternatives: [], candidatesConsidered: 0 });
  });

  it('says nothing matched the words of a keyword search', () => {
    const draft = decide(shoppingIntent({ keywords: ['good', 'deal', 'tv'], priceSensitive: true }), []);
    expect((draft.payload as NoMatchFoundPayload).reason).toBe('We don\'t sell anything matching "good deal tv"');
  });

  it('asks for a product when there was nothing to search for', () => {
    expect((decide(shoppingIntent(), []).payload as NoMatchFoundPayload).reason).toBe(
      'Tell us what kind of product you are looking for',
    );
  });

  it('names the budget that nothing meets and offers labelled alternatives', () => {
    const intent = shoppingIntent({ productTypes: ['Wireless Earbuds'], maxPrice: 5000 });
    const draft = decide(intent, candidatesOf('Wireless Earbuds'));
    const payload = draft.payload as NoMatchFoundPayload;
    expect(draft.type).toBe('catalog.NoMatchFound');
    expect(payload.reason).toBe('No wireless earbuds under $50.00');
    expect(payload.alternatives.length).toBeGreaterThan(0);
    for (const a of payload.alternatives) {
      expect(a.name).toBe('Wireless Earbuds');
      expect(a.broken).toEqual([expect.stringMatching(/^price \$\d+\.\d\d > \$50\.00$/)]);
    }
    expect(() => shoppingRegistry().validateForWrite(draft.type, draft.payload)).not.toThrow();
  });

  it('names options, exclusions and a price range in the reason', () => {
    const intent = shoppingIntent({
      productTypes: ['Tea Kettle'],
      requiredOptions: { material: ['glass'] },
      excludedOptions: { 'stovetop compatibility': ['gas'] },
      minPrice: 10000,
      maxPrice: 10500,
    });
    const payload = decide(intent, candidatesOf('Tea Kettle')).payload as NoMatchFoundPayload;
    expect(payload.reason).toBe(
      'No tea kettles with material glass without stovetop compatibility gas between $100.00 and $105.00',
    );
    expect(payload.alternatives.every((a) => a.options['stovetop compatibility'] !== 'gas')).toBe(true);
  });

  it('says "in stock" when stock is what is missing', () => {
    const intent = shoppingIntent({
      productTypes: ['Coffee Maker'],
      requiredOptions: { type: ['french press'] },
      minPrice: 24000,
    });
    const payload = decide(intent, candidatesOf('Coffee Maker')).payload as NoMatchFoundPayload;
    expect(payload.reason).toBe('No coffee makers with type french press over $240.00 in stock');
    expect(payload.alternatives[0]).toMatchObject({ itemId: '3020722515', broken: ['price $238.64 < $240.00'] });
  });

  it('never lists an excluded product among the alternatives', () => {
    const intent = shoppingIntent({
      keywords: ['espresso'],
      excludedProductTypes: ['Espresso Machine'],
      maxPrice: 100,
    });
    const candidates = [
      ...candidatesOf('Espresso Machine').map((c) => ({ ...c, relevance: 2 })),
      ...candidatesOf('Coffee Maker').map((c) => ({ ...c, relevance: 0.5 })),
    ];
    const payload = decide(intent, candidates).payload as NoMatchFoundPayload;
    expect(payload.alternatives.length).toBeGreaterThan(0);
    expect(payload.alternatives.every((a) => a.name === 'Coffee Maker')).toBe(true);
    expect(payload.reason).toBe('No coffee makers under $1.00');
  });

  it('caps the alternatives at what the contract allows', () => {
    const intent = shoppingIntent({ productTypes: ['Mechanical Keyboard'], maxPrice: 100 });
    const keyboards = candidatesOf('Mechanical Keyboard');
    const many = [...keyboards, ...keyboards.map((k) => ({ ...k, itemId: `${k.itemId}-copy` }))];
    const ranked = rankCandidates(intent, many, { maxAlternatives: 50 });
    expect(ranked.alternatives.length).toBeGreaterThan(20);
    const payload = decideSuggestion(captured(intent), ranked, versions).payload as NoMatchFoundPayload;
    expect(payload.alternatives).toHaveLength(20);
  });
});

describe('wording helpers', () => {
  it.each([
    ['Coffee Maker', 'coffee makers'],
    ['Wireless Earbuds', 'wireless earbuds'],
    ['Running Shoes', 'running shoes'],
    ['Bookshelf', 'bookshelves'],
    ['Wristwatch', 'wristwatches'],
    ['Sofa', 'sofas'],
    ['TV', 'TVs'],
    ['LED Light Bulb', 'LED light bulbs'],
    ['E-Reader', 'e-readers'],
    ['Battery', 'batteries'],
    ['Glass', 'glasses'],
  ])('%s -> %s', (name, plural) => expect(pluralize(name)).toBe(plural));

  it('builds the query from product types and keywords', () => {
    expect(searchQuery(shoppingIntent({ productTypes: ['Tea Kettle'], keywords: [' induction ', ''] }))).toBe(
      'Tea Kettle induction',
    );
  });

  it('falls back to the constraints when no product can be named', () => {
    const ranked: RankedCandidates = {
      suggestions: [],
      alternatives: [],
      constraints: ['in stock'],
      considered: 3,
      outOfStockMatches: 0,
    };
    expect(noMatchReason(shoppingIntent({ keywords: ['x'] }), ranked)).toBe('Nothing we sell meets all of: in stock');
  });
});

it('the registry rejects an invalid NoMatchFound too (sanity check of the contract used)', () => {
  expect(() => shoppingRegistry().validateForWrite('catalog.NoMatchFound', { reason: 1 })).toThrow(InvalidEventError);
});
