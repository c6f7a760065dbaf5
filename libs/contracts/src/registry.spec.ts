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
