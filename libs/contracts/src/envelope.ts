import { z } from 'zod';

/** Who caused an event. Analysts and operators are actors too: replays and repairs are audited. */
export const ActorSchema = z.object({
  kind: z.enum(['shopper', 'agent', 'system', 'analyst', 'operator']),
  id: z.string().min(1).max(200),
});
export type Actor = z.infer<typeof ActorSchema>;

/** UUIDv7 (time-ordered), as DESIGN.md requires for event ids. */
const uuidV7 = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i, 'must be a UUIDv7');

const traceparent = z
  .string()
  .regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/, 'must be a W3C traceparent');

/**
 * The one envelope every event travels in, on the bus and in the event store.
 * The payload is validated separately against the schema registered for (type, schemaVersion).
 */
export const EnvelopeSchema = z.object({
  eventId: uuidV7,
  type: z.string().regex(/^[a-z]+\.[A-Za-z]+$/, 'must be <service>.<EventName>'),
  schemaVersion: z.number().int().positive(),
  streamId: z.string().min(1).max(200),
  sequence: z.number().int().positive(),
  occurredAt: z.iso.datetime({ offset: true }),
  correlationId: z.string().min(1).max(200),
  causationId: z.string().min(1).max(200).nullable(),
  actor: ActorSchema,
  traceparent: traceparent.nullable(),
  payload: z.unknown(),
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
