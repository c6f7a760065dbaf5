import { randomBytes } from 'node:crypto';
import { AddressInfo } from 'node:net';
import {
  Body,
  Controller,
  HttpCode,
  INestApplication,
  Module,
  NotFoundException,
  Param,
  Post,
  Res,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EmbeddedTransport, EventBusModule } from '@assent/bus';
import { createPgliteDatabase, createPostgresDatabase, probeRegistry, TestDatabase } from '@assent/testing';
import { CurrentPrincipal, issueAccessToken, Principal } from './auth';
import { idempotencyMigration, requestFingerprint } from './idempotency';
import { createServiceApp } from './service-app';

/** Every call the handlers saw, so a test can tell a replay (no call) from a second effect. */
const calls: Array<{ route: string; subject: string; body: unknown }> = [];

@Controller('v1/things')
class ThingsController {
  @Post()
  @HttpCode(201)
  async create(@Body() body: { name?: string; delayMs?: number }, @CurrentPrincipal() principal: Principal) {
    calls.push({ route: 'create', subject: principal.subject, body });
    if (body.delayMs) await new Promise((resolve) => setTimeout(resolve, body.delayMs));
    return { id: `thing-${calls.length}`, name: body.name, owner: principal.subject };
  }

  /** Sets its status the way the intent service does: through the response object. */
  @Post(':id/pokes')
  poke(@Param('id') id: string, @Res({ passthrough: true }) response: { status(code: number): unknown }) {
    calls.push({ route: 'poke', subject: id, body: null });
    response.status(202);
    return { id, poked: calls.length };
  }

  @Post(':id/missing')
  missing(@Param('id') id: string) {
    calls.push({ route: 'missing', subject: id, body: null });
    throw new NotFoundException(`no thing ${id} (call ${calls.length})`);
  }

  @Post(':id/broken')
  broken(@Param('id') id: string) {
    calls.push({ route: 'broken', subject: id, body: null });
    throw new Error('the database went away');
  }
}

const SCHEMA = 'idem';

function testModule(db: TestDatabase) {
  @Module({
    imports: [
      EventBusModule.forService({
        service: SCHEMA,
        database: db.target,
        transport: new EmbeddedTransport(),
        registry: probeRegistry(),
        migrations: [idempotencyMigration],
      }),
    ],
    controllers: [ThingsController],
  })
  class IdempotencyTestModule {}
  return IdempotencyTestModule;
}

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

