import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { SERVICES } from '@assent/contracts';
import { issueAccessToken, Role } from '@assent/runtime';
import { ShopperClient, ShopperTurn } from './client';
import { EmbeddedAssent, startEmbedded } from './embedded';

/**
 * Who may call what, on every HTTP endpoint every service documents: no token, a bad token, another
 * shopper, or a principal who is not a shopper. The endpoint list comes from the OpenAPI documents the
 * services serve, so an endpoint added later is covered without touching this file.
 */

const SHOPPER_A = 'yusuf_rossi_9620';
const SHOPPER_B = 'mei_kovacs_8020';
const PUBLIC_PATHS = new Set(['/health/live', '/health/ready']);
const HTTP_METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** The shopper API as the README lists it: the documents must describe at least these. */
const KNOWN_ENDPOINTS = [
  'POST /v1/conversations',
  'GET /v1/conversations',
  'GET /v1/conversations/{id}',
  'POST /v1/conversations/{id}/messages',
  'GET /v1/conversations/{id}/turns/{turnId}',
  'GET /v1/products',
  'GET /v1/items/{itemId}',
  'GET /v1/carts/{cartId}',
  'GET /v1/confirmations/{confirmationId}',
  'POST /v1/confirmations/{confirmationId}/answer',
  'GET /v1/payment-methods',
  'GET /v1/orders',
  'GET /v1/orders/{orderId}',
  'GET /health/live',
  'GET /health/ready',
  'GET /metrics',
];

interface Operation {
  service: string;
  method: (typeof HTTP_METHODS)[number];
  path: string;
  summary: string;
}

interface Answer {
  status: number;
  contentType: string;
  body: unknown;
}

interface OpenApiDocument {
  paths: Record<string, Partial<Record<string, { summary?: string; description?: string }>>>;
}

interface StoredEvent {
  event_id: string;
  type: string;
  payload: Record<string, unknown>;
}

/** What shopper A owns, created through the API in beforeAll. */
interface ShopperAData {
  /** A conversation that went through checkout and "yes" to an order. */
  ordered: { conversationId: string; turnId: string; confirmationId: string; nonce: string; orderId: string };
  /** A conversation left with a pending confirmation (a stranger's "yes" would matter here). */
  pending: { conversationId: string; turnId: string; confirmationId: string; nonce: string };
  orderIds: string[];
  paymentMethodIds: string[];
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Runs the tasks with at most `limit` at a time. */
async function inParallel(tasks: Array<() => Promise<void>>, limit: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) await tasks[next++]();
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
}

