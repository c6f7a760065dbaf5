import { EntityManager } from 'typeorm';
import { quoteIdent } from '@assent/eventstore';
import { loadOrders, loadUsers, TauOrder, TauUser, toCents } from '@assent/taubench';
import { OrderAddress, OrderStatus, OrderView } from '../domain/order-view';

/** A τ-bench order as its JSON spells it (dollars), with the fields its write actions add. */
export type TauOrderJson = TauOrder & {
  cancel_reason?: string;
  return_items?: string[];
  return_payment_method_id?: string;
  exchange_items?: string[];
  exchange_new_items?: string[];
  exchange_payment_method_id?: string;
  exchange_price_difference?: number;
};

export interface Customer {
  userId: string;
  name: { firstName: string; lastName: string };
  email: string;
  address: OrderAddress;
}

/** The id is held by an order of another shopper or mandate: saving would overwrite it. */
export class OrderIdTakenError extends Error {
  constructor(readonly orderId: string) {
    super(`order id ${orderId} is taken by another order`);
    this.name = 'OrderIdTakenError';
  }
}

/** Cents to τ-bench dollars: exact to the cent (integer division by 100 rounds like parsing "12.34"). */
const dollars = (cents: number): number => Math.round(cents) / 100;

/** The jsonb shapes: τ-bench's keys, cents for amounts. */
interface ItemJson {
  item_id: string;
  product_id: string;
  name: string;
  options: Record<string, string>;
  price: number;
}
interface FulfillmentJson {
  tracking_id: string[];
  item_ids: string[];
}
interface PaymentJson {
  transaction_type: 'payment' | 'refund';
  amount: number;
  payment_method_id: string;
}

interface OrderRow {
  order_id: string;
  user_id: string;
  status: OrderStatus;
  items: ItemJson[];
  fulfillments: FulfillmentJson[];
  payment_history: PaymentJson[];
  address: OrderAddress;
  cancel_reason: string | null;
  return_items: string[] | null;
  return_payment_method_id: string | null;
  exchange_items: string[] | null;
  exchange_new_items: string[] | null;
  exchange_payment_method_id: string | null;
  exchange_price_difference_cents: number | null;
  shipping_cents: number;
  tax_cents: number;
  origin: 'seed' | 'assent';
  mandate_id: string | null;
  created_at: Date | string | null;
}

const COLUMNS = [
  'order_id',
  'user_id',
  'status',
  'items',
  'fulfillments',
  'payment_history',
  'address',
  'cancel_reason',
  'return_items',
  'return_payment_method_id',
  'exchange_items',
  'exchange_new_items',
  'exchange_payment_method_id',
  'exchange_price_difference_cents',
  'shipping_cents',
  'tax_cents',
  'origin',
  'mandate_id',
] as const;

const JSONB = new Set([
  'items',
  'fulfillments',
  'payment_history',
  'address',
  'return_items',
  'exchange_items',
  'exchange_new_items',
]);
const INTEGER = new Set(['exchange_price_difference_cents', 'shipping_cents', 'tax_cents']);

/** Each column read from `o`, one element of a jsonb array of rows: a bulk insert in one statement. */
const ROW_FROM_JSON = COLUMNS.map((c) =>
  // nullif: a JSON null must become SQL NULL, not a jsonb 'null' that IS NULL does not match.
  JSONB.has(c) ? `nullif(o->'${c}', 'null'::jsonb)` : INTEGER.has(c) ? `(o->>'${c}')::integer` : `o->>'${c}'`,
).join(', ');

function toRow(view: OrderView): Omit<OrderRow, 'created_at'> {
  return {
    order_id: view.orderId,
    user_id: view.userId,
    status: view.status,
    items: view.items.map((i) => ({
      item_id: i.itemId,
      product_id: i.productId,
      name: i.name,
      options: i.options,
      price: i.price,
    })),
    fulfillments: view.fulfillments.map((f) => ({ tracking_id: f.trackingIds, item_ids: f.itemIds })),
    payment_history: view.paymentHistory.map((p) => ({
      transaction_type: p.transactionType,
      amount: p.amount,
      payment_method_id: p.paymentMethodId,
    })),
    address: view.address,
    cancel_reason: view.cancelReason,
    return_items: view.returnItems,
    return_payment_method_id: view.returnPaymentMethodId,
    exchange_items: view.exchangeItems,
    exchange_new_items: view.exchangeNewItems,
    exchange_payment_method_id: view.exchangePaymentMethodId,
    exchange_price_difference_cents: view.exchangePriceDifference,
    shipping_cents: view.shipping,
    tax_cents: view.tax,
    origin: view.origin,
    mandate_id: view.mandateId,
  };
}

