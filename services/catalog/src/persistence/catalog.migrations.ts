import { quoteIdent, SchemaMigration } from '@assent/eventstore';

/**
 * Products and their sellable variants (items), searchable by full text and by trigram similarity.
 *
 * pg_trgm is installed once per database in `public` (an extension belongs to one schema), so every
 * use of its operators, functions and operator classes below and in the repository is qualified with
 * `public.`: the service's own schema may be all that is on the search_path.
 */
export const catalogMigrations: SchemaMigration[] = [
  {
    name: 'CatalogProducts',
    timestamp: 1764100000001,
    up: (schema) => {
      const s = quoteIdent(schema);
      return [
        `CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public`,
        `CREATE TABLE ${s}.products (
          product_id text PRIMARY KEY,
          name text NOT NULL,
          -- The distinct option values of the product's variants, so "french press" finds Coffee Maker.
          option_text text NOT NULL DEFAULT '',
          -- Name ranks above option values (weights A and B); english stemming makes "kettles" find "Kettle".
          search_vector tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('english'::regconfig, name), 'A') ||
            setweight(to_tsvector('english'::regconfig, option_text), 'B')
          ) STORED,
          catalogued_at timestamptz NOT NULL DEFAULT now()
        )`,
        `CREATE UNIQUE INDEX products_name ON ${s}.products (lower(name))`,
        `CREATE INDEX products_search ON ${s}.products USING gin (search_vector)`,
        `CREATE INDEX products_name_trgm ON ${s}.products USING gin (lower(name) public.gin_trgm_ops)`,
        `CREATE TABLE ${s}.items (
          item_id text PRIMARY KEY,
          product_id text NOT NULL REFERENCES ${s}.products (product_id),
          name text NOT NULL,
          options jsonb NOT NULL CHECK (jsonb_typeof(options) = 'object'),
          price_cents integer NOT NULL CHECK (price_cents >= 0),
          available boolean NOT NULL
        )`,
        `CREATE INDEX items_product ON ${s}.items (product_id, price_cents)`,
      ];
    },
  },
];
