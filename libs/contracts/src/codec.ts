import { EventEnvelope } from './envelope';
import { EventRegistry, InvalidEventError } from './registry';

/** Wire format: the envelope as UTF-8 JSON. Headers duplicate a few fields for routing and tracing. */
export function encodeEnvelope(envelope: EventEnvelope): Buffer {
  return Buffer.from(JSON.stringify(envelope), 'utf8');
}

// Stateless between calls (no `stream` option), so one decoder serves every message.
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes and validates bytes from the bus; anything unreadable is an InvalidEventError, never a crash. */
export function decodeEnvelope(registry: EventRegistry, bytes: Buffer | null): EventEnvelope {
  if (!bytes || bytes.length === 0) throw new InvalidEventError('(unknown)', 'empty message');
  let raw: unknown;
  try {
    raw = JSON.parse(utf8.decode(bytes));
  } catch (error) {
    throw new InvalidEventError('(unknown)', `not UTF-8 JSON: ${(error as Error).message}`);
  }
  return registry.read(raw);
}
