import { z } from 'zod';
import { defineEvent, EventRegistry } from '@assent/contracts';

/**
 * Events of a "probe" service that exists only in backbone tests and benchmarks, so they can
 * exercise the event store and the bus before any shopping service exists.
 */
export const ProbePinged = defineEvent({
  type: 'probe.Pinged',
  versions: [
    { schema: z.object({ n: z.number().int() }), upcast: (p) => ({ ...(p as object), note: '' }) },
    { schema: z.object({ n: z.number().int(), note: z.string().max(2000) }) },
  ],
});

export function probeRegistry(): EventRegistry {
  return new EventRegistry().register(ProbePinged);
}