function fromRow(row: OrderRow): OrderView {
  return {
    orderId: row.order_id,
    userId: row.user_id,
    status: row.status,
    items: row.items.map((i) => ({
      itemId: i.item_id,
      productId: i.product_id,
      name: i.name,
      options: i.options,
      price: i.price,
    })),
    fulfillments: row.fulfillments.map((f) => ({ trackingIds: f.tracking_id, itemIds: f.item_ids })),
    paymentHistory: row.payment_history.map((p) => ({
      transactionType: p.transaction_type,
      amount: p.amount,
      paymentMethodId: p.payment_method_id,
    })),
    address: row.address,
    cancelReason: row.cancel_reason,
    returnItems: row.return_items,
    returnPaymentMethodId: row.return_payment_method_id,
    exchangeItems: row.exchange_items,
    exchangeNewItems: row.exchange_new_items,
    exchangePaymentMethodId: row.exchange_payment_method_id,
    exchangePriceDifference: row.exchange_price_difference_cents,
    shipping: row.shipping_cents,
    tax: row.tax_cents,
    origin: row.origin,
    mandateId: row.mandate_id,
    createdAt: row.created_at === null ? null : new Date(row.created_at).toISOString(),
  };
}

/** τ-bench's address key order, so the edge's JSON reads like τ-bench's. */
function tauAddress(a: OrderAddress): OrderAddress {
  return { address1: a.address1, address2: a.address2, city: a.city, country: a.country, state: a.state, zip: a.zip };
}

/** An order in τ-bench's JSON shape, amounts in dollars; the fields its actions add appear only once set. */
export function toTauOrder(view: OrderView): TauOrderJson {
  const order: TauOrderJson = {
    order_id: view.orderId,
    user_id: view.userId,
    address: tauAddress(view.address),
    items: view.items.map((i) => ({
      name: i.name,
      product_id: i.productId,
      item_id: i.itemId,
      price: dollars(i.price),
      options: { ...i.options },
    })),
    fulfillments: view.fulfillments.map((f) => ({ tracking_id: [...f.trackingIds], item_ids: [...f.itemIds] })),
    status: view.status,
    payment_history: view.paymentHistory.map((p) => ({
      transaction_type: p.transactionType,
      amount: dollars(p.amount),
      payment_method_id: p.paymentMethodId,
    })),
  };
  if (view.cancelReason !== null) order.cancel_reason = view.cancelReason;
  if (view.returnItems !== null) order.return_items = [...view.returnItems];
  if (view.returnPaymentMethodId !== null) order.return_payment_method_id = view.returnPaymentMethodId;
  if (view.exchangeItems !== null) order.exchange_items = [...view.exchangeItems];
  if (view.exchangeNewItems !== null) order.exchange_new_items = [...view.exchangeNewItems];
  if (view.exchangePaymentMethodId !== null) order.exchange_payment_method_id = view.exchangePaymentMethodId;
  if (view.exchangePriceDifference !== null) order.exchange_price_difference = dollars(view.exchangePriceDifference);
  return order;
}

/** A historical τ-bench order as after-sales keeps it (cents, origin `seed`). */
export function fromTauOrder(order: TauOrderJson): OrderView {
  return {
    orderId: order.order_id,
    userId: order.user_id,
    status: order.status as OrderStatus,
    items: order.items.map((i) => ({
      itemId: i.item_id,
      productId: i.product_id,
      name: i.name,
      options: { ...i.options },
      price: toCents(i.price),
    })),
    fulfillments: order.fulfillments.map((f) => ({ trackingIds: [...f.tracking_id], itemIds: [...f.item_ids] })),
    paymentHistory: order.payment_history.map((p) => ({
      transactionType: p.transaction_type as 'payment' | 'refund',
      amount: toCents(p.amount),
      paymentMethodId: p.payment_method_id,
    })),
    address: tauAddress(order.address),
    cancelReason: order.cancel_reason ?? null,
    returnItems: order.return_items ? [...order.return_items] : null,
    returnPaymentMethodId: order.return_payment_method_id ?? null,
    exchangeItems: order.exchange_items ? [...order.exchange_items] : null,
    exchangeNewItems: order.exchange_new_items ? [...order.exchange_new_items] : null,
    exchangePaymentMethodId: order.exchange_payment_method_id ?? null,
    exchangePriceDifference:
      order.exchange_price_difference === undefined ? null : toCents(order.exchange_price_difference),
    shipping: 0,
    tax: 0,
    origin: 'seed',
    mandateId: null,
    createdAt: null,
  };
}

/**
 * The after-sales read model in the service's schema. Writes go through the caller's manager so
 * they commit with the inbox claim and the events of the same handler.
 */
export class AftersalesRepository {
  private readonly s: string;

  constructor(schema = 'aftersales') {
    this.s = quoteIdent(schema);
  }

