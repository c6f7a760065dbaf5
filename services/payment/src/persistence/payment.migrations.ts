import { quoteIdent, SchemaMigration } from '@assent/eventstore';

/**
 * The payment service's own tables beside its event store: the shoppers' payment methods (seeded
 * from τ-bench) and the built-in sandbox provider's ledger of requests and their outcomes.
 */
export const paymentMigrations: SchemaMigration[] = [
  {
    name: 'PaymentSandbox',
    timestamp: 1764200000000,
    up: (schema) => {
      const s = quoteIdent(schema);
      return [
        `CREATE TABLE ${s}.payment_methods (
           id text PRIMARY KEY,
           shopper_id text NOT NULL,
           source text NOT NULL CHECK (source IN ('gift_card', 'paypal', 'credit_card')),
           brand text,
           last_four text,
           -- Only gift cards hold a balance (cents); the database, not the code, keeps it from going negative.
           balance_cents integer CHECK (balance_cents >= 0),
           created_at timestamptz NOT NULL DEFAULT now(),
           CONSTRAINT payment_methods_balance_only_gift_cards CHECK ((source = 'gift_card') = (balance_cents IS NOT NULL))
         )`,
        `CREATE INDEX payment_methods_shopper ON ${s}.payment_methods (shopper_id)`,
        `CREATE TABLE ${s}.sandbox_transactions (
           id text PRIMARY KEY,
           idempotency_key text NOT NULL UNIQUE,
           -- A hash of the request, so a reused key with a different request is told apart from a retry.
           fingerprint text NOT NULL,
           kind text NOT NULL CHECK (kind IN ('authorize', 'capture', 'refund')),
           payment_method_id text NOT NULL,
           shopper_id text NOT NULL,
           amount_cents integer NOT NULL CHECK (amount_cents > 0),
           -- The authorization a capture settles.
           parent_id text REFERENCES ${s}.sandbox_transactions (id),
           -- 'pending' exists only inside the transaction that claimed the key.
           outcome text NOT NULL CHECK (outcome IN ('pending', 'approved', 'declined')),
           reason text,
           created_at timestamptz NOT NULL DEFAULT now()
         )`,
        // An authorization is captured at most once, whatever idempotency keys the captures carry.
        `CREATE UNIQUE INDEX sandbox_transactions_one_capture ON ${s}.sandbox_transactions (parent_id)
           WHERE kind = 'capture' AND outcome = 'approved'`,
        `CREATE INDEX sandbox_transactions_method ON ${s}.sandbox_transactions (payment_method_id, created_at)`,
      ];
    },
  },
  {
    name: 'PaymentMandateChecks',
    timestamp: 1764500000000,
    up: (schema) => {
      const s = quoteIdent(schema);
      return [
        // Payment's own view of what it must check a mandate against: the live carts and prices
        // (from cart and catalog events) and the intent mandates (from consent).
        `CREATE TABLE ${s}.live_carts (
           cart_id text PRIMARY KEY,
           shopper_id text NOT NULL,
           lines jsonb NOT NULL,
           line_changes integer NOT NULL
         )`,
        `CREATE TABLE ${s}.price_list (
           item_id text PRIMARY KEY,
           name text NOT NULL,
           options jsonb NOT NULL,
           price_cents integer NOT NULL,
           available boolean NOT NULL
         )`,
        `CREATE TABLE ${s}.intent_mandates (
           intent_mandate_id text PRIMARY KEY,
           shopper_id text NOT NULL,
           bounds jsonb NOT NULL,
           expires_at timestamptz NOT NULL
         )`,
        // Single use, by the database: a mandate id (the JWS jti) is spent once, whatever happens next.
        `CREATE TABLE ${s}.spent_mandates (
           mandate_id text PRIMARY KEY,
           payment_id text NOT NULL,
           spent_at timestamptz NOT NULL DEFAULT now()
         )`,
      ];
    },
  },
];
