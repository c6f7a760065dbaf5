import { EntityManager } from 'typeorm';
import { EventDraft, EventEnvelope, EventMetadata, EventRegistry, newEventId } from '@assent/contracts';
import { currentTraceparent } from '@assent/telemetry';
import { constraintName, sqlState, StreamVersionConflictError } from './errors';
import { quoteIdent } from './migrations';
import { noteOutboxWrite } from './outbox-signal';

interface EventRow {
  position: string;
  event_id: string;
  stream_id: string;
  sequence: number;
  type: string;
  schema_version: number;
  occurred_at: Date;
  correlation_id: string;
  causation_id: string | null;
  actor: EventEnvelope['actor'];
  traceparent: string | null;
  payload: unknown;
}

/** An event as read back, with its global position in this service's store. */
export type RecordedEvent<P = unknown> = EventEnvelope<P> & { position: string };

/**
 * One service's event store: streams with a per-stream sequence, a global position, optimistic
 * concurrency on append, and the outbox row for every appended event written in the same transaction.
 */
export class EventStore {
  private readonly s: string;

  constructor(
    readonly schema: string,
    readonly topic: string,
    private readonly registry: EventRegistry,
  ) {
    this.s = quoteIdent(schema);
  }

  /**
   * Appends after `expectedVersion` (0 for a new stream) inside the caller's transaction, so the
   * caller's own state changes commit or roll back with the events and their outbox rows.
   */
  async append(
    manager: EntityManager,
    streamId: string,
    expectedVersion: number,
    drafts: EventDraft[],
    meta: EventMetadata,
  ): Promise<EventEnvelope[]> {
    if (!manager.queryRunner?.isTransactionActive) throw new Error('EventStore.append needs a transaction');
    if (drafts.length === 0) return [];

    const occurredAt = new Date().toISOString();
    // The active span's context, so the consumers' spans join the trace that caused the event.
    const traceparent = meta.traceparent ?? currentTraceparent() ?? null;
    const envelopes: EventEnvelope[] = drafts.map((draft, i) => ({
      eventId: newEventId(),
      type: draft.type,
      schemaVersion: this.registry.currentVersion(draft.type),
      streamId,
      sequence: expectedVersion + i + 1,
      occurredAt,
      correlationId: meta.correlationId,
      causationId: meta.causationId,
      actor: meta.actor,
      traceparent,
      payload: this.registry.validateForWrite(draft.type, draft.payload),
    }));

    // One statement (one round trip): read the stream's version, and insert the events and their
    // outbox rows only if it is the expected one. Data-modifying CTEs always run to completion.
    const params: unknown[] = [streamId, expectedVersion];
    const rows = (values: unknown[], casts: readonly string[]) => {
      const base = params.length;
      params.push(...values);
      return `(${casts.map((cast, k) => `$${base + k + 1}::${cast}`).join(', ')})`;
    };
    const eventRows = envelopes.map((e) => rows(eventRowValues(e), EVENT_COLUMN_TYPES)).join(', ');
    const outboxRows = envelopes.map((e) => rows(outboxRowValues(e, this.topic), OUTBOX_COLUMN_TYPES)).join(', ');
    let version: number;
    try {
      [{ version }] = (await manager.query(
        `WITH stream AS (SELECT coalesce(max(sequence), 0)::int AS version FROM ${this.s}.events WHERE stream_id = $1),
         appended AS (
           INSERT INTO ${this.s}.events (event_id, stream_id, sequence, type, schema_version, occurred_at,
             correlation_id, causation_id, actor, traceparent, payload)
           SELECT * FROM (VALUES ${eventRows}) AS e WHERE (SELECT version FROM stream) = $2),
         queued AS (
           INSERT INTO ${this.s}.outbox (event_id, topic, message_key, headers, body)
           SELECT * FROM (VALUES ${outboxRows}) AS o WHERE (SELECT version FROM stream) = $2)
         SELECT version FROM stream`,
        params,
      )) as Array<{ version: number }>;
    } catch (error) {
      // Two writers saw the same version; the second insert hits the (stream, sequence) key.
      if (sqlState(error) === '23505' && constraintName(error) === 'events_stream_sequence') {
        throw new StreamVersionConflictError(streamId, expectedVersion, null);
      }
      throw error;
    }
    if (version !== expectedVersion) throw new StreamVersionConflictError(streamId, expectedVersion, version);
    noteOutboxWrite(manager, this.schema);
    return envelopes;
  }

  async readStream(manager: EntityManager, streamId: string): Promise<RecordedEvent[]> {
    const rows = (await manager.query(`SELECT * FROM ${this.s}.events WHERE stream_id = $1 ORDER BY sequence`, [
      streamId,
    ])) as EventRow[];
    return rows.map((r) => this.toRecorded(r));
  }

  /** Every event after a global position, for replays and projections. */
  async readAll(manager: EntityManager, afterPosition = '0', limit = 1000): Promise<RecordedEvent[]> {
    const rows = (await manager.query(`SELECT * FROM ${this.s}.events WHERE position > $1 ORDER BY position LIMIT $2`, [
      afterPosition,
      limit,
    ])) as EventRow[];
    return rows.map((r) => this.toRecorded(r));
  }

  /** Every event of one conversation or order, in the order they were recorded. */
  async readCorrelation(manager: EntityManager, correlationId: string): Promise<RecordedEvent[]> {
    const rows = (await manager.query(`SELECT * FROM ${this.s}.events WHERE correlation_id = $1 ORDER BY position`, [
      correlationId,
    ])) as EventRow[];
    return rows.map((r) => this.toRecorded(r));
  }

  private toRecorded(row: EventRow): RecordedEvent {
    const envelope = this.registry.read({
      eventId: row.event_id,
      type: row.type,
      schemaVersion: row.schema_version,
      streamId: row.stream_id,
      sequence: row.sequence,
      occurredAt: new Date(row.occurred_at).toISOString(),
      correlationId: row.correlation_id,
      causationId: row.causation_id,
      actor: row.actor,
      traceparent: row.traceparent,
      payload: row.payload,
    });
    return { ...envelope, position: String(row.position) };
  }
}

/** SQL types of the values eventRowValues and outboxRowValues give, in the same order. */
const EVENT_COLUMN_TYPES = [
  'uuid',
  'text',
  'int',
  'text',
  'int',
  'timestamptz',
  'text',
  'text',
  'jsonb',
  'text',
  'jsonb',
] as const;
const OUTBOX_COLUMN_TYPES = ['uuid', 'text', 'text', 'jsonb', 'text'] as const;

/** Column values of an events row, in the order of the INSERT's column list. */
export function eventRowValues(e: EventEnvelope): unknown[] {
  return [
    e.eventId,
    e.streamId,
    e.sequence,
    e.type,
    e.schemaVersion,
    e.occurredAt,
    e.correlationId,
    e.causationId,
    JSON.stringify(e.actor),
    e.traceparent,
    JSON.stringify(e.payload),
  ];
}

/** Column values of an outbox row: event id, topic, key, headers, body. */
export function outboxRowValues(e: EventEnvelope, topic: string): unknown[] {
  return [e.eventId, topic, e.streamId, JSON.stringify(messageHeaders(e)), JSON.stringify(e)];
}

/** Headers every published message carries, so routers and tracers need not parse the body. */
export function messageHeaders(e: EventEnvelope): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'event-id': e.eventId,
    'event-type': e.type,
    'schema-version': String(e.schemaVersion),
    'correlation-id': e.correlationId,
  };
  if (e.causationId) headers['causation-id'] = e.causationId;
  if (e.traceparent) headers.traceparent = e.traceparent;
  return headers;
}