  /**
   * Loads τ-bench's customers and its historical orders, each only into an empty table, so a
   * restart or a second instance changes nothing (ON CONFLICT covers two seeding at once).
   */
  async seedIfEmpty(
    manager: EntityManager,
    users: Record<string, TauUser> = loadUsers(),
    orders: Record<string, TauOrder> = loadOrders(),
  ): Promise<{ customers: number; orders: number }> {
    return manager.transaction(async (m) => {
      const [{ customers, seeded }] = (await m.query(
        `SELECT EXISTS (SELECT 1 FROM ${this.s}.customers) AS customers,
                EXISTS (SELECT 1 FROM ${this.s}.orders WHERE origin = 'seed') AS seeded`,
      )) as Array<{ customers: boolean; seeded: boolean }>;
      let customerCount = 0;
      if (!customers) {
        const rows = Object.entries(users).map(([userId, u]) => ({
          user_id: userId,
          name: u.name,
          email: u.email,
          address: tauAddress(u.address),
        }));
        [{ n: customerCount }] = (await m.query(
          `WITH ins AS (
             INSERT INTO ${this.s}.customers (user_id, name, email, address)
             SELECT c->>'user_id', c->'name', c->>'email', c->'address' FROM jsonb_array_elements($1::jsonb) AS c
             ON CONFLICT (user_id) DO NOTHING RETURNING 1
           ) SELECT count(*)::int AS n FROM ins`,
          [JSON.stringify(rows)],
        )) as Array<{ n: number }>;
      }
      let orderCount = 0;
      if (!seeded) {
        const rows = Object.values(orders).map((o) => toRow(fromTauOrder(o)));
        [{ n: orderCount }] = (await m.query(
          `WITH ins AS (
             INSERT INTO ${this.s}.orders (${COLUMNS.join(', ')})
             SELECT ${ROW_FROM_JSON}
             FROM jsonb_array_elements($1::jsonb) AS o
             ON CONFLICT (order_id) DO NOTHING RETURNING 1
           ) SELECT count(*)::int AS n FROM ins`,
          [JSON.stringify(rows)],
        )) as Array<{ n: number }>;
      }
      return { customers: customerCount, orders: orderCount };
    });
  }

  async getCustomer(manager: EntityManager, userId: string): Promise<Customer | null> {
    const [row] = (await manager.query(
      `SELECT user_id, name, email, address FROM ${this.s}.customers WHERE user_id = $1`,
      [userId],
    )) as Array<{
      user_id: string;
      name: { first_name: string; last_name: string };
      email: string;
      address: OrderAddress;
    }>;
    if (!row) return null;
    return {
      userId: row.user_id,
      name: { firstName: row.name.first_name, lastName: row.name.last_name },
      email: row.email,
      address: tauAddress(row.address),
    };
  }

  /** The shipping address on file, the default for a new order. */
  async customerAddress(manager: EntityManager, userId: string): Promise<OrderAddress | null> {
    return (await this.getCustomer(manager, userId))?.address ?? null;
  }

  /**
   * Inserts the order or replaces its mutable state. An existing row of another shopper, origin or
   * mandate is never overwritten: that is an id collision, reported as OrderIdTakenError.
   */
  async saveOrder(manager: EntityManager, view: OrderView): Promise<void> {
    const row = toRow(view);
    const values = COLUMNS.map((c) => (JSONB.has(c) && row[c] !== null ? JSON.stringify(row[c]) : row[c]));
    const placeholders = COLUMNS.map((c, i) => `$${i + 1}${JSONB.has(c) ? '::jsonb' : ''}`);
    const updates = COLUMNS.filter((c) => !['order_id', 'user_id', 'origin', 'mandate_id'].includes(c)).map(
      (c) => `${c} = EXCLUDED.${c}`,
    );
    const saved = (await manager.query(
      `INSERT INTO ${this.s}.orders AS o (${COLUMNS.join(', ')}) VALUES (${placeholders.join(', ')})
       ON CONFLICT (order_id) DO UPDATE SET ${updates.join(', ')}, updated_at = now()
       WHERE o.user_id = EXCLUDED.user_id AND o.origin = EXCLUDED.origin
         AND o.mandate_id IS NOT DISTINCT FROM EXCLUDED.mandate_id
       RETURNING order_id`,
      values,
    )) as unknown[];
    if (saved.length === 0) throw new OrderIdTakenError(view.orderId);
  }

  async getOrder(manager: EntityManager, orderId: string): Promise<OrderView | null> {
    const [row] = (await manager.query(`SELECT * FROM ${this.s}.orders WHERE order_id = $1`, [orderId])) as OrderRow[];
    return row ? fromRow(row) : null;
  }

  async findOrderByMandate(manager: EntityManager, mandateId: string): Promise<OrderView | null> {
    const [row] = (await manager.query(`SELECT * FROM ${this.s}.orders WHERE mandate_id = $1`, [
      mandateId,
    ])) as OrderRow[];
    return row ? fromRow(row) : null;
  }

  /** Oldest first; seeded orders (all created at seeding) by id. */
  async listOrders(manager: EntityManager, userId: string): Promise<OrderView[]> {
    const rows = (await manager.query(
      `SELECT * FROM ${this.s}.orders WHERE user_id = $1 ORDER BY created_at, order_id`,
      [userId],
    )) as OrderRow[];
    return rows.map(fromRow);
  }
}
