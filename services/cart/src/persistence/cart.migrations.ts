import { quoteIdent, SchemaMigration } from '@assent/eventstore';

/** The cart's own copy of the catalog's prices and availability, kept from catalog events. */
export const cartMigrations: SchemaMigration[] = [
  {
    name: 'CartPriceList',
    timestamp: 1764100000000,
    up: (schema) => {
      const s = quoteIdent(schema);
      return [
        `CREATE TABLE ${s}.price_list (
           item_id text PRIMARY KEY,
           product_id text NOT NULL,
           name text NOT NULL,
           options jsonb NOT NULL,
           price_cents integer NOT NULL CHECK (price_cents >= 0),
           available boolean NOT NULL,
           updated_at timestamptz NOT NULL DEFAULT now()
         )`,
      ];
    },
  },
];
