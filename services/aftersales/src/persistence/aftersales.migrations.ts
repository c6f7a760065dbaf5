import { quoteIdent, SchemaMigration } from '@assent/eventstore';

/**
 * The after-sales read model: customers and orders in the shape of the τ-bench retail domain, so
 * its tasks' expected end states can be compared field by field. Unlike τ-bench, every amount here
 * is integer cents (`price` and `amount` inside the jsonb columns too); dollars exist only at the
 * API edge (`toTauOrder`).
 */
export const aftersalesMigrations: SchemaMigration[] = [
  {
    name: 'AftersalesReadModel',
    timestamp: 1764300000000,
    up: (schema) => {
      const s = quoteIdent(schema);
      return [
        `CREATE TABLE ${s}.customers (
           user_id text PRIMARY KEY,
           name jsonb NOT NULL,
           email text NOT NULL,
           address jsonb NOT NULL,
           created_at timestamptz NOT NULL DEFAULT now(),
           updated_at timestamptz NOT NULL DEFAULT now()
         )`,
        `CREATE TABLE ${s}.orders (
           order_id text PRIMARY KEY CHECK (order_id ~ '^#W[0-9]{7}$'),
           user_id text NOT NULL,
           status text NOT NULL CHECK (status IN ('pending', 'processed', 'delivered', 'cancelled',
             'pending (item modified)', 'return requested', 'exchange requested')),
           -- [{item_id, product_id, name, options, price}], one entry per unit, price in cents.
           items jsonb NOT NULL,
           -- [{tracking_id: [..], item_ids: [..]}]
           fulfillments jsonb NOT NULL DEFAULT '[]',
           -- [{transaction_type: payment|refund, amount (cents), payment_method_id}]
           payment_history jsonb NOT NULL,
           address jsonb NOT NULL,
           -- Set by cancellation, return and exchange; null until then, as τ-bench omits them.
           cancel_reason text,
           return_items jsonb,
           return_payment_method_id text,
           exchange_items jsonb,
           exchange_new_items jsonb,
           exchange_payment_method_id text,
           exchange_price_difference_cents integer,
           -- τ-bench orders have neither; Assent's carry them so items + shipping + tax = the payment.
           shipping_cents integer NOT NULL DEFAULT 0 CHECK (shipping_cents >= 0),
           tax_cents integer NOT NULL DEFAULT 0 CHECK (tax_cents >= 0),
           origin text NOT NULL CHECK (origin IN ('seed', 'assent')),
           -- The mandate an Assent order was bought under: one mandate, at most one order.
           mandate_id text UNIQUE,
           created_at timestamptz NOT NULL DEFAULT now(),
           updated_at timestamptz NOT NULL DEFAULT now(),
           CONSTRAINT orders_assent_has_mandate CHECK ((origin = 'assent') = (mandate_id IS NOT NULL))
         )`,
        `CREATE INDEX orders_user ON ${s}.orders (user_id, created_at, order_id)`,
      ];
    },
  },
];
