import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * The τ-bench retail domain (MIT), shipped in `data/` so a clone has it without ../shared.
 * Prices here are dollars as τ-bench writes them; services convert to minor units with `toCents`.
 */
export const DATA_DIR = join(__dirname, '..', 'data');

const Options = z.record(z.string(), z.string());

export const TauProduct = z.object({
  name: z.string(),
  product_id: z.string(),
  variants: z.record(
    z.string(),
    z.object({ item_id: z.string(), options: Options, price: z.number(), available: z.boolean() }),
  ),
});
export type TauProduct = z.infer<typeof TauProduct>;

export const TauAddress = z.object({
  address1: z.string(),
  address2: z.string(),
  city: z.string(),
  country: z.string(),
  state: z.string(),
  zip: z.string(),
});

export const TauPaymentMethod = z.object({
  id: z.string(),
  source: z.enum(['gift_card', 'paypal', 'credit_card']),
  balance: z.number().optional(),
  brand: z.string().optional(),
  last_four: z.string().optional(),
});
export type TauPaymentMethod = z.infer<typeof TauPaymentMethod>;

export const TauUser = z.object({
  name: z.object({ first_name: z.string(), last_name: z.string() }),
  address: TauAddress,
  email: z.string(),
  payment_methods: z.record(z.string(), TauPaymentMethod),
  orders: z.array(z.string()),
});
export type TauUser = z.infer<typeof TauUser>;

export const TauOrder = z.object({
  order_id: z.string(),
  user_id: z.string(),
  address: TauAddress,
  items: z.array(
    z.object({ item_id: z.string(), product_id: z.string(), name: z.string(), options: Options, price: z.number() }),
  ),
  fulfillments: z.array(z.object({ tracking_id: z.array(z.string()), item_ids: z.array(z.string()) })),
  status: z.string(),
  payment_history: z.array(
    z.object({ transaction_type: z.string(), amount: z.number(), payment_method_id: z.string() }),
  ),
});
export type TauOrder = z.infer<typeof TauOrder>;

function load<T>(file: string, schema: z.ZodType<T>): Record<string, T> {
  const raw = JSON.parse(readFileSync(join(DATA_DIR, file), 'utf8')) as unknown;
  return z.record(z.string(), schema).parse(raw);
}

let products: Record<string, TauProduct> | undefined;
let users: Record<string, TauUser> | undefined;
let orders: Record<string, TauOrder> | undefined;

export const loadProducts = (): Record<string, TauProduct> => (products ??= load('products.json', TauProduct));
export const loadUsers = (): Record<string, TauUser> => (users ??= load('users.json', TauUser));
export const loadOrders = (): Record<string, TauOrder> => (orders ??= load('orders.json', TauOrder));

/** Dollars (as τ-bench writes them) to integer cents, rounding the float representation error away. */
export function toCents(dollars: number): number {
  return Math.round(dollars * 100);
}
