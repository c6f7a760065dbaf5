import { quoteIdent, SchemaMigration } from '@assent/eventstore';

/**
 * Read models of the intent service: conversations and their turns (what the HTTP API returns and
 * waits on), and the catalog vocabulary the rules model reads, kept from catalog events.
 */
export const intentMigrations: SchemaMigration[] = [
  {
    name: 'IntentReadModels',
    timestamp: 1764100000001,
    up: (schema) => {
      const s = quoteIdent(schema);
      return [
        `CREATE TABLE ${s}.conversations (
           conversation_id text PRIMARY KEY,
           shopper_id text NOT NULL,
           created_at timestamptz NOT NULL DEFAULT now()
         )`,
        `CREATE INDEX conversations_by_shopper ON ${s}.conversations (shopper_id, created_at)`,
        `CREATE TABLE ${s}.turns (
           turn_id text PRIMARY KEY,
           conversation_id text NOT NULL REFERENCES ${s}.conversations (conversation_id),
           position integer NOT NULL,
           answer jsonb,
           created_at timestamptz NOT NULL DEFAULT now(),
           answered_at timestamptz,
           UNIQUE (conversation_id, position)
         )`,
        `CREATE TABLE ${s}.vocabulary (
           product_id text PRIMARY KEY,
           name text NOT NULL,
           options jsonb NOT NULL
         )`,
      ];
    },
  },
  {
    // The overdue-turn sweep looks only at unanswered turns; they are few however many turns exist.
    name: 'IntentUnansweredTurns',
    timestamp: 1764100000002,
    up: (schema) => [`CREATE INDEX turns_unanswered ON ${quoteIdent(schema)}.turns (created_at) WHERE answer IS NULL`],
  },
];
