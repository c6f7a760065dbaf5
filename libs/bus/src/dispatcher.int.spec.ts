import { DataSource, EntityManager } from 'typeorm';
import { EventEnvelope, newEventId } from '@assent/contracts';
import { messageHeaders, openServiceDatabase, SchemaMigration } from '@assent/eventstore';
import { createPgliteDatabase, createPostgresDatabase, probeRegistry, TestDatabase } from '@assent/testing';
import { DeliverySink, DispatchOutcome, EventDispatcher, HandlerContext } from './dispatcher';
import { BusMessage, PermanentHandlerError } from './message';

/** The consumer's own table: one row per handled ping, in handling order. */
const effects: SchemaMigration = {
  name: 'DispatchEffects',
  timestamp: 1764000000201,
  up: (s) => [`CREATE TABLE "${s}".effects (seq bigserial PRIMARY KEY, event_id uuid NOT NULL UNIQUE, n int NOT NULL)`],
};

function envelope(n: number, note = ''): EventEnvelope {
  return {
    eventId: newEventId(),
    type: 'probe.Pinged',
    schemaVersion: 2,
    streamId: 'stream-1',
    sequence: n,
    occurredAt: new Date().toISOString(),
    correlationId: 'dispatch-test',
    causationId: null,
    actor: { kind: 'system', id: 'test' },
    traceparent: null,
    payload: { n, note },
  };
}

let offset = 0;
function message(e: EventEnvelope | Buffer): BusMessage {
  const value = Buffer.isBuffer(e) ? e : Buffer.from(JSON.stringify(e), 'utf8');
  return {
    topic: 'test.probe.events',
    partition: 0,
    offset: String(offset++),
    key: 'stream-1',
    headers: Buffer.isBuffer(e) ? {} : messageHeaders(e),
    value,
  };
}

interface Letter {
  offset: string;
  reason: string;
  attempts: number;
}

