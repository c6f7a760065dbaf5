import { EventEnvelope, EventMetadata, newEventId } from '@assent/contracts';
import { messageHeaders } from '@assent/eventstore';

/** What every bench append carries: a system actor, one correlation id per run. */
export const benchMeta: EventMetadata = {
  correlationId: 'bench',
  causationId: null,
  actor: { kind: 'system', id: 'bench' },
};

export const ping = (n: number, note = '') => ({ type: 'probe.Pinged', payload: { n, note } });

/**
 * The envelope EventStore.append would build for one probe.Pinged (schema version 2, no
 * traceparent: the bench runs without a telemetry SDK), for the raw baselines.
 */
export function probeEnvelope(streamId: string, sequence: number, n: number, note = ''): EventEnvelope {
  return {
    eventId: newEventId(),
    type: 'probe.Pinged',
    schemaVersion: 2,
    streamId,
    sequence,
    occurredAt: new Date().toISOString(),
    correlationId: benchMeta.correlationId,
    causationId: benchMeta.causationId,
    actor: benchMeta.actor,
    traceparent: null,
    payload: { n, note },
  };
}

/** The Kafka message the relay publishes for an envelope (key = stream, body = envelope JSON). */
export function probeMessage(e: EventEnvelope): { key: string; value: Buffer; headers: Record<string, string> } {
  return { key: e.streamId, value: Buffer.from(JSON.stringify(e), 'utf8'), headers: messageHeaders(e) };
}