describe.each([
  ['PostgreSQL', createPostgresDatabase],
  ['PGlite', () => createPgliteDatabase()],
])('Idempotency-Key on POST (%s)', (_name, createDatabase) => {
  let db: TestDatabase;
  let app: INestApplication;
  let url: string;
  const secret = randomBytes(32);
  const tokens = new Map<string, string>();

  beforeAll(async () => {
    db = await createDatabase();
    ({ app } = await createServiceApp(SCHEMA, testModule(db), { secret }));
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    for (const subject of ['ana', 'bo']) {
      tokens.set(subject, await issueAccessToken({ subject, roles: ['shopper'] }, secret));
    }
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  beforeEach(() => {
    calls.length = 0;
  });

  async function post(path: string, body: unknown, options: { key?: string; as?: string } = {}): Promise<Answer> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${tokens.get(options.as ?? 'ana')}`,
      'content-type': 'application/json',
    };
    if (options.key !== undefined) headers['idempotency-key'] = options.key;
    const response = await fetch(`${url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : {} };
  }

  const newKey = () => `key-${randomBytes(8).toString('hex')}`;

  it('replays the first answer (status and body) for the same key and body, without a second call', async () => {
    const key = newKey();
    const first = await post('/v1/things', { name: 'kettle', extra: { b: 1, a: 2 } }, { key });
    // The same request with its object keys in another order is the same request.
    const second = await post('/v1/things', { extra: { a: 2, b: 1 }, name: 'kettle' }, { key });
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.headers.get('content-type')).toMatch(/^application\/json/);
    expect(calls.filter((c) => c.route === 'create')).toHaveLength(1);
  });

  it('replays a status the handler set on the response object', async () => {
    const key = newKey();
    const first = await post('/v1/things/t1/pokes', {}, { key });
    const second = await post('/v1/things/t1/pokes', {}, { key });
    expect(first).toMatchObject({ status: 202, body: { id: 't1', poked: 1 } });
    expect(second).toMatchObject({ status: 202, body: { id: 't1', poked: 1 } });
    expect(calls).toHaveLength(1);
  });

  it('refuses the same key with a different body, or on another path (422 problem+json)', async () => {
    const key = newKey();
    await post('/v1/things', { name: 'kettle' }, { key });
    const other = await post('/v1/things', { name: 'toaster' }, { key });
    expect(other.status).toBe(422);
    expect(other.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(other.body).toMatchObject({
      type: 'https://assent.dev/problems/idempotency-key-reused',
      status: 422,
      instance: '/v1/things',
    });
    expect(other.body.detail).toMatch(/different request/);
    const elsewhere = await post('/v1/things/t1/pokes', {}, { key });
    expect(elsewhere.status).toBe(422);
    expect(calls).toHaveLength(1);
  });

  it("keeps two shoppers' keys apart", async () => {
    const key = newKey();
    const ana = await post('/v1/things', { name: 'kettle' }, { key, as: 'ana' });
    const bo = await post('/v1/things', { name: 'kettle' }, { key, as: 'bo' });
    expect(ana).toMatchObject({ status: 201, body: { owner: 'ana' } });
    expect(bo).toMatchObject({ status: 201, body: { owner: 'bo' } });
    expect(bo.headers.get('idempotent-replayed')).toBeNull();
    expect(calls.map((c) => c.subject)).toEqual(['ana', 'bo']);
    // Bo using a key only Ana has spent on another body is no conflict either.
    const boAgain = await post('/v1/things', { name: 'kettle' }, { key, as: 'bo' });
    expect(boAgain.body).toEqual(bo.body);
  });

  it('runs the handler once for concurrent duplicates; the others get its answer or 409', async () => {
    const key = newKey();
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => post('/v1/things', { name: 'kettle', delayMs: 300 }, { key })),
    );
    expect(calls).toHaveLength(1);
    const winner = answers.find((a) => a.status === 201 && a.headers.get('idempotent-replayed') === null);
    expect(winner).toBeDefined();
    for (const answer of answers) {
      if (answer.status === 201) {
        expect(answer.body).toEqual(winner!.body);
      } else {
        expect(answer.status).toBe(409);
        expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(answer.body).toMatchObject({ status: 409 });
      }
    }
    expect(answers.filter((a) => a.status === 409).length).toBeGreaterThan(0);
    // Once it is done, a late duplicate gets the stored answer.
    const late = await post('/v1/things', { name: 'kettle', delayMs: 300 }, { key });
    expect(late).toMatchObject({ status: 201, body: winner!.body });
    expect(calls).toHaveLength(1);
  });

  it('stores a 4xx answer and replays it; an unexpected error releases the key for a retry', async () => {
    const key = newKey();
    const first = await post('/v1/things/t9/missing', {}, { key });
    const second = await post('/v1/things/t9/missing', {}, { key });
    expect(first.status).toBe(404);
    expect(first.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(second.status).toBe(404);
    expect(second.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(second.body).toEqual(first.body);
    expect(first.body.detail).toBe('no thing t9 (call 1)');
    expect(calls).toHaveLength(1);

    const brokenKey = newKey();
    expect((await post('/v1/things/t9/broken', {}, { key: brokenKey })).status).toBe(500);
    expect((await post('/v1/things/t9/broken', {}, { key: brokenKey })).status).toBe(500);
    expect(calls.filter((c) => c.route === 'broken')).toHaveLength(2);
    const [{ n }] = (await app
      .get(DataSource)
      .query(`SELECT count(*)::int AS n FROM ${SCHEMA}.idempotency_keys WHERE key = $1`, [brokenKey])) as Array<{
      n: number;
    }>;
    expect(n).toBe(0);
  });

  it('takes over a claim left in progress by a process that died, once its lease is over', async () => {
    const key = newKey();
    const fingerprint = requestFingerprint('POST', '/v1/things', { name: 'kettle' });
    const abandon = (age: string) =>
      app.get(DataSource).query(
        `INSERT INTO ${SCHEMA}.idempotency_keys (subject, key, method, path, fingerprint, claimed_at)
         VALUES ('ana', $1, 'POST', '/v1/things', $2, now() - $3::interval)
         ON CONFLICT (subject, key) DO UPDATE SET claimed_at = EXCLUDED.claimed_at`,
        [key, fingerprint, age],
      );
    await abandon('1 minute');
    expect((await post('/v1/things', { name: 'kettle' }, { key })).status).toBe(409);
    await abandon('1 hour');
    const answer = await post('/v1/things', { name: 'kettle' }, { key });
    expect(answer.status).toBe(201);
    expect((await post('/v1/things', { name: 'kettle' }, { key })).body).toEqual(answer.body);
    expect(calls).toHaveLength(1);
  });

  it('leaves a POST without the header alone', async () => {
    const first = await post('/v1/things', { name: 'kettle' });
    const second = await post('/v1/things', { name: 'kettle' });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body.id).not.toEqual(first.body.id);
    expect(calls).toHaveLength(2);
  });

  it('refuses a malformed key (400 problem+json) without calling the handler', async () => {
    for (const key of ['', 'has space', 'x'.repeat(201), 'tab\there']) {
      const answer = await post('/v1/things', { name: 'kettle' }, { key });
      expect(answer.status).toBe(400);
      expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(answer.body.detail).toMatch(/Idempotency-Key/);
    }
    expect((await post('/v1/things', { name: 'kettle' }, { key: 'x'.repeat(200) })).status).toBe(201);
    expect(calls).toHaveLength(1);
  });

  it('documents the optional header on every POST', async () => {
    const response = await fetch(`${url}/docs/openapi.json`);
    const document = (await response.json()) as {
      paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string; required?: boolean }> }>>;
    };
    const posts = Object.values(document.paths).flatMap((item) => (item.post ? [item.post] : []));
    expect(posts).toHaveLength(4);
    for (const operation of posts) {
      expect(operation.parameters).toContainEqual(
        expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: false }),
      );
    }
  });
});
