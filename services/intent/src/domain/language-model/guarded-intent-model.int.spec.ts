import { llmGarbage, startFakeLlmServer, userText, type FakeLlmBehaviour, type FakeLlmServer } from '@assent/testing';
import { understandRules } from '../understanding';
import { GuardedIntentModel, type GuardedIntentModelOptions, type TurnProvenance } from './guarded-intent-model';
import { OpenAiCompatibleClient } from './openai-compatible-client';
import { fresh, proposal, shown, vocabulary } from '../test-fixtures';

const FRENCH_PRESS = 'I would like a french press coffee maker under $250';
const frenchPress = proposal({
  product_types: ['Coffee Maker'],
  required_options: { type: ['french press'] },
  max_price: 250,
});
/** The fake's answer to any message: the rules reading, restated as a proposal (a model that agrees). */
const agreeable: FakeLlmBehaviour = {
  kind: 'answer',
  proposal: (req) => {
    const u = understandRules(userText(req), fresh(), vocabulary);
    if (u.kind !== 'search') return proposal({ kind: 'clarify' });
    return proposal({
      product_types: u.intent.productTypes,
      required_options: u.intent.requiredOptions,
      excluded_options: u.intent.excludedOptions,
      max_price: u.intent.maxPrice === null ? null : u.intent.maxPrice / 100,
      min_price: u.intent.minPrice === null ? null : u.intent.minPrice / 100,
      price_sensitive: u.intent.priceSensitive,
      quantity: u.intent.quantity,
    });
  },
};

const DEADLINE = 400;
/** How late a turn may finish after its deadline (timers, the rules fallback, a loaded CI machine). */
const SLACK = 150;
const TEN_MINUTES = 10 * 60_000;

let server: FakeLlmServer;
beforeAll(async () => {
  server = await startFakeLlmServer();
  // The rules model compiles the vocabulary once; not something to time in the first test.
  understandRules('warm up', fresh(), vocabulary);
});
afterAll(() => server.close());
beforeEach(() => {
  server.reset();
  server.setFallback({ kind: 'status', status: 500 });
});

function model(options: Partial<GuardedIntentModelOptions> = {}): GuardedIntentModel {
  return new GuardedIntentModel({
    client: new OpenAiCompatibleClient({ baseUrl: server.baseUrl, apiKey: 'test-key', model: 'qwen-test' }),
    model: 'qwen-test',
    deadlineMs: DEADLINE,
    circuitBreaker: { consecutiveFailures: 1000 },
    ...options,
  });
}

async function timed(
  m: GuardedIntentModel,
  text: string,
  context = fresh(),
): Promise<TurnProvenance & { elapsed: number }> {
  const started = performance.now();
  const outcome = await m.understandWithProvenance({ text, context, vocabulary });
  return { ...outcome, elapsed: performance.now() - started };
}

