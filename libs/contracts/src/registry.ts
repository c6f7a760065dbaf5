import { z } from 'zod';
import { EnvelopeSchema, EventEnvelope } from './envelope';

/** A payload that does not match its registered schema, or an event type nobody registered. */
export class InvalidEventError extends Error {
  constructor(
    readonly eventType: string,
    readonly reason: string,
  ) {
    super(`invalid ${eventType}: ${reason}`);
    this.name = 'InvalidEventError';
  }
}

/**
 * One version of one event type. Older versions name an `upcast` to the next version, so a reader
 * always sees the current shape while the stored bytes stay as they were written.
 */
export interface EventVersion<P = unknown> {
  schema: z.ZodType<P>;
  upcast?: (payload: unknown) => unknown;
}

export interface EventDefinition<P> {
  type: string;
  /** Versions 1..n; the last one is current. */
  versions: [...EventVersion<unknown>[], EventVersion<P>];
}

export function defineEvent<P>(def: EventDefinition<P>): EventDefinition<P> & { current: number } {
  if (def.versions.length === 0) throw new Error(`${def.type}: at least one version`);
  def.versions.slice(0, -1).forEach((v, i) => {
    if (!v.upcast) throw new Error(`${def.type}: version ${i + 1} needs an upcast to version ${i + 2}`);
  });
  return { ...def, current: def.versions.length };
}

function describe(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

export class EventRegistry {
  private readonly definitions = new Map<string, EventDefinition<unknown>>();

  register(...defs: EventDefinition<unknown>[]): this {
    for (const def of defs) {
      const known = this.definitions.get(def.type);
      if (known && known !== def) throw new Error(`event type ${def.type} registered twice`);
      this.definitions.set(def.type, def);
    }
    return this;
  }

  has(type: string): boolean {
    return this.definitions.has(type);
  }

  currentVersion(type: string): number {
    return this.definition(type).versions.length;
  }

  /** Validates a payload about to be written; it must be of the current version. */
  validateForWrite<P>(type: string, payload: P): P {
    const def = this.definition(type);
    const parsed = def.versions[def.versions.length - 1].schema.safeParse(payload);
    if (!parsed.success) throw new InvalidEventError(type, describe(parsed.error));
    return parsed.data as P;
  }

  /**
   * Validates an envelope read from the store or the bus and upcasts its payload to the current
   * version. The stored event is never rewritten; only the in-memory copy changes.
   */
  read(raw: unknown): EventEnvelope {
    const env = EnvelopeSchema.safeParse(raw);
    if (!env.success) {
      const type = typeof raw === 'object' && raw && 'type' in raw ? String(raw.type) : '(unknown)';
      throw new InvalidEventError(type, `envelope: ${describe(env.error)}`);
    }
    const def = this.definition(env.data.type);
    const { schemaVersion } = env.data;
    if (schemaVersion > def.versions.length) {
      throw new InvalidEventError(def.type, `schemaVersion ${schemaVersion} is newer than this reader knows`);
    }
    let payload: unknown = env.data.payload;
    for (let v = schemaVersion; v <= def.versions.length; v++) {
      const version = def.versions[v - 1];
      const parsed = version.schema.safeParse(payload);
      if (!parsed.success) throw new InvalidEventError(def.type, `v${v} payload: ${describe(parsed.error)}`);
      payload = v < def.versions.length ? version.upcast!(parsed.data) : parsed.data;
    }
    // env.data is zod's fresh copy of the input, this reader's own to complete.
    const envelope = env.data as EventEnvelope;
    envelope.schemaVersion = def.versions.length;
    envelope.payload = payload;
    return envelope;
  }

  private definition(type: string): EventDefinition<unknown> {
    const def = this.definitions.get(type);
    if (!def) throw new InvalidEventError(type, 'unknown event type');
    return def;
  }
}

/** The current payload type of a defined event: `PayloadOf<typeof ItemAdded>`. */
export type PayloadOf<D> = D extends EventDefinition<infer P> ? P : never;
