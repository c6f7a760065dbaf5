import { z } from 'zod';

const ACTOR_KINDS = ['shopper', 'agent', 'system', 'analyst', 'operator'] as const;

/** Who caused an event. Analysts and operators are actors too: replays and repairs are audited. */
const ActorShape = z.object({ kind: z.enum(ACTOR_KINDS), id: z.string() });
export type Actor = z.infer<typeof ActorShape>;

/** UUIDv7 (time-ordered), as DESIGN.md requires for event ids. */
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const EVENT_TYPE = /^[a-z]+\.[A-Za-z]+$/;
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
/** zod's own ISO 8601 date-time with an offset (what `z.iso.datetime({ offset: true })` checks). */
const DATE_TIME = z.core.regexes.datetime({ offset: true });

const isId = (s: string) => s.length >= 1 && s.length <= 200;
const isCount = (n: number) => Number.isSafeInteger(n) && n >= 1;

/**
 * The one envelope every event travels in, on the bus and in the event store.
 * The payload is validated separately against the schema registered for (type, schemaVersion).
 *
 * Every consumed message is read through this schema, so it is written for the hot path: the
 * shape is plain types, which zod compiles into one fast pass, and the formats are one check over
 * the whole envelope, rather than a zod check per field, each of which allocates as it runs.
 */
export const EnvelopeSchema = z
  .object({
    eventId: z.string(),
    type: z.string(),
    schemaVersion: z.number(),
    streamId: z.string(),
    sequence: z.number(),
    occurredAt: z.string(),
    correlationId: z.string(),
    causationId: z.string().nullable(),
    actor: ActorShape,
    traceparent: z.string().nullable(),
    payload: z.unknown(),
  })
  .check((ctx) => {
    const e = ctx.value;
    const refuse = (path: PropertyKey[], message: string) =>
      ctx.issues.push({ code: 'custom', input: e, path, message });
    if (!UUID_V7.test(e.eventId)) refuse(['eventId'], 'must be a UUIDv7');
    if (!EVENT_TYPE.test(e.type)) refuse(['type'], 'must be <service>.<EventName>');
    if (!isCount(e.schemaVersion)) refuse(['schemaVersion'], 'must be a positive integer');
    if (!isId(e.streamId)) refuse(['streamId'], 'must be 1 to 200 characters');
    if (!isCount(e.sequence)) refuse(['sequence'], 'must be a positive integer');
    if (!DATE_TIME.test(e.occurredAt)) refuse(['occurredAt'], 'must be an ISO 8601 date-time with an offset');
    if (!isId(e.correlationId)) refuse(['correlationId'], 'must be 1 to 200 characters');
    if (e.causationId !== null && !isId(e.causationId)) refuse(['causationId'], 'must be 1 to 200 characters');
    if (!isId(e.actor.id)) refuse(['actor', 'id'], 'must be 1 to 200 characters');
    if (e.traceparent !== null && !TRACEPARENT.test(e.traceparent)) {
      refuse(['traceparent'], 'must be a W3C traceparent');
    }
  });

export type EventEnvelope<P = unknown> = Omit<z.infer<typeof EnvelopeSchema>, 'payload'> & { payload: P };

/** What a command handler decides: an event before the store gives it an id, a sequence and a time. */
export interface EventDraft<P = unknown> {
  type: string;
  payload: P;
}

/** Context carried from the request or the causing event onto every event it produces. */
export interface EventMetadata {
  correlationId: string;
  causationId: string | null;
  actor: Actor;
  traceparent?: string | null;
}
