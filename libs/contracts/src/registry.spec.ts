import { z } from 'zod';
import { decodeEnvelope, encodeEnvelope } from './codec';
import { EventEnvelope } from './envelope';
import { newEventId } from './ids';
import { defineEvent, EventRegistry, InvalidEventError } from './registry';
import { deadLetterTopic, eventTopic, serviceOfEventType } from './topics';

const PriceNoted = defineEvent({
  type: 'catalog.PriceNoted',
  versions: [
    // v1 stored dollars as a float; v2 keeps integer minor units and a currency.
    {
      schema: z.object({ dollars: z.number() }),
      upcast: (p) => ({ amount: Math.round((p as { dollars: number }).dollars * 100) }),
    },
    { schema: z.object({ amount: z.number().int() }), upcast: (p) => ({ ...(p as object), currency: 'USD' }) },
    { schema: z.object({ amount: z.number().int(), currency: z.string().length(3) }) },
  ],
});

const registry = new EventRegistry().register(PriceNoted);

function envelope(payload: unknown, schemaVersion: number): EventEnvelope {
  return {
    eventId: newEventId(),
    type: 'catalog.PriceNoted',
    schemaVersion,
    streamId: 'product-1',
    sequence: 1,
    occurredAt: new Date().toISOString(),
    correlationId: 'conv-1',
    causationId: null,
    actor: { kind: 'system', id: 'catalog' },
    traceparent: null,
    payload,
  };
}

describe('EventRegistry', () => {
  it('upcasts an old version on read through every step, without touching the input', () => {
    const stored = envelope({ dollars: 12.34 }, 1);
    const read = registry.read(stored);
    expect(read.schemaVersion).toBe(3);
    expect(read.payload).toEqual({ amount: 1234, currency: 'USD' });
    expect(stored.payload).toEqual({ dollars: 12.34 });
  });

  it('reads the current version as is', () => {
    expect(registry.read(envelope({ amount: 5, currency: 'EUR' }, 3)).payload).toEqual({ amount: 5, currency: 'EUR' });
  });

  it('refuses a payload that does not match its schema, naming the field', () => {
    expect(() => registry.read(envelope({ amount: 1.5, currency: 'USD' }, 3))).toThrow(/amount/);
    expect(() => registry.validateForWrite('catalog.PriceNoted', { amount: 1 })).toThrow(InvalidEventError);
  });

  it('refuses unknown types, future versions and malformed envelopes', () => {
    expect(() => registry.read({ ...envelope({}, 1), type: 'catalog.Nope' })).toThrow(/unknown event type/);
    expect(() => registry.read(envelope({ amount: 1, currency: 'USD' }, 4))).toThrow(/newer/);
    expect(() => registry.read({ ...envelope({}, 1), eventId: 'not-a-uuid' })).toThrow(/eventId/);
  });

  it('names every envelope field whose format is wrong, and never reads formats of a broken shape', () => {
    const valid = envelope({ dollars: 1 }, 1);
    const cases: Array<[Partial<EventEnvelope> & Record<string, unknown>, RegExp]> = [
      [{ eventId: '0190a0b0-0000-4000-8000-000000000000' }, /eventId: must be a UUIDv7/],
      [{ type: 'PriceNoted' }, /type: must be <service>\.<EventName>/],
      [{ schemaVersion: 0 }, /schemaVersion: must be a positive integer/],
      [{ sequence: 1.5 }, /sequence: must be a positive integer/],
      [{ streamId: '' }, /streamId: must be 1 to 200 characters/],
      [{ correlationId: 'c'.repeat(201) }, /correlationId: must be 1 to 200 characters/],
      [{ causationId: '' }, /causationId: must be 1 to 200 characters/],
      [{ occurredAt: '2026-02-30T10:00:00Z' }, /occurredAt: must be an ISO 8601 date-time/],
      [{ occurredAt: '2026-11-26T10:00:00' }, /occurredAt: must be an ISO 8601 date-time/],
      [{ actor: { kind: 'system', id: '' } }, /actor\.id: must be 1 to 200 characters/],
      [{ actor: { kind: 'robot', id: 'r2' } as never }, /actor\.kind: Invalid option/],
      [{ traceparent: '00-abc' }, /traceparent: must be a W3C traceparent/],
      [{ actor: undefined }, /actor: Invalid input: expected object/],
      [{ sequence: '1' as never }, /sequence: Invalid input: expected number/],
    ];
    for (const [change, reason] of cases) {
      expect(() => registry.read({ ...valid, ...change })).toThrow(reason);
    }
    // All wrong formats at once are all named.
    const many = { ...valid, type: 'x', streamId: '', traceparent: 'y' };
    expect(() => registry.read(many)).toThrow(/type: .*; streamId: .*; traceparent: /);
    // Valid formats at their limits pass.
    const limits = { ...valid, streamId: 's'.repeat(200), occurredAt: '2026-11-26T10:00:00.123+05:30' };
    expect(registry.read(limits).streamId).toHaveLength(200);
    expect(registry.read({ ...valid, traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` }).traceparent).toMatch(
      /^00-/,
    );
  });

  it('requires an upcast on every non-current version', () => {
    expect(() => defineEvent({ type: 'x.Y', versions: [{ schema: z.object({}) }, { schema: z.object({}) }] })).toThrow(
      /upcast/,
    );
  });
});

describe('codec', () => {
  it('round-trips an envelope', () => {
    const env = envelope({ amount: 100, currency: 'USD' }, 3);
    expect(decodeEnvelope(registry, encodeEnvelope(env))).toEqual(env);
  });

  it('turns garbage into an InvalidEventError with a reason', () => {
    expect(() => decodeEnvelope(registry, Buffer.from('{not json'))).toThrow(/not UTF-8 JSON/);
    expect(() => decodeEnvelope(registry, Buffer.from([0xff, 0xfe, 0x00]))).toThrow(InvalidEventError);
    expect(() => decodeEnvelope(registry, null)).toThrow(/empty/);
  });
});

describe('topics', () => {
  it('names topics per service and their dead letters', () => {
    expect(eventTopic('cart', 'assent')).toBe('assent.cart.events');
    expect(deadLetterTopic('assent.cart.events')).toBe('assent.cart.events.dlq');
    expect(serviceOfEventType('cart.ItemAdded')).toBe('cart');
  });
});