describe('GuardedIntentModel against an OpenAI-compatible server', () => {
  it('uses a valid answer and sends a structured-output request', async () => {
    server.setFallback({ kind: 'answer', proposal: frenchPress });
    const m = model();
    const out = await timed(m, FRENCH_PRESS);
    expect(out).toMatchObject({
      fallback: null,
      model: { name: 'openai-compatible', version: 'qwen-test' },
      attempts: 1,
      understanding: { kind: 'search', intent: { productTypes: ['Coffee Maker'], maxPrice: 25000 } },
    });
    expect(out.modelMs).toBeGreaterThan(0);
    expect(out.elapsed).toBeLessThan(DEADLINE + SLACK);
    const [req] = server.requests;
    expect(req.path).toBe('/v1/chat/completions');
    expect(req.headers.authorization).toBe('Bearer test-key');
    expect(req.body).toMatchObject({
      model: 'qwen-test',
      temperature: 0,
      response_format: { type: 'json_schema', json_schema: { name: 'intent_proposal', strict: true } },
    });
    const schema = (req.body as { response_format: { json_schema: { schema: { required: string[] } } } })
      .response_format.json_schema.schema;
    expect(schema.required).toEqual(expect.arrayContaining(['kind', 'product_types', 'max_price', 'item_reference']));
    expect(userText(req)).toBe(FRENCH_PRESS);
    expect(m.stats()).toEqual({ turns: 1, modelAnswers: 1, notConsulted: 0, fallbacks: {} });
    expect(await m.understand({ text: FRENCH_PRESS, context: fresh(), vocabulary })).toEqual(out.understanding);
  });

  it('uses a proposal computed from the request', async () => {
    server.setFallback(agreeable);
    const out = await timed(model(), 'a cheap yoga mat, not pink, under $40');
    expect(out.fallback).toBeNull();
    expect(out.understanding).toEqual(understandRules('a cheap yoga mat, not pink, under $40', fresh(), vocabulary));
  });

  const proposalFor = frenchPress;
  const failures: Array<[string, FakeLlmBehaviour, string]> = [
    ['an answer ten minutes late', { kind: 'answer', proposal: proposalFor, delayMs: TEN_MINUTES }, 'timeout'],
    ['no answer at all', { kind: 'hang' }, 'timeout'],
    ['a body that stalls half-way', { kind: 'stall_mid_body', proposal: proposalFor }, 'timeout'],
    ['a body cut half-way', { kind: 'cut_mid_body', proposal: proposalFor }, 'truncated'],
    ['500', { kind: 'status', status: 500 }, 'server_error'],
    ['503 after 50 ms', { kind: 'status', status: 503, delayMs: 50 }, 'server_error'],
    ['429', { kind: 'status', status: 429, headers: { 'retry-after': '30' } }, 'rate_limited'],
    ['401', { kind: 'status', status: 401 }, 'http_error'],
    ['a reset connection', { kind: 'reset' }, 'transport'],
    ['truncated JSON', { kind: 'answer', content: llmGarbage.truncatedJson(proposalFor) }, 'truncated'],
    ['a stop at the token limit', { kind: 'answer', proposal: proposalFor, finishReason: 'length' }, 'truncated'],
    ['invalid JSON', { kind: 'answer', content: llmGarbage.invalidJson() }, 'invalid_json'],
    ['an envelope that is not JSON', { kind: 'raw', body: '<html>Bad gateway</html>' }, 'invalid_json'],
    ['a body that is not UTF-8', { kind: 'raw', body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) }, 'corrupted'],
    ['spaghetti ASCII', { kind: 'answer', content: llmGarbage.spaghetti() }, 'corrupted'],
    ['replacement characters', { kind: 'answer', content: llmGarbage.replacementChars(proposalFor) }, 'corrupted'],
    ['control characters', { kind: 'answer', content: llmGarbage.controlChars(proposalFor) }, 'corrupted'],
    ['mojibake', { kind: 'answer', content: llmGarbage.mojibake(proposalFor) }, 'corrupted'],
    ['the wrong script', { kind: 'answer', content: llmGarbage.cjk() }, 'corrupted'],
    ['an empty answer', { kind: 'answer', content: '' }, 'empty_response'],
    ['a schema violation', { kind: 'answer', proposal: { ...proposalFor, kind: 'buy_now' } }, 'schema_violation'],
    ['a price as a string', { kind: 'answer', proposal: { ...proposalFor, max_price: '250' } }, 'schema_violation'],
    [
      'an upsell to an Espresso Machine',
      { kind: 'answer', proposal: { ...proposalFor, product_types: ['Espresso Machine'], required_options: {} } },
      'untrusted',
    ],
    ['a raised budget', { kind: 'answer', proposal: { ...proposalFor, max_price: 400 } }, 'untrusted'],
    ['a checkout nobody asked for', { kind: 'answer', proposal: proposal({ kind: 'checkout' }) }, 'untrusted'],
  ];

  it.each(failures)('falls back to rules within the deadline on %s', async (_label, behaviour, reason) => {
    server.setFallback(behaviour);
    const m = model();
    const out = await timed(m, FRENCH_PRESS);
    expect(out.fallback?.reason).toBe(reason);
    expect(out.model).toEqual({ name: 'rules', version: '1' });
    expect(out.understanding).toEqual(understandRules(FRENCH_PRESS, fresh(), vocabulary));
    expect(out.elapsed).toBeLessThan(DEADLINE + SLACK);
    expect(server.requests.length).toBeGreaterThanOrEqual(1);
    expect(m.stats().fallbacks).toEqual({ [reason]: 1 });
  });

  it('aborts the request at the deadline rather than waiting for a slow server', async () => {
    server.setFallback({ kind: 'answer', proposal: frenchPress, delayMs: TEN_MINUTES });
    const out = await timed(model({ deadlineMs: 2000 }), FRENCH_PRESS);
    expect(out.fallback?.reason).toBe('timeout');
    expect(out.elapsed).toBeGreaterThanOrEqual(1900);
    expect(out.elapsed).toBeLessThan(2000 + SLACK);
    await new Promise((r) => setTimeout(r, 50));
    expect(server.requests[0].abandoned).toBe(true);
    expect(server.concurrent).toBe(0);
  });

  it('retries a transient failure and uses the answer', async () => {
    server.enqueue({ kind: 'status', status: 503 }, { kind: 'reset' });
    server.setFallback({ kind: 'answer', proposal: frenchPress });
    const out = await timed(model({ retry: { minAttemptMs: 50, maxDelayMs: 50 } }), FRENCH_PRESS);
    expect(out).toMatchObject({ fallback: null, attempts: 3 });
    expect(out.elapsed).toBeLessThan(DEADLINE + SLACK);
    expect(server.requests).toHaveLength(3);
  });

  it('retries only while the deadline leaves room', async () => {
    server.setFallback({ kind: 'status', status: 500, delayMs: 150 });
    const out = await timed(model({ retry: { maxRetries: 10, minAttemptMs: 100, maxDelayMs: 50 } }), FRENCH_PRESS);
    expect(out.fallback?.reason).toBe('server_error');
    expect(out.elapsed).toBeLessThan(DEADLINE + SLACK);
    expect(server.requests.length).toBeGreaterThanOrEqual(1);
    expect(server.requests.length).toBeLessThanOrEqual(3);
  });

  it('does not retry a schema violation or a 401', async () => {
    server.enqueue({ kind: 'status', status: 401 });
    expect((await timed(model(), FRENCH_PRESS)).attempts).toBe(1);
    server.enqueue({ kind: 'answer', proposal: { kind: 'buy_now' } });
    expect((await timed(model(), FRENCH_PRESS)).attempts).toBe(1);
  });

  it('drops products and values that do not exist and uses the rest', async () => {
    server.setFallback({
      kind: 'answer',
      proposal: {
        ...frenchPress,
        product_types: ['Coffee Maker', 'Quantum Toaster'],
        required_options: { type: ['french press'], flux: ['high'] },
        excluded_options: { color: ['chartreuse'] },
      },
    });
    const out = await timed(model(), FRENCH_PRESS);
    expect(out).toMatchObject({
      fallback: null,
      dropped: ['product type "Quantum Toaster"', 'option "flux"', 'color "chartreuse"'],
      understanding: {
        intent: { productTypes: ['Coffee Maker'], requiredOptions: { type: ['french press'] }, excludedOptions: {} },
      },
    });
  });

  it('rejects an item that was never shown', async () => {
    const context = { ...fresh(), suggestions: shown('Coffee Maker') };
    server.setFallback({
      kind: 'answer',
      proposal: proposal({ kind: 'add_to_cart', item_reference: { item_id: '9999999999', position: null } }),
    });
    const out = await timed(model(), 'the white one with a timer, please', context);
    expect(out.fallback?.reason).toBe('untrusted');
    expect(out.dropped).toEqual(['item "9999999999"']);
    expect(out.understanding.kind).not.toBe('add_to_cart');
  });

  it('does not call the model for what only the rules reading may decide', async () => {
    const m = model();
    const out = await timed(m, 'yes', { ...fresh(), pendingConfirmation: true });
    expect(out).toMatchObject({
      understanding: { kind: 'confirm' },
      model: { name: 'rules', version: '1' },
      fallback: null,
      consulted: false,
      modelMs: 0,
    });
    expect(m.stats()).toEqual({ turns: 1, modelAnswers: 0, notConsulted: 1, fallbacks: {} });
    expect(server.requests).toHaveLength(0);
  });

  it('opens the circuit after consecutive failures, stops calling, then probes after the cool-down', async () => {
    server.setFallback({ kind: 'status', status: 500 });
    const m = model({ retry: { maxRetries: 0 }, circuitBreaker: { consecutiveFailures: 3, halfOpenAfterMs: 300 } });
    for (let i = 0; i < 3; i++) expect((await timed(m, FRENCH_PRESS)).fallback?.reason).toBe('server_error');
    expect(m.circuitState).toBe('open');
    for (let i = 0; i < 5; i++) {
      const out = await timed(m, FRENCH_PRESS);
      expect(out.fallback?.reason).toBe('circuit_open');
      expect(out.elapsed).toBeLessThan(50);
    }
    expect(server.requests).toHaveLength(3);

    await new Promise((r) => setTimeout(r, 350));
    server.setFallback({ kind: 'status', status: 500 });
    expect((await timed(m, FRENCH_PRESS)).fallback?.reason).toBe('server_error');
    expect(server.requests).toHaveLength(4);
    expect((await timed(m, FRENCH_PRESS)).fallback?.reason).toBe('circuit_open');

    await new Promise((r) => setTimeout(r, 350));
    server.setFallback({ kind: 'answer', proposal: frenchPress });
    expect((await timed(m, FRENCH_PRESS)).fallback).toBeNull();
    expect(m.circuitState).toBe('closed');
    expect(server.requests).toHaveLength(5);
    expect(m.stats().fallbacks).toEqual({ server_error: 4, circuit_open: 6 });
  });

  it('counts timeouts towards the circuit', async () => {
    server.setFallback({ kind: 'hang' });
    const m = model({ deadlineMs: 150, retry: { maxRetries: 0 }, circuitBreaker: { consecutiveFailures: 2 } });
    await timed(m, FRENCH_PRESS);
    await timed(m, FRENCH_PRESS);
    expect((await timed(m, FRENCH_PRESS)).fallback?.reason).toBe('circuit_open');
    expect(server.requests).toHaveLength(2);
  });

  it('limits concurrent model calls and falls back at once when the queue is full', async () => {
    server.setFallback({ kind: 'answer', proposal: frenchPress, delayMs: 200 });
    const m = model({ bulkhead: { maxConcurrent: 2, maxQueued: 0 } });
    const outs = await Promise.all(Array.from({ length: 5 }, () => timed(m, FRENCH_PRESS)));
    const reasons = outs.map((o) => o.fallback?.reason ?? 'model').sort();
    expect(reasons).toEqual(['bulkhead_full', 'bulkhead_full', 'bulkhead_full', 'model', 'model']);
    for (const o of outs.filter((x) => x.fallback)) expect(o.elapsed).toBeLessThan(50);
    expect(server.maxConcurrent).toBe(2);
    expect(server.requests).toHaveLength(2);
  });

  it('queues calls beyond the limit within their deadline', async () => {
    server.setFallback({ kind: 'answer', proposal: frenchPress, delayMs: 100 });
    const m = model({ deadlineMs: 1500, bulkhead: { maxConcurrent: 2, maxQueued: 10 } });
    const outs = await Promise.all(Array.from({ length: 6 }, () => timed(m, FRENCH_PRESS)));
    expect(outs.every((o) => o.fallback === null)).toBe(true);
    expect(server.maxConcurrent).toBe(2);
    expect(server.requests).toHaveLength(6);
  });

  it('gives a queued call up at its deadline', async () => {
    server.setFallback({ kind: 'answer', proposal: frenchPress, delayMs: TEN_MINUTES });
    const m = model({ bulkhead: { maxConcurrent: 1, maxQueued: 5 } });
    const outs = await Promise.all(Array.from({ length: 3 }, () => timed(m, FRENCH_PRESS)));
    for (const o of outs) {
      expect(o.fallback?.reason).toBe('timeout');
      expect(o.elapsed).toBeLessThan(DEADLINE + SLACK);
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(server.maxConcurrent).toBe(1);
    expect(server.requests).toHaveLength(1);
  });
});
