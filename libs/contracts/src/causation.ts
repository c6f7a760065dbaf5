import { EventEnvelope, EventMetadata } from './envelope';

/**
 * Metadata for events caused by `cause`: same correlation (conversation or order), the cause as
 * causation, and the cause's actor unless the effect is the system's own doing.
 */
export function causedBy(cause: EventEnvelope, overrides: Partial<EventMetadata> = {}): EventMetadata {
  return { correlationId: cause.correlationId, causationId: cause.eventId, actor: cause.actor, ...overrides };
}
