import { Client } from 'pg';
import { DataSource, EntityManager } from 'typeorm';
import { eventTopic } from '@assent/contracts';
import { createPgliteDatabase, createPostgresDatabase, probeRegistry, TestDatabase } from '@assent/testing';
import { executeCommand } from './aggregate';
import { openServiceDatabase } from './database';
import { StreamVersionConflictError } from './errors';
import { EventStore } from './event-store';
import { Inbox } from './inbox';

const meta = { correlationId: 'conv-1', causationId: null, actor: { kind: 'shopper' as const, id: 'u1' } };
const ping = (n: number) => ({ type: 'probe.Pinged', payload: { n, note: `n=${n}` } });

describe.each([
  ['PostgreSQL', createPostgresDatabase],
  ['PGlite', () => createPgliteDatabase()],
])('event store on %s', (_name, createDatabase) => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let store: EventStore;

  beforeAll(async () => {
    db = await createDatabase();
    dataSource = await openServiceDatabase({ schema: 'probe', target: db.target });
    store = new EventStore('probe', eventTopic('probe', 'test'), probeRegistry());
  });

  afterAll(async () => {
    await dataSource.destroy();
    await db.drop();
  });

  it('appends with per-stream sequences and an outbox row per event, and reads them back', async () => {
    const written = await dataSource.transaction((m) => store.append(m, 'stream-a', 0, [ping(1), ping(2)], meta));
    expect(written.map((e) => e.sequence)).toEqual([1, 2]);
    await dataSource.transaction((m) => store.append(m, 'stream-a', 2, [ping(3)], meta));
    const read = await store.readStream(dataSource.manager, 'stream-a');
    expect(read.map((e) => (e.payload as { n: number }).n)).toEqual([1, 2, 3]);
    expect(read.map((e) => e.eventId)).toEqual([...written.map((e) => e.eventId), read[2].eventId]);
    const outbox = await dataSource.query(`SELECT event_id, topic, message_key FROM probe.outbox ORDER BY position`);
    expect(outbox).toHaveLength(3);
    expect(outbox[0]).toMatchObject({ topic: 'test.probe.events', message_key: 'stream-a' });
    expect(Number(read[2].position)).toBeGreaterThan(Number(read[0].position));
  });

  it('rolls back events and outbox rows with the caller transaction', async () => {
    await expect(
      dataSource.transaction(async (m) => {
        await store.append(m, 'stream-rollback', 0, [ping(1)], meta);
        throw new Error('business rule failed after append');
      }),
    ).rejects.toThrow('business rule');
    expect(await store.readStream(dataSource.manager, 'stream-rollback')).toEqual([]);
    const [{ count }] = await dataSource.query(
      `SELECT count(*)::int AS count FROM probe.outbox WHERE message_key = 'stream-rollback'`,
    );
    expect(count).toBe(0);
  });

  it('refuses a stale expected version with a typed conflict and writes nothing', async () => {
    await dataSource.transaction((m) => store.append(m, 'stream-b', 0, [ping(1)], meta));
    await expect(dataSource.transaction((m) => store.append(m, 'stream-b', 0, [ping(9)], meta))).rejects.toBeInstanceOf(
      StreamVersionConflictError,
    );
    expect(await store.readStream(dataSource.manager, 'stream-b')).toHaveLength(1);
  });

  it('lets exactly one of many concurrent appends at the same version win', async () => {
    const attempts = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        dataSource.transaction((m) => store.append(m, 'stream-race', 0, [ping(i)], meta)),
      ),
    );
    const won = attempts.filter((a) => a.status === 'fulfilled');
    const lost = attempts.filter((a): a is PromiseRejectedResult => a.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(7);
    lost.forEach((l) => expect(l.reason).toBeInstanceOf(StreamVersionConflictError));
    expect(await store.readStream(dataSource.manager, 'stream-race')).toHaveLength(1);
  });

  it('decides and evolves through executeCommand, conflicting instead of losing an update', async () => {
    const counter = {
      initialState: 0,
      decide: (cmd: { add: number }, total: number) => (total + cmd.add > 10 ? [] : [ping(total + cmd.add)]),
      evolve: (_s: number, e: { payload: unknown }) => (e.payload as { n: number }).n,
    };
    const r1 = await dataSource.transaction((m) => executeCommand(store, m, counter, 'counter', { add: 4 }, meta));
    expect(r1.state).toBe(4);
    const r2 = await dataSource.transaction((m) => executeCommand(store, m, counter, 'counter', { add: 5 }, meta));
    expect(r2.state).toBe(9);
    const r3 = await dataSource.transaction((m) => executeCommand(store, m, counter, 'counter', { add: 5 }, meta));
    expect(r3.events).toEqual([]);
  });

  it('is append-only in the database itself: UPDATE, DELETE and TRUNCATE fail', async () => {
    await dataSource.transaction((m) => store.append(m, 'stream-c', 0, [ping(1)], meta));
    for (const sql of [
      `UPDATE probe.events SET payload = '{"n": 666, "note": ""}' WHERE stream_id = 'stream-c'`,
      `DELETE FROM probe.events WHERE stream_id = 'stream-c'`,
      `TRUNCATE probe.events`,
    ]) {
      await expect(dataSource.query(sql)).rejects.toThrow(/append-only/);
    }
    const [event] = await store.readStream(dataSource.manager, 'stream-c');
    expect(event.payload).toEqual({ n: 1, note: 'n=1' });
  });

  it('upcasts an old schema version on read without rewriting the stored row', async () => {
    await dataSource.query(
      `INSERT INTO probe.events (event_id, stream_id, sequence, type, schema_version, occurred_at, correlation_id, actor, payload)
       VALUES ('0190f2a0-0000-7000-8000-000000000001', 'stream-old', 1, 'probe.Pinged', 1, now(), 'c', '{"kind":"system","id":"x"}', '{"n": 7}')`,
    );
    const [event] = await store.readStream(dataSource.manager, 'stream-old');
    expect(event.schemaVersion).toBe(2);
    expect(event.payload).toEqual({ n: 7, note: '' });
    const [raw] = await dataSource.query(
      `SELECT schema_version, payload FROM probe.events WHERE stream_id = 'stream-old'`,
    );
    expect(raw).toEqual({ schema_version: 1, payload: { n: 7 } });
  });

  it('records a handled event once in the inbox, in the consumer transaction', async () => {
    const inbox = new Inbox('probe');
    const id = '0190f2a0-0000-7000-8000-0000000000aa';
    expect(await dataSource.transaction((m) => inbox.claim(m, 'watcher', id, 't'))).toBe(true);
    expect(await dataSource.transaction((m) => inbox.claim(m, 'watcher', id, 't'))).toBe(false);
    expect(await dataSource.transaction((m) => inbox.claim(m, 'auditor', id, 't'))).toBe(true);
    // A claim rolled back with a failed handler leaves no trace, so the retry handles it.
    const fresh = '0190f2a0-0000-7000-8000-0000000000bb';
    await expect(
      dataSource.transaction(async (m) => {
        await inbox.claim(m, 'watcher', fresh, 't');
        throw new Error('handler failed');
      }),
    ).rejects.toThrow();
    expect(await dataSource.transaction((m) => inbox.claim(m, 'watcher', fresh, 't'))).toBe(true);
  });

  it('claims batches in the inbox: all new, redelivered ones, duplicates within a batch, small batches', async () => {
    const inbox = new Inbox('probe');
    const ids = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => `0190f2a0-0000-7000-8000-${String(from + i).padStart(12, '0')}`);
    const claimMany = (eventIds: string[], after?: (m: EntityManager) => Promise<void>) =>
      dataSource.transaction(async (m) => {
        const fresh = await inbox.claimMany(m, 'batcher', eventIds, 't');
        await after?.(m);
        return [...fresh].sort();
      });
    const first = ids(1000, 100);
    expect(await claimMany(first)).toEqual(first);
    // A redelivered batch with one new id: the plain insert fails on the key, the savepoint takes it
    // back, and the transaction goes on to commit the handler's writes.
    const next = [...first.slice(50), ...ids(2000, 1)];
    expect(
      await claimMany(next, (m) =>
        m.query(`INSERT INTO probe.inbox (consumer, event_id, topic) VALUES ('marker', $1, 't')`, [ids(3000, 1)[0]]),
      ),
    ).toEqual(ids(2000, 1));
    const [{ n }] = (await dataSource.query(
      `SELECT count(*)::int AS n FROM probe.inbox WHERE consumer = 'marker'`,
    )) as Array<{ n: number }>;
    expect(n).toBe(1);
    // The same id twice in one batch is new once.
    const twice = [...ids(4000, 40), ids(4000, 1)[0]];
    expect(await claimMany(twice)).toEqual(ids(4000, 40));
    // Below the savepoint threshold.
    expect(await claimMany([...ids(5000, 3), first[0]])).toEqual(ids(5000, 3));
    const [{ total }] = (await dataSource.query(
      `SELECT count(*)::int AS total FROM probe.inbox WHERE consumer = 'batcher'`,
    )) as Array<{ total: number }>;
    expect(total).toBe(100 + 1 + 40 + 3);
  });

  it('migrations are idempotent: reopening the schema applies nothing twice', async () => {
    const again = await openServiceDatabase({ schema: 'probe', target: db.target });
    const applied = await again.query(`SELECT name FROM probe.migrations`);
    expect(applied).toHaveLength(1);
    await again.destroy();
  });
});

