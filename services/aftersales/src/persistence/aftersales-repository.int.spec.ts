import { DataSource } from 'typeorm';
import { openServiceDatabase } from '@assent/eventstore';
import { loadOrders, loadUsers } from '@assent/taubench';
import { createPgliteDatabase, createPostgresDatabase, TestDatabase } from '@assent/testing';
import { orderIdCandidate, resolveOrderId } from '../domain/order-id';
import { OrderView } from '../domain/order-view';
import { aftersalesMigrations } from './aftersales.migrations';
import {
  AftersalesRepository,
  fromTauOrder,
  OrderIdTakenError,
  TauOrderJson,
  toTauOrder,
} from './aftersales-repository';

/** An order as a τ-bench task leaves it after an exchange (from tasks_train.json's expected_changed). */
const exchanged: TauOrderJson = {
  order_id: '#W7736983',
  user_id: 'sofia_kovacs_7075',
  address: {
    address1: '546 Lakeview Drive',
    address2: 'Suite 491',
    city: 'Philadelphia',
    country: 'USA',
    state: 'PA',
    zip: '19049',
  },
  items: [
    {
      name: 'Coffee Maker',
      product_id: '7996920482',
      item_id: '5952720925',
      price: 260.19,
      options: { color: 'black', capacity: '4 cups', type: 'espresso', features: 'timer' },
    },
  ],
  fulfillments: [{ tracking_id: ['373896656494'], item_ids: ['5952720925'] }],
  status: 'exchange requested',
  payment_history: [{ transaction_type: 'payment', amount: 260.19, payment_method_id: 'paypal_6840891' }],
  exchange_items: ['5952720925'],
  exchange_new_items: ['1323134954'],
  exchange_payment_method_id: 'paypal_6840891',
  exchange_price_difference: -23.24,
};

const assentOrder = (overrides: Partial<OrderView> = {}): OrderView => ({
  orderId: orderIdCandidate('mandate-1'),
  userId: 'sofia_kovacs_7075',
  status: 'pending',
  items: [
    { itemId: '5952720925', productId: '7996920482', name: 'Coffee Maker', options: { color: 'black' }, price: 26_019 },
    { itemId: '5952720925', productId: '7996920482', name: 'Coffee Maker', options: { color: 'black' }, price: 26_019 },
  ],
  fulfillments: [],
  paymentHistory: [{ transactionType: 'payment', amount: 53_538, paymentMethodId: 'paypal_6840891' }],
  address: exchanged.address,
  cancelReason: null,
  returnItems: null,
  returnPaymentMethodId: null,
  exchangeItems: null,
  exchangeNewItems: null,
  exchangePaymentMethodId: null,
  exchangePriceDifference: null,
  shipping: 500,
  tax: 500,
  origin: 'assent',
  mandateId: 'mandate-1',
  createdAt: null,
  ...overrides,
});

describe('τ-bench order conversion', () => {
  it('round-trips every historical order and an exchanged one exactly', () => {
    for (const order of Object.values(loadOrders())) expect(toTauOrder(fromTauOrder(order))).toEqual(order);
    expect(toTauOrder(fromTauOrder(exchanged))).toEqual(exchanged);
    expect(fromTauOrder(exchanged).exchangePriceDifference).toBe(-2_324);
  });
});

