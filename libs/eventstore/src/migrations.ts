import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A migration written once and applied to whichever schema a service owns. TypeORM wants a class
 * whose name ends in a 13-digit timestamp; `toTypeormMigrations` builds those per schema.
 */
export interface SchemaMigration {
  name: string;
  timestamp: number;
  up(schema: string): string[];
}

export function toTypeormMigrations(
  schema: string,
  migrations: SchemaMigration[],
): Array<new () => MigrationInterface> {
  return migrations.map((m) => {
    if (!/^\d{13}$/.test(String(m.timestamp))) throw new Error(`migration ${m.name}: timestamp must have 13 digits`);
    const className = `${m.name}${m.timestamp}`;
    const cls = class implements MigrationInterface {
      name = className;
      async up(queryRunner: QueryRunner): Promise<void> {
        for (const sql of m.up(schema)) await queryRunner.query(sql);
      }
      async down(): Promise<void> {
        // Forward-only: the event store is append-only, so its schema is never rolled back in place.
        throw new Error(`${className} is forward-only`);
      }
    };
    Object.defineProperty(cls, 'name', { value: className });
    return cls;
  });
}

export function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`unsafe SQL identifier: ${name}`);
  return `"${name}"`;
}

/** Event store, outbox, inbox and the embedded transport's bookkeeping, in every service schema. */
export const eventStoreMigration: SchemaMigration = {
  name: 'EventStore',
  timestamp: 1764000000001,
  up: (schema) => {
    const s = quoteIdent(schema);
    return [
      `CREATE TABLE ${s}.events (
        position bigserial PRIMARY KEY,
        event_id uuid NOT NULL UNIQUE,
        stream_id text NOT NULL,
        sequence integer NOT NULL CHECK (sequence > 0),
        type text NOT NULL,
        schema_version integer NOT NULL CHECK (schema_version > 0),
        occurred_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        correlation_id text NOT NULL,
        causation_id text,
        actor jsonb NOT NULL,
        traceparent text,
        payload jsonb NOT NULL,
        CONSTRAINT events_stream_sequence UNIQUE (stream_id, sequence)
      )`,
      `CREATE INDEX events_correlation ON ${s}.events (correlation_id)`,
      `CREATE INDEX events_type ON ${s}.events (type, position)`,
      // Append-only by the database itself: no role, the application's included, can rewrite history.
      `CREATE FUNCTION ${s}.refuse_event_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         RAISE EXCEPTION 'the event store is append-only: % on %.% is refused', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
           USING ERRCODE = 'insufficient_privilege';
       END $$`,
      `CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON ${s}.events
         FOR EACH ROW EXECUTE FUNCTION ${s}.refuse_event_rewrite()`,
      `CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON ${s}.events
         FOR EACH STATEMENT EXECUTE FUNCTION ${s}.refuse_event_rewrite()`,
      `REVOKE UPDATE, DELETE, TRUNCATE ON ${s}.events FROM PUBLIC`,
      `CREATE TABLE ${s}.outbox (
        position bigserial PRIMARY KEY,
        event_id uuid NOT NULL UNIQUE,
        topic text NOT NULL,
        message_key text NOT NULL,
        headers jsonb NOT NULL,
        body text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz,
        log_offset bigint UNIQUE
      )`,
      `CREATE INDEX outbox_unpublished ON ${s}.outbox (position) WHERE published_at IS NULL`,
      `CREATE TABLE ${s}.inbox (
        consumer text NOT NULL,
        event_id uuid NOT NULL,
        topic text NOT NULL,
        handled_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, event_id)
      )`,
      `CREATE TABLE ${s}.subscription_cursors (
        consumer text NOT NULL,
        topic text NOT NULL,
        log_offset bigint NOT NULL,
        PRIMARY KEY (consumer, topic)
      )`,
      `CREATE TABLE ${s}.dead_letters (
        id bigserial PRIMARY KEY,
        consumer text NOT NULL,
        topic text NOT NULL,
        message_key text,
        event_id text,
        headers jsonb NOT NULL,
        body text,
        reason text NOT NULL,
        attempts integer NOT NULL,
        failed_at timestamptz NOT NULL DEFAULT now()
      )`,
    ];
  },
};
