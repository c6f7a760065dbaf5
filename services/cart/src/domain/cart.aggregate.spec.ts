import { cartHash, DEFAULT_PRICING, EventDraft, EventEnvelope, priceCart, PricingPolicy } from '@assent/contracts';
import { cartAggregate, CartCommand, CartState, CatalogItem } from './cart.aggregate';

const turn = { conversationId: 'c1', turnId: 't1' };
const kettle: CatalogItem = {
  itemId: '1240311797',
  productId: '1075968781',
  name: 'Electric Kettle',
  options: { capacity: '1L' },
  price: 13717,
  available: true,
};

function run(commands: CartCommand[]): { state: CartState; events: EventDraft[] } {
  let state = cartAggregate.initialState;
  const events: EventDraft[] = [];
  commands.forEach((command, i) => {
    for (const draft of cartAggregate.decide(command, state)) {
      events.push(draft);
      state = cartAggregate.evolve(state, { ...draft, eventId: `e${i}`, sequence: i + 1 } as unknown as EventEnvelope);
    }
  });
  return { state, events };
}

const add = (item: CatalogItem | null, quantity = 1, shopperId = 'ann'): CartCommand => ({
  type: 'AddItem',
  turn,
  cartId: 'cart-c1',
  shopperId,
  item,
  itemId: item?.itemId ?? 'nope',
  quantity,
  suggestionEventId: 'sugg-1',
});
const checkout = (prices: CatalogItem[], shopperId = 'ann', pricing: PricingPolicy = DEFAULT_PRICING): CartCommand => ({
  type: 'RequestCheckout',
  turn,
  cartId: 'cart-c1',
  shopperId,
  prices: new Map(prices.map((p) => [p.itemId, p])),
  pricing,
});

describe('cart aggregate', () => {
  it('adds an available catalog item at its price, caused by the suggestion', () => {
    const { events, state } = run([add(kettle, 2)]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'cart.ItemAdded',
      payload: { itemId: kettle.itemId, unitPrice: 13717, quantity: 2, suggestionEventId: 'sugg-1' },
    });
    expect(state.lines).toEqual([expect.objectContaining({ itemId: kettle.itemId, quantity: 2 })]);
  });

  it('refuses unknown and out-of-stock items, and other shoppers', () => {
    expect(run([add(null)]).events[0]).toMatchObject({ type: 'cart.CartRequestRefused', payload: { request: 'add' } });
    expect(run([add({ ...kettle, available: false })]).events[0].type).toBe('cart.CartRequestRefused');
    const { events } = run([add(kettle), add(kettle, 1, 'mallory')]);
    expect(events[1]).toMatchObject({
      type: 'cart.CartRequestRefused',
      payload: { reason: expect.stringMatching(/another shopper/) },
    });
  });

  it('prices checkout from the live price list, with an exact hash', () => {
    const repriced = { ...kettle, price: 12000 };
    const { events } = run([add(kettle, 2), checkout([repriced])]);
    const requested = events[1] as EventDraft<{ summary: ReturnType<typeof priceCart>; cartHash: string }>;
    expect(requested.type).toBe('cart.CheckoutRequested');
    expect(requested.payload.summary).toMatchObject({ subtotal: 24000, shipping: 0, tax: 0, total: 24000 });
    expect(requested.payload.cartHash).toBe(cartHash('cart-c1', 'ann', requested.payload.summary));
  });

  it('refuses to check out an empty cart or an item that went out of stock', () => {
    expect(run([checkout([])]).events[0]).toMatchObject({
      payload: { request: 'checkout', reason: 'the cart is empty' },
    });
    expect(run([add(kettle), checkout([{ ...kettle, available: false }])]).events[1].type).toBe(
      'cart.CartRequestRefused',
    );
  });

  it('empties when the order is placed, once', () => {
    const close: CartCommand = { type: 'CloseCart', turn, cartId: 'cart-c1', shopperId: 'ann', orderId: '#W1' };
    const { events, state } = run([add(kettle), close, close]);
    expect(events.map((e) => e.type)).toEqual(['cart.ItemAdded', 'cart.CartCheckedOut']);
    expect(state.lines).toEqual([]);
  });
});

describe('pricing', () => {
  it('adds shipping below the threshold and rounds tax half up in integer cents', () => {
    const policy = new PricingPolicy(599, 5000, 825);
    const line = { itemId: 'i', productId: 'p', name: 'n', options: {}, quantity: 3, unitPrice: 1001 };
    const summary = priceCart([line], policy);
    expect(summary).toMatchObject({ subtotal: 3003, shipping: 599, tax: 248, total: 3850 });
    expect(summary.total).toBe(summary.subtotal + summary.shipping + summary.tax);
  });
});
