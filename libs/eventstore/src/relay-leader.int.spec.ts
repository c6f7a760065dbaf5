import { createPostgresDatabase, TestDatabase } from '@assent/testing';
import { LeaderRelay } from './relay-leader';

// The leader loop against the real PostgreSQL server (its own connection, as on the relay thread).
describe('LeaderRelay on PostgreSQL', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createPostgresDatabase();
  });
  afterAll(() => db.drop());

  it('backs off while its outbox cannot be read, instead of retrying every few milliseconds', async () => {
    const errors: number[] = [];
    const started = Date.now();
    // A schema without an outbox: connecting and taking the lock work, every read fails.
    const relay = new LeaderRelay(
      {
        connection: { connectionString: db.url },
        schema: 'missing',
        quotedSchema: '"missing"',
        lockKey: 'assent.outbox-relay.missing',
        batchSize: 10,
        idleMs: 10,
      },
      async () => undefined,
      { error: () => errors.push(Date.now() - started) },
    );
    relay.start();
    await new Promise((done) => setTimeout(done, 1500));
    await relay.stop();
    // Backoff 20, 40, 80, 160, 320, 640 ms: about 6 tries in 1.5 s, where a reset after every
    // reconnect made it try about every 30 ms (some 50 tries).
    expect(errors.length).toBeGreaterThanOrEqual(3);
    expect(errors.length).toBeLessThanOrEqual(8);
    const gaps = errors.slice(1).map((t, i) => t - errors[i]);
    expect(gaps[gaps.length - 1]).toBeGreaterThan(gaps[0]);
  });
});