describe('append-only for the application role itself (PostgreSQL)', () => {
  it('refuses UPDATE and DELETE from a non-superuser role that was granted them', async () => {
    const db = await createPostgresDatabase();
    const ds = await openServiceDatabase({ schema: 'probe', target: db.target });
    const store = new EventStore('probe', 'test.probe.events', probeRegistry());
    await ds.transaction((m) => store.append(m, 's', 0, [ping(1)], meta));
    const role = `assent_app_${Date.now()}`;
    await ds.query(`CREATE ROLE ${role} LOGIN`);
    // Even an explicit grant does not help: the trigger refuses for every role.
    await ds.query(`GRANT USAGE ON SCHEMA probe TO ${role}; GRANT SELECT, UPDATE, DELETE ON probe.events TO ${role}`);
    const client = new Client({ connectionString: db.url!.replace('postgres@', `${role}@`) });
    await client.connect();
    try {
      await expect(client.query(`UPDATE probe.events SET type = 'probe.Forged'`)).rejects.toThrow(/append-only/);
      await expect(client.query(`DELETE FROM probe.events`)).rejects.toThrow(/append-only/);
    } finally {
      await client.end();
      await ds.destroy();
      await db.drop();
      const admin = new Client({ connectionString: db.url!.replace(/\/[^/]+$/, '/postgres') });
      await admin.connect();
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
      await admin.end();
    }
  });
});