describe.each([
  ['PostgreSQL', createPostgresDatabase],
  ['PGlite', () => createPgliteDatabase()],
])('EventDispatcher.dispatchBatch on %s', (_name, createDatabase) => {
  let db: TestDatabase;
  let ds: DataSource;
  /** Handler calls per event id, committed or not. */
  let calls: Map<string, number>;
  /** How many more times the handler of an event id fails before it succeeds. */
  let failures: Map<string, number>;
  let letters: Letter[];
  let acknowledged: string[];
  /** Pings whose after-commit effect ran, each with whether its row was visible outside the transaction then. */
  let announced: Array<{ eventId: string; n: number; committed: boolean }>;
  let dispatcher: EventDispatcher;

  const sink: DeliverySink = {
    deadLetter: async (m, reason, attempts) => void letters.push({ offset: m.offset, reason, attempts }),
    acknowledge: async (m: BusMessage, manager: EntityManager) => {
      expect(manager.queryRunner?.isTransactionActive).toBe(true);
      acknowledged.push(m.offset);
    },
  };

  const handled = async (): Promise<number[]> =>
    ((await ds.query(`SELECT n FROM dispatch.effects ORDER BY seq`)) as Array<{ n: number }>).map((r) => r.n);

  beforeAll(async () => {
    db = await createDatabase();
    ds = await openServiceDatabase({ schema: 'dispatch', target: db.target, migrations: [effects] });
    dispatcher = new EventDispatcher({
      consumer: 'watcher',
      dataSource: ds,
      schema: 'dispatch',
      registry: probeRegistry(),
      retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 5 },
      handlerFor: () => async (e: EventEnvelope, ctx: HandlerContext) => {
        calls.set(e.eventId, (calls.get(e.eventId) ?? 0) + 1);
        const payload = e.payload as { n: number; note: string };
        await ctx.manager.query(`INSERT INTO dispatch.effects (event_id, n) VALUES ($1, $2)`, [e.eventId, payload.n]);
        ctx.afterCommit(async () => {
          const rows = (await ds.query(`SELECT 1 FROM dispatch.effects WHERE event_id = $1`, [e.eventId])) as unknown[];
          announced.push({ eventId: e.eventId, n: payload.n, committed: rows.length === 1 });
        });
        if (payload.note === 'permanent') throw new PermanentHandlerError('this ping breaks an invariant');
        const left = failures.get(e.eventId) ?? 0;
        if (left > 0) {
          failures.set(e.eventId, left - 1);
          throw new Error('transient: the database blinked');
        }
      },
    });
  });

  beforeEach(async () => {
    await ds.query(`DELETE FROM dispatch.effects`);
    calls = new Map();
    failures = new Map();
    letters = [];
    acknowledged = [];
    announced = [];
  });

  /** The after-commit effects of these events (an earlier test's may still be landing), once they had time to run. */
  const announcements = async (es: EventEnvelope[], expected: number) => {
    const ids = new Set(es.map((e) => e.eventId));
    const ours = () => announced.filter((a) => ids.has(a.eventId));
    for (let i = 0; i < 100 && ours().length < expected; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 20));
    return ours()
      .map((a) => (a.committed ? a.n : -a.n))
      .sort((a, b) => a - b);
  };

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('handles a clean run in one transaction, in order', async () => {
    const run = [1, 2, 3, 4].map((n) => message(envelope(n)));
    expect(await dispatcher.dispatchBatch(run, sink)).toEqual(['handled', 'handled', 'handled', 'handled']);
    expect(await handled()).toEqual([1, 2, 3, 4]);
    expect(acknowledged).toEqual([run[3].offset]);
  });

  it('replays the messages before a failing handler and retries that one alone', async () => {
    const es = [1, 2, 3, 4, 5].map((n) => envelope(n));
    failures.set(es[2].eventId, 1);
    const outcomes = await dispatcher.dispatchBatch(es.map(message), sink);
    expect(outcomes).toEqual(['handled', 'handled', 'handled', 'handled', 'handled']);
    // Rolled back effects left nothing: each ping once, in stream order.
    expect(await handled()).toEqual([1, 2, 3, 4, 5]);
    // The first run's attempt at 1 and 2 was rolled back with it, so they ran twice; 3 failed once.
    expect(es.map((e) => calls.get(e.eventId))).toEqual([2, 2, 2, 1, 1]);
    expect(letters).toEqual([]);
    // After-commit effects: once per committed handling, after the commit; none for rolled-back tries.
    expect(await announcements(es, 5)).toEqual([1, 2, 3, 4, 5]);
  });

  it('dead-letters a message whose handler keeps failing and goes on after it', async () => {
    const es = [1, 2, 3, 4].map((n) => envelope(n));
    failures.set(es[1].eventId, 99);
    const run = es.map(message);
    const outcomes: DispatchOutcome[] = await dispatcher.dispatchBatch(run, sink);
    expect(outcomes).toEqual(['handled', 'dead-lettered', 'handled', 'handled']);
    expect(await handled()).toEqual([1, 3, 4]);
    // maxAttempts 3 in all: one in the run, two more alone.
    expect(calls.get(es[1].eventId)).toBe(3);
    expect(letters).toEqual([{ offset: run[1].offset, reason: expect.stringMatching(/transient/), attempts: 3 }]);
    expect(acknowledged).toEqual([run[0].offset, run[1].offset, run[3].offset]);
    // The dead-lettered ping's three rolled-back tries announced nothing.
    expect(await announcements(es, 3)).toEqual([1, 3, 4]);
  });

  it('dead-letters a permanent failure without calling its handler again', async () => {
    const es = [envelope(1), envelope(2, 'permanent'), envelope(3)];
    const outcomes = await dispatcher.dispatchBatch(es.map(message), sink);
    expect(outcomes).toEqual(['handled', 'dead-lettered', 'handled']);
    expect(calls.get(es[1].eventId)).toBe(1);
    expect(letters[0]).toMatchObject({ attempts: 1, reason: expect.stringMatching(/invariant/) });
    expect(await handled()).toEqual([1, 3]);
  });

  it('dead-letters an undecodable message at once, between handled ones', async () => {
    const run = [message(envelope(1)), message(Buffer.from('{"not": an event')), message(envelope(2))];
    expect(await dispatcher.dispatchBatch(run, sink)).toEqual(['handled', 'dead-lettered', 'handled']);
    expect(letters).toEqual([{ offset: run[1].offset, reason: expect.stringMatching(/undecodable/), attempts: 0 }]);
    expect(await handled()).toEqual([1, 2]);
  });

  it('has no second effect for a redelivery, in a later batch or within the same one', async () => {
    const [a, b, c] = [envelope(1), envelope(2), envelope(3)];
    expect(await dispatcher.dispatchBatch([message(a), message(b)], sink)).toEqual(['handled', 'handled']);
    const outcomes = await dispatcher.dispatchBatch([message(a), message(c), message(c), message(b)], sink);
    expect(outcomes).toEqual(['duplicate', 'handled', 'duplicate', 'duplicate']);
    expect(await handled()).toEqual([1, 2, 3]);
    expect([a, b, c].map((e) => calls.get(e.eventId))).toEqual([1, 1, 1]);
  });

  it('rolls back a failed run whole: a duplicate claim in it does not leak', async () => {
    const [a, b] = [envelope(1), envelope(2)];
    failures.set(b.eventId, 1);
    const outcomes = await dispatcher.dispatchBatch([message(a), message(b), message(a)], sink);
    expect(outcomes).toEqual(['handled', 'handled', 'duplicate']);
    expect(await handled()).toEqual([1, 2]);
    const [{ claims }] = (await ds.query(
      `SELECT count(*)::int AS claims FROM dispatch.inbox WHERE consumer = 'watcher' AND event_id = ANY($1::uuid[])`,
      [[a.eventId, b.eventId]],
    )) as Array<{ claims: number }>;
    expect(claims).toBe(2);
  });
});
