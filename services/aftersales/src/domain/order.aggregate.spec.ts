import { EventEnvelope, PaymentAuthorized, PayloadOf, shoppingRegistry } from '@assent/contracts';
import { foldEvents } from '@assent/eventstore';
import { InvalidOrderCommandError, OrderCommand, orderAggregate, OrderIdCollisionError } from './order.aggregate';
import { orderViewFromPlaced } from './order-view';

const payment: PayloadOf<typeof PaymentAuthorized> = {
  conversationId: 'conv-1',
  turnId: 'turn-7',
  paymentId: 'pay-mandate-1',
  mandateId: 'mandate-1',
  shopperId: 'ava_1',
  cartId: 'cart-1',
  amount: 12_300,
  currency: 'USD',
  paymentMethodId: 'gift_card_1',
  providerReference: 'sbx_1',
  summary: {
    lines: [
      {
        itemId: '111',
        productId: 'p1',
        name: 'Mug',
        options: { color: 'red' },
        quantity: 2,
        unitPrice: 1_500,
        lineTotal: 3_000,
      },
      { itemId: '222', productId: 'p2', name: 'Kettle', options: {}, quantity: 1, unitPrice: 8_000, lineTotal: 8_000 },
    ],
    subtotal: 11_000,
    shipping: 500,
    tax: 800,
    total: 12_300,
    currency: 'USD',
  },
};
const address = { address1: '1 Main St', address2: 'Apt 2', city: 'Austin', state: 'TX', country: 'USA', zip: '78701' };
type Place = Extract<OrderCommand, { type: 'PlaceOrder' }>;
const place = (overrides: Partial<Place> = {}): OrderCommand => ({
  type: 'PlaceOrder',
  orderId: '#W1234567',
  payment,
  address,
  ...overrides,
});

const registry = shoppingRegistry();
const envelope = (type: string, payload: unknown): EventEnvelope => ({
  eventId: '0190f2a0-0000-7000-8000-000000000001',
  type,
  schemaVersion: 1,
  streamId: '#W1234567',
  sequence: 1,
  occurredAt: '2025-06-01T12:00:00Z',
  correlationId: 'conv-1',
  causationId: null,
  actor: { kind: 'system', id: 'aftersales' },
  traceparent: null,
  payload: registry.validateForWrite(type, payload),
});

describe('order aggregate', () => {
  it('places a pending order with one item entry per unit and the payment in its history', () => {
    const [event] = orderAggregate.decide(place(), orderAggregate.initialState);
    expect(event.type).toBe('aftersales.OrderPlaced');
    const payload = registry.validateForWrite(event.type, event.payload) as Record<string, unknown>;
    expect(payload).toMatchObject({
      orderId: '#W1234567',
      shopperId: 'ava_1',
      mandateId: 'mandate-1',
      paymentId: 'pay-mandate-1',
      cartId: 'cart-1',
      status: 'pending',
      shipping: 500,
      tax: 800,
      total: 12_300,
      address,
      paymentHistory: [{ transactionType: 'payment', amount: 12_300, paymentMethodId: 'gift_card_1' }],
    });
    expect(payload.items).toEqual([
      { itemId: '111', productId: 'p1', name: 'Mug', options: { color: 'red' }, price: 1_500 },
      { itemId: '111', productId: 'p1', name: 'Mug', options: { color: 'red' }, price: 1_500 },
      { itemId: '222', productId: 'p2', name: 'Kettle', options: {}, price: 8_000 },
    ]);
  });

  it('decides nothing when the same payment places the order again', () => {
    const [event] = orderAggregate.decide(place(), orderAggregate.initialState);
    const state = foldEvents(orderAggregate, [envelope(event.type, event.payload)]);
    expect(state).toMatchObject({
      orderId: '#W1234567',
      mandateId: 'mandate-1',
      shopperId: 'ava_1',
      status: 'pending',
      total: 12_300,
    });
    expect(orderAggregate.decide(place(), state)).toEqual([]);
  });

  it('refuses another mandate on an order id already used, so the caller picks the next id', () => {
    const [event] = orderAggregate.decide(place(), orderAggregate.initialState);
    const state = foldEvents(orderAggregate, [envelope(event.type, event.payload)]);
    expect(() => orderAggregate.decide(place({ payment: { ...payment, mandateId: 'mandate-2' } }), state)).toThrow(
      OrderIdCollisionError,
    );
  });

  it('refuses a malformed order id and a payment that is not the approved total', () => {
    expect(() => orderAggregate.decide(place({ orderId: 'W1234567' }), orderAggregate.initialState)).toThrow(
      InvalidOrderCommandError,
    );
    expect(() =>
      orderAggregate.decide(place({ payment: { ...payment, amount: 12_299 } }), orderAggregate.initialState),
    ).toThrow(InvalidOrderCommandError);
  });

  it('gives the read model its row for the new order', () => {
    const [event] = orderAggregate.decide(place(), orderAggregate.initialState);
    const view = orderViewFromPlaced(event.payload as Parameters<typeof orderViewFromPlaced>[0]);
    expect(view).toMatchObject({
      orderId: '#W1234567',
      userId: 'ava_1',
      status: 'pending',
      fulfillments: [],
      origin: 'assent',
      mandateId: 'mandate-1',
      cancelReason: null,
      shipping: 500,
      tax: 800,
    });
    expect(view.items).toHaveLength(3);
  });
});

describe('cancelling within the undo window', () => {
  const placedAt = '2026-11-25T10:00:00.000Z';
  function placed() {
    const [draft] = orderAggregate.decide(place(), orderAggregate.initialState);
    return orderAggregate.evolve(orderAggregate.initialState, {
      ...draft,
      occurredAt: placedAt,
    } as unknown as EventEnvelope);
  }
  const cancel = (over: Partial<Extract<OrderCommand, { type: 'CancelOrder' }>> = {}): OrderCommand => ({
    type: 'CancelOrder',
    orderId: '#W1234567',
    shopperId: payment.shopperId,
    reason: 'ordered by mistake',
    now: new Date(Date.parse(placedAt) + 60_000),
    undoWindowSeconds: 600,
    ...over,
  });

  it('cancels a pending order at no cost and refunds every payment to its method', () => {
    const [event] = orderAggregate.decide(cancel(), placed());
    expect(event).toMatchObject({
      type: 'aftersales.OrderCancelled',
      payload: {
        orderId: '#W1234567',
        withinUndoWindow: true,
        refunds: [{ amount: 12_300 }],
        reason: 'ordered by mistake',
      },
    });
    const after = orderAggregate.evolve(placed(), event as unknown as EventEnvelope);
    expect(() => orderAggregate.decide(cancel(), after)).toThrow(/cancelled, not pending/);
  });

  it('refuses after the window, for another shopper, or for an unknown order', () => {
    expect(() => orderAggregate.decide(cancel({ now: new Date(Date.parse(placedAt) + 601_000) }), placed())).toThrow(
      /undo window/,
    );
    expect(() => orderAggregate.decide(cancel({ shopperId: 'mallory' }), placed())).toThrow(/no order/);
    expect(() => orderAggregate.decide(cancel(), orderAggregate.initialState)).toThrow(/no order/);
  });
});
