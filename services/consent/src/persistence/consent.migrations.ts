import { quoteIdent, SchemaMigration } from '@assent/eventstore';

/**
 * Consent's own lookups: intent mandates by the search they came from, which search each
 * suggestion answered, and step-up codes (hashed; the code itself goes out of band).
 */
export const consentMigrations: SchemaMigration[] = [
  {
    name: 'ConsentMandates',
    timestamp: 1764400000000,
    up: (schema) => {
      const s = quoteIdent(schema);
      return [
        `CREATE TABLE ${s}.intent_mandates (
           intent_mandate_id text PRIMARY KEY,
           turn_id text NOT NULL UNIQUE,
           conversation_id text NOT NULL,
           shopper_id text NOT NULL,
           bounds jsonb NOT NULL,
           expires_at timestamptz NOT NULL
         )`,
        `CREATE TABLE ${s}.suggestion_origins (
           suggestion_event_id text PRIMARY KEY,
           turn_id text NOT NULL
         )`,
        `CREATE TABLE ${s}.step_up_codes (
           confirmation_id text PRIMARY KEY,
           code_hash text NOT NULL,
           expires_at timestamptz NOT NULL,
           attempts integer NOT NULL DEFAULT 0
         )`,
      ];
    },
  },
];