describe.each([
  ['PostgreSQL', createPostgresDatabase],
  ['PGlite', () => createPgliteDatabase()],
])('after-sales repository on %s', (_name, createDatabase) => {
  let db: TestDatabase;
  let dataSource: DataSource;
  const repo = new AftersalesRepository('aftersales');

  beforeAll(async () => {
    db = await createDatabase();
    dataSource = await openServiceDatabase({
      schema: 'aftersales',
      target: db.target,
      migrations: aftersalesMigrations,
    });
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  it('seeds the 500 customers and 1,000 historical orders once', async () => {
    expect(await repo.seedIfEmpty(dataSource.manager)).toEqual({ customers: 500, orders: 1_000 });
    expect(await repo.seedIfEmpty(dataSource.manager)).toEqual({ customers: 0, orders: 0 });
    const [{ n, nulls }] = await dataSource.query(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE return_items IS NULL AND cancel_reason IS NULL)::int AS nulls
       FROM aftersales.orders WHERE origin = 'seed'`,
    );
    expect({ n, nulls }).toEqual({ n: 1_000, nulls: 1_000 });
  });

  it('keeps amounts in cents and gives τ-bench orders back exactly as the JSON has them', async () => {
    const orders = loadOrders();
    const samples = [
      '#W1006327',
      ...Object.keys(orders)
        .filter((id) => orders[id].status === 'cancelled')
        .slice(0, 2),
    ];
    samples.push(Object.keys(orders).find((id) => orders[id].fulfillments.length > 0)!);
    for (const id of samples) {
      const view = await repo.getOrder(dataSource.manager, id);
      expect(view).not.toBeNull();
      expect(toTauOrder(view!)).toEqual(orders[id]);
    }
    const [raw] = await dataSource.query(
      `SELECT items->0->>'price' AS price, payment_history->0->>'amount' AS amount FROM aftersales.orders
       WHERE order_id = '#W1006327'`,
    );
    expect(raw).toEqual({ price: '50351', amount: '257753' });
    expect(await repo.getOrder(dataSource.manager, '#W0000000')).toBeNull();
  });

  it('lists a customer orders and knows their address', async () => {
    const users = loadUsers();
    const [userId, user] = Object.entries(users).find(([, u]) => u.orders.length >= 3)!;
    const listed = await repo.listOrders(dataSource.manager, userId);
    expect(listed.map((o) => o.orderId).sort()).toEqual([...user.orders].sort());
    expect(listed.every((o) => o.userId === userId && o.origin === 'seed' && o.createdAt !== null)).toBe(true);
    expect(await repo.customerAddress(dataSource.manager, userId)).toEqual(user.address);
    expect(await repo.getCustomer(dataSource.manager, userId)).toMatchObject({
      email: user.email,
      name: { firstName: user.name.first_name, lastName: user.name.last_name },
    });
    expect(await repo.customerAddress(dataSource.manager, 'nobody_0000')).toBeNull();
    expect(await repo.listOrders(dataSource.manager, 'nobody_0000')).toEqual([]);
  });

  it('saves an Assent order, updates it in place, and finds it by mandate', async () => {
    const order = assentOrder();
    await dataSource.transaction((m) => repo.saveOrder(m, order));
    const stored = await repo.getOrder(dataSource.manager, order.orderId);
    expect(stored).toEqual({ ...order, createdAt: expect.any(String) });
    await repo.saveOrder(dataSource.manager, { ...order, status: 'cancelled', cancelReason: 'ordered by mistake' });
    const cancelled = await repo.findOrderByMandate(dataSource.manager, 'mandate-1');
    expect(cancelled).toMatchObject({
      status: 'cancelled',
      cancelReason: 'ordered by mistake',
      createdAt: stored!.createdAt,
    });
    expect(toTauOrder(cancelled!)).toMatchObject({
      cancel_reason: 'ordered by mistake',
      payment_history: [{ amount: 535.38 }],
    });
    const mine = await repo.listOrders(dataSource.manager, 'sofia_kovacs_7075');
    expect(mine[mine.length - 1].orderId).toBe(order.orderId);
  });

  it('never overwrites another order with a colliding id', async () => {
    await expect(repo.saveOrder(dataSource.manager, assentOrder({ orderId: '#W1006327' }))).rejects.toBeInstanceOf(
      OrderIdTakenError,
    );
    await expect(repo.saveOrder(dataSource.manager, assentOrder({ mandateId: 'mandate-2' }))).rejects.toBeInstanceOf(
      OrderIdTakenError,
    );
    expect(toTauOrder((await repo.getOrder(dataSource.manager, '#W1006327'))!)).toEqual(loadOrders()['#W1006327']);
    // With the read model as the lookup, a redelivery finds its own order and a collision moves on.
    await repo.saveOrder(
      dataSource.manager,
      assentOrder({ orderId: orderIdCandidate('mandate-3'), mandateId: 'other' }),
    );
    const ownerOf = async (id: string) => {
      const o = await repo.getOrder(dataSource.manager, id);
      return o && { mandateId: o.mandateId };
    };
    expect(await resolveOrderId('mandate-1', ownerOf)).toBe(orderIdCandidate('mandate-1'));
    expect(await resolveOrderId('mandate-3', ownerOf)).toBe(orderIdCandidate('mandate-3', 1));
  });

  it('refuses rows the τ-bench model does not allow', async () => {
    await expect(
      repo.saveOrder(dataSource.manager, assentOrder({ orderId: 'W123', mandateId: 'm-x' })),
    ).rejects.toThrow();
    await expect(
      repo.saveOrder(
        dataSource.manager,
        assentOrder({ orderId: '#W7654321', status: 'shipped' as 'pending', mandateId: 'm-y' }),
      ),
    ).rejects.toThrow();
    await expect(
      repo.saveOrder(dataSource.manager, assentOrder({ orderId: '#W7654322', mandateId: null })),
    ).rejects.toThrow();
  });
});