describe('security: authentication and authorization on every endpoint (embedded)', () => {
  let assent: EmbeddedAssent;
  let operations: Operation[];
  let a: ShopperAData;
  const tokens = new Map<string, string>();
  const tokenOf = (subject: string, roles: Role[] = ['shopper']) => tokens.get(`${subject}:${roles.join(',')}`)!;

  async function call(
    method: string,
    path: string,
    options: { token?: string; authorization?: string; body?: unknown } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (options.authorization !== undefined) headers.authorization = options.authorization;
    else if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    const hasBody = method !== 'GET' && method !== 'HEAD';
    if (hasBody) headers['content-type'] = 'application/json';
    const response = await fetch(`${assent.url}${path}`, {
      method,
      headers,
      body: hasBody ? JSON.stringify(options.body ?? {}) : undefined,
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON (metrics are text): keep the text.
    }
    return { status: response.status, contentType: response.headers.get('content-type') ?? '', body };
  }

  async function eventsOf(conversationId: string): Promise<StoredEvent[]> {
    const db = assent.apps.get('intent')!.get(DataSource);
    const all: StoredEvent[] = [];
    for (const schema of SERVICES) {
      all.push(
        ...((await db.query(
          `SELECT event_id, type, payload FROM ${schema}.events WHERE correlation_id = $1 ORDER BY event_id`,
          [conversationId],
        )) as StoredEvent[]),
      );
    }
    return all;
  }

  async function play(client: ShopperClient, turns: string[]): Promise<{ id: string; turns: ShopperTurn[] }> {
    const id = await client.startConversation();
    const answers: ShopperTurn[] = [];
    for (const text of turns) answers.push(await client.say(id, text));
    return { id, turns: answers };
  }

  /** A concrete URL for a documented path: A's own ids where the path names one. */
  function concretePath(path: string, ids: ShopperAData['ordered'] | ShopperAData['pending'] = a.pending): string {
    const values: Record<string, string> = {
      id: ids.conversationId,
      conversationId: ids.conversationId,
      turnId: ids.turnId,
      cartId: `cart-${ids.conversationId}`,
      confirmationId: ids.confirmationId,
      orderId: encodeURIComponent(a.ordered.orderId),
      itemId: 'no-such-item',
    };
    return path.replace(/\{(\w+)\}/g, (_m, name: string) => values[name] ?? `unknown-${name}`);
  }

  /** A body a shopper would send: the dangerous ones where it matters (a "yes" with the right nonce). */
  function bodyFor(operation: Operation): unknown {
    if (operation.path.endsWith('/messages')) return { text: 'yes' };
    if (operation.path.endsWith('/answer')) return { nonce: a.pending.nonce, answer: 'yes' };
    if (operation.method === 'patch') return { available: false };
    return {};
  }

  beforeAll(async () => {
    const secret = randomBytes(32);
    assent = await startEmbedded({ dataDir: null, secret });
    for (const [subject, roles] of [
      [SHOPPER_A, ['shopper']],
      [SHOPPER_B, ['shopper']],
      [SHOPPER_A, ['analyst']],
      [SHOPPER_A, ['operator']],
      ['ops-1', ['operator']],
      ['analyst-1', ['analyst']],
    ] as Array<[string, Role[]]>) {
      tokens.set(`${subject}:${roles.join(',')}`, await issueAccessToken({ subject, roles }, secret));
    }

    // Every operation of every service, from the documents the services serve.
    operations = [];
    for (const service of SERVICES) {
      const response = await fetch(`${assent.url}/docs/${service}/openapi.json`);
      expect(response.status).toBe(200);
      const document = (await response.json()) as OpenApiDocument;
      for (const [path, item] of Object.entries(document.paths)) {
        for (const method of HTTP_METHODS) {
          const operation = item[method];
          if (operation) {
            operations.push({
              service,
              method,
              path,
              summary: `${operation.summary ?? ''} ${operation.description ?? ''}`,
            });
          }
        }
      }
    }

    // Shopper A's real data: an order through the whole flow, and a confirmation left pending.
    const shopperA = new ShopperClient(assent.url, tokenOf(SHOPPER_A));
    const ordered = await play(shopperA, [
      'I want a french press coffee maker',
      'add the first one to my cart',
      'check out',
      'yes',
    ]);
    expect(ordered.turns.map((t) => t.kind)).toEqual(['suggestions', 'info', 'confirmation_required', 'order_placed']);
    const orderedConfirmation = ordered.turns[2].confirmation as { id: string; nonce: string };
    const pending = await play(shopperA, ['I want a french press coffee maker', 'add the first one', 'check out']);
    expect(pending.turns.map((t) => t.kind)).toEqual(['suggestions', 'info', 'confirmation_required']);
    const pendingConfirmation = pending.turns[2].confirmation as { id: string; nonce: string };
    const orders = await call('GET', '/v1/orders', { token: tokenOf(SHOPPER_A) });
    const methods = await call('GET', '/v1/payment-methods', { token: tokenOf(SHOPPER_A) });
    a = {
      ordered: {
        conversationId: ordered.id,
        turnId: ordered.turns[0].turn_id,
        confirmationId: orderedConfirmation.id,
        nonce: orderedConfirmation.nonce,
        orderId: ordered.turns[3].order_id!,
      },
      pending: {
        conversationId: pending.id,
        turnId: pending.turns[0].turn_id,
        confirmationId: pendingConfirmation.id,
        nonce: pendingConfirmation.nonce,
      },
      orderIds: (orders.body as Array<{ order_id: string }>).map((o) => o.order_id),
      paymentMethodIds: (methods.body as Array<{ id: string }>).map((m) => m.id),
    };
    expect(a.ordered.orderId).toMatch(/^#W\d{7}$/);
    expect(a.orderIds).toContain(a.ordered.orderId);
    expect(a.paymentMethodIds.length).toBeGreaterThan(0);
  }, 180_000);

  afterAll(() => assent?.close());

  it('lists the endpoints from the OpenAPI documents of all six services, including the known ones', () => {
    const listed = new Set(operations.map((o) => `${o.method.toUpperCase()} ${o.path}`));
    expect(operations.length).toBeGreaterThanOrEqual(KNOWN_ENDPOINTS.length);
    for (const endpoint of KNOWN_ENDPOINTS) expect(listed).toContain(endpoint);
    for (const service of SERVICES) expect(operations.some((o) => o.service === service)).toBe(true);
  });

  it('refuses every endpoint but the probes without a valid bearer token (401 problem+json)', async () => {
    const secret = randomBytes(32);
    const now = Math.floor(Date.now() / 1000);
    const badCredentials: Array<[string, string | undefined]> = [
      ['no authorization header', undefined],
      ['an empty bearer', 'Bearer '],
      ['a basic credential', `Basic ${Buffer.from(`${SHOPPER_A}:password`).toString('base64')}`],
      ['a token without the Bearer scheme', tokenOf(SHOPPER_A)],
      ['garbage', 'Bearer not.a.jwt'],
      [
        'a token signed with another secret',
        `Bearer ${await issueAccessToken({ subject: SHOPPER_A, roles: ['shopper'] }, secret)}`,
      ],
      [
        'an expired token',
        `Bearer ${await issueAccessToken({ subject: SHOPPER_A, roles: ['shopper'] }, assent.secret, now - 60)}`,
      ],
      [
        'an unsigned (alg none) token',
        `Bearer ${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({
          sub: SHOPPER_A,
          roles: ['shopper', 'operator'],
          iss: 'assent',
          aud: 'assent',
          iat: now,
          exp: now + 3600,
        })}.`,
      ],
    ];
    const checked = new Set<string>();
    const failures: string[] = [];
    const requests: Array<() => Promise<void>> = [];
    for (const operation of operations) {
      const key = `${operation.method} ${operation.path}`;
      if (checked.has(key)) continue;
      checked.add(key);
      const method = operation.method.toUpperCase();
      const path = concretePath(operation.path);
      if (PUBLIC_PATHS.has(operation.path)) {
        requests.push(async () => {
          const probe = await call(method, path);
          if (probe.status !== 200) failures.push(`${key} (probe) answered ${probe.status}`);
        });
        continue;
      }
      for (const [what, authorization] of badCredentials) {
        requests.push(async () => {
          const answer = await call(method, path, { authorization, body: bodyFor(operation) });
          const problem = answer.body as { status?: number; title?: string } | undefined;
          if (
            answer.status !== 401 ||
            !/^application\/problem\+json/.test(answer.contentType) ||
            problem?.status !== 401
          ) {
            failures.push(`${key} with ${what}: ${answer.status} ${answer.contentType} ${JSON.stringify(answer.body)}`);
          }
        });
      }
    }
    await inParallel(requests, 16);
    expect(failures).toEqual([]);
    expect(checked.size).toBeGreaterThanOrEqual(KNOWN_ENDPOINTS.length);
    // The anonymous "yes" carrying the right nonce did nothing: A's confirmation is still pending.
    const types = (await eventsOf(a.pending.conversationId)).map((e) => e.type);
    expect(types.filter((t) => /ConfirmationAnswered|CartMandate|^payment\.|OrderPlaced/.test(t))).toEqual([]);
    const confirmation = await call('GET', `/v1/confirmations/${a.pending.confirmationId}`, {
      token: tokenOf(SHOPPER_A),
    });
    expect(confirmation).toMatchObject({ status: 200, body: { status: 'pending' } });
  });

  it("shows another shopper's conversations, turns, carts, confirmations and orders as missing (404), and changes nothing", async () => {
    const before = {
      ordered: await eventsOf(a.ordered.conversationId),
      pending: await eventsOf(a.pending.conversationId),
    };
    const attempts: Array<{ method: string; path: string; body?: unknown; ownerStatus?: number }> = [];
    for (const ids of [a.ordered, a.pending]) {
      const cid = ids.conversationId;
      attempts.push(
        { method: 'GET', path: `/v1/conversations/${cid}`, ownerStatus: 200 },
        { method: 'GET', path: `/v1/conversations/${cid}/turns/${ids.turnId}`, ownerStatus: 200 },
        { method: 'POST', path: `/v1/conversations/${cid}/messages`, body: { text: 'yes' } },
        { method: 'POST', path: `/v1/conversations/${cid}/messages`, body: { text: 'add the first one to my cart' } },
        { method: 'GET', path: `/v1/carts/cart-${cid}`, ownerStatus: 200 },
        { method: 'GET', path: `/v1/confirmations/${ids.confirmationId}`, ownerStatus: 200 },
        {
          method: 'POST',
          path: `/v1/confirmations/${ids.confirmationId}/answer`,
          body: { nonce: ids.nonce, answer: 'yes' },
        },
        {
          method: 'POST',
          path: `/v1/confirmations/${ids.confirmationId}/answer`,
          body: { nonce: ids.nonce, answer: 'no' },
        },
      );
    }
    // The order just placed, and A's other (seeded) orders.
    for (const orderId of a.orderIds) {
      attempts.push({ method: 'GET', path: `/v1/orders/${encodeURIComponent(orderId)}`, ownerStatus: 200 });
    }

    const failures: string[] = [];
    await inParallel(
      attempts.map((attempt) => async () => {
        const answer = await call(attempt.method, attempt.path, { token: tokenOf(SHOPPER_B), body: attempt.body });
        const problem = answer.body as { status?: number; detail?: string } | undefined;
        if (
          answer.status !== 404 ||
          !/^application\/problem\+json/.test(answer.contentType) ||
          problem?.status !== 404
        ) {
          failures.push(`B ${attempt.method} ${attempt.path}: ${answer.status} ${JSON.stringify(answer.body)}`);
        }
        // A 404 that names nothing of A's beyond what B already put in the URL.
        if (JSON.stringify(answer.body ?? '').includes(SHOPPER_A)) failures.push(`B ${attempt.path} names shopper A`);
        if (attempt.ownerStatus !== undefined) {
          const own = await call(attempt.method, attempt.path, { token: tokenOf(SHOPPER_A) });
          if (own.status !== attempt.ownerStatus) failures.push(`A ${attempt.method} ${attempt.path}: ${own.status}`);
        }
      }),
      8,
    );
    expect(failures).toEqual([]);

    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await eventsOf(a.ordered.conversationId)).toEqual(before.ordered);
    expect(await eventsOf(a.pending.conversationId)).toEqual(before.pending);
    const pending = await call('GET', `/v1/confirmations/${a.pending.confirmationId}`, { token: tokenOf(SHOPPER_A) });
    expect(pending).toMatchObject({ status: 200, body: { status: 'pending' } });
    // A's own turn list is unchanged: 3 and 4 turns.
    const transcript = await call('GET', `/v1/conversations/${a.pending.conversationId}`, {
      token: tokenOf(SHOPPER_A),
    });
    expect((transcript.body as { turns: unknown[] }).turns).toHaveLength(3);
  });

  it("never lists another shopper's conversations, orders or payment methods", async () => {
    const shopperB = new ShopperClient(assent.url, tokenOf(SHOPPER_B));
    const own = await play(shopperB, ['I want a yoga mat']);

    const conversations = await call('GET', '/v1/conversations', { token: tokenOf(SHOPPER_B) });
    expect(conversations.status).toBe(200);
    const conversationIds = (conversations.body as Array<{ conversationId: string }>).map((c) => c.conversationId);
    expect(conversationIds).toContain(own.id);
    expect(conversationIds).not.toContain(a.ordered.conversationId);
    expect(conversationIds).not.toContain(a.pending.conversationId);

    const orders = await call('GET', '/v1/orders', { token: tokenOf(SHOPPER_B) });
    expect(orders.status).toBe(200);
    const bOrders = orders.body as Array<{ order_id: string; user_id: string }>;
    for (const order of bOrders) {
      expect(order.user_id).toBe(SHOPPER_B);
      expect(a.orderIds).not.toContain(order.order_id);
    }
    // B's own orders are readable by B: the 404s above are about ownership, not the route.
    for (const order of bOrders.slice(0, 2)) {
      const answer = await call('GET', `/v1/orders/${encodeURIComponent(order.order_id)}`, {
        token: tokenOf(SHOPPER_B),
      });
      expect(answer.status).toBe(200);
    }

    const methods = await call('GET', '/v1/payment-methods', { token: tokenOf(SHOPPER_B) });
    expect(methods.status).toBe(200);
    for (const method of methods.body as Array<{ id: string; shopperId: string }>) {
      expect(method.shopperId).toBe(SHOPPER_B);
      expect(a.paymentMethodIds).not.toContain(method.id);
    }
    const everything = JSON.stringify([conversations.body, orders.body, methods.body]);
    expect(everything).not.toContain(SHOPPER_A);
    expect(everything).not.toContain(a.ordered.orderId);
  });

  it('does not let an analyst or operator act as a shopper, even with the shopper id as subject (403)', async () => {
    const failures: string[] = [];
    for (const token of [
      tokenOf(SHOPPER_A, ['analyst']),
      tokenOf(SHOPPER_A, ['operator']),
      tokenOf('ops-1', ['operator']),
      tokenOf('analyst-1', ['analyst']),
    ]) {
      for (const [method, path, body] of [
        ['POST', '/v1/conversations', {}],
        ['POST', '/v1/conversations', { text: 'I want a french press coffee maker' }],
        ['GET', '/v1/conversations', undefined],
        ['POST', `/v1/conversations/${a.pending.conversationId}/messages`, { text: 'yes' }],
        ['POST', `/v1/confirmations/${a.pending.confirmationId}/answer`, { nonce: a.pending.nonce, answer: 'yes' }],
        ['GET', `/v1/carts/cart-${a.pending.conversationId}`, undefined],
        ['GET', '/v1/orders', undefined],
        ['GET', '/v1/payment-methods', undefined],
      ] as Array<[string, string, unknown]>) {
        const answer = await call(method, path, { token, body });
        if (answer.status !== 403 || !/^application\/problem\+json/.test(answer.contentType)) {
          failures.push(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
        }
      }
    }
    expect(failures).toEqual([]);
    const types = (await eventsOf(a.pending.conversationId)).map((e) => e.type);
    expect(types.filter((t) => /ConfirmationAnswered|CartMandate|^payment\.|OrderPlaced/.test(t))).toEqual([]);
  });

  it('keeps /metrics and the other operator endpoints to operators', async () => {
    const operatorOnly = operations.filter((o) => o.path === '/metrics' || /\boperator\b/i.test(o.summary));
    expect(operatorOnly.some((o) => o.path === '/metrics')).toBe(true);
    const failures: string[] = [];
    for (const operation of operatorOnly) {
      const method = operation.method.toUpperCase();
      for (const token of [tokenOf(SHOPPER_A), tokenOf('analyst-1', ['analyst'])]) {
        const answer = await call(method, concretePath(operation.path), { token, body: bodyFor(operation) });
        if (answer.status !== 403 || !/^application\/problem\+json/.test(answer.contentType)) {
          failures.push(`${method} ${operation.path}: ${answer.status} ${JSON.stringify(answer.body)}`);
        }
      }
    }
    expect(failures).toEqual([]);
    const metrics = await call('GET', '/metrics', { token: tokenOf('ops-1', ['operator']) });
    expect(metrics.status).toBe(200);
    expect(metrics.contentType).toMatch(/^text\/plain/);
    expect(String(metrics.body)).toMatch(/process_cpu_user_seconds_total/);
  });

  it('refuses an expired token and one signed with another secret (401)', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const token of [
      await issueAccessToken({ subject: SHOPPER_A, roles: ['shopper'] }, assent.secret, now - 1),
      await issueAccessToken({ subject: SHOPPER_A, roles: ['shopper'] }, randomBytes(32)),
      await issueAccessToken({ subject: 'ops-1', roles: ['operator'] }, new TextEncoder().encode('x'.repeat(32))),
    ]) {
      for (const path of ['/v1/conversations', `/v1/conversations/${a.ordered.conversationId}`, '/metrics']) {
        const answer = await call('GET', path, { token });
        expect(answer.status).toBe(401);
        expect(answer.contentType).toMatch(/^application\/problem\+json/);
        expect(answer.body).toMatchObject({ status: 401, title: 'Unauthorized' });
      }
    }
    // The same shopper with a fresh token still gets in: the 401s are about the tokens.
    expect((await call('GET', '/v1/conversations', { token: tokenOf(SHOPPER_A) })).status).toBe(200);
  });
});
