import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { issueAccessToken } from '@assent/runtime';
import { EmbeddedAssent, startEmbedded } from './embedded';

const SHOPPER = 'yusuf_rossi_9620';

/** A shopper's retried message, on the embedded default: said once, answered the same every time. */
describe('Idempotency-Key on the embedded Assent', () => {
  let assent: EmbeddedAssent;
  let token: string;

  beforeAll(async () => {
    const secret = randomBytes(32);
    assent = await startEmbedded({ dataDir: null, secret });
    token = await issueAccessToken({ subject: SHOPPER, roles: ['shopper'] }, secret);
  }, 180_000);

  afterAll(() => assent?.close());

  async function post(path: string, body: unknown, key?: string) {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    if (key) headers['idempotency-key'] = key;
    const response = await fetch(`${assent.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as Record<string, unknown>,
    };
  }

  it('answers a repeated message with the same turn and records the utterance once; another text is refused', async () => {
    const started = await post('/v1/conversations', {});
    expect(started.status).toBe(201);
    const id = started.body.id as string;
    const key = `msg-${randomBytes(8).toString('hex')}`;
    const path = `/v1/conversations/${id}/messages`;

    const first = await post(path, { text: 'I would like a french press coffee maker' }, key);
    const again = await post(path, { text: 'I would like a french press coffee maker' }, key);
    expect([200, 202]).toContain(first.status);
    expect(again.status).toBe(first.status);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');

    const intent = assent.apps.get('intent')!.get(DataSource);
    const utterances = (await intent.query(
      `SELECT count(*)::int AS n FROM intent.events WHERE type = 'intent.UtteranceReceived' AND correlation_id = $1`,
      [id],
    )) as Array<{ n: number }>;
    expect(utterances[0].n).toBe(1);

    const other = await post(path, { text: 'add the first one to my cart' }, key);
    expect(other.status).toBe(422);
    expect(other.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(other.body).toMatchObject({ type: 'https://assent.dev/problems/idempotency-key-reused', status: 422 });
  });

  it("documents the header on each service's POSTs", async () => {
    for (const service of ['intent', 'consent']) {
      const document = (await (await fetch(`${assent.url}/docs/${service}/openapi.json`)).json()) as {
        paths: Record<string, { post?: { parameters?: Array<{ name: string }> } }>;
      };
      const posts = Object.values(document.paths).flatMap((item) => (item.post ? [item.post] : []));
      expect(posts.length).toBeGreaterThan(0);
      for (const operation of posts) expect(operation.parameters?.map((p) => p.name)).toContain('Idempotency-Key');
    }
  });
});
