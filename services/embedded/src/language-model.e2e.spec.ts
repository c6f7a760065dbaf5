import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { FakeLlmBehaviour, llmGarbage, scoreIntentCases, startFakeLlmServer } from '@assent/testing';
import { runBatch } from './batch';
import { startEmbedded } from './embedded';

const ROOT = join(__dirname, '..', '..', '..');
const DATA = join(ROOT, 'libs', 'testing', 'data');
const CASES = join(DATA, 'intent-cases.dev.jsonl');
const DEADLINE_MS = 400;

const turnCount = readFileSync(CASES, 'utf8')
  .trim()
  .split('\n')
  .reduce((n, line) => n + (JSON.parse(line) as { turns: string[] }).turns.length, 0);

/**
 * The dev intent set through the embedded services with ASSENT_MODEL=openai-compatible pointed at a
 * local OpenAI-compatible server that misbehaves: every case still scores, the batch finishes within
 * (turns × deadline) plus a small constant, and each model failure is recorded on the turn's event.
 */
describe.each<[string, FakeLlmBehaviour, RegExp]>([
  // A valid answer, too late: far past the turn's deadline.
  [
    'valid but slow',
    { kind: 'answer', delayMs: 120_000, proposal: { kind: 'search', product_types: ['Espresso Machine'] } },
    /timeout/,
  ],
  [
    'answering garbage',
    { kind: 'answer', content: llmGarbage.spaghetti(300) },
    /corrupted|invalid_json|schema_violation/,
  ],
])('the language model %s', (_name, behaviour, reason) => {
  const saved = { ...process.env };
  let llm: Awaited<ReturnType<typeof startFakeLlmServer>>;
  let assent: Awaited<ReturnType<typeof startEmbedded>>;

  beforeAll(async () => {
    llm = await startFakeLlmServer({ fallback: behaviour });
    Object.assign(process.env, {
      ASSENT_MODEL: 'openai-compatible',
      LLM_BASE_URL: llm.baseUrl,
      LLM_API_KEY: '',
      LLM_MODEL: 'qwen-test',
      LLM_TURN_DEADLINE_MS: String(DEADLINE_MS),
    });
    assent = await startEmbedded({ dataDir: null, secret: randomBytes(32) });
  }, 120_000);

  afterAll(async () => {
    await assent?.close();
    await llm?.close();
    for (const key of ['ASSENT_MODEL', 'LLM_BASE_URL', 'LLM_API_KEY', 'LLM_MODEL', 'LLM_TURN_DEADLINE_MS']) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  });

  it('scores every dev case, within turns × deadline, with each fallback recorded', async () => {
    const output = join(mkdtempSync(join(tmpdir(), 'assent-llm-')), 'turns.jsonl');
    const started = Date.now();
    const result = await runBatch({ input: CASES, output, baseUrl: assent.url, secret: assent.secret, concurrency: 1 });
    const elapsed = Date.now() - started;
    expect(result.failed).toBe(0);
    expect(scoreIntentCases(CASES, output)).toContain('28 passed, 0 failed');
    // Sequential turns, each bounded by the deadline; the constant covers the services' own work.
    expect(elapsed).toBeLessThan(turnCount * DEADLINE_MS + 15_000);
    expect(llm.requests.length).toBeGreaterThan(0);

    const db = assent.apps.get('intent')!.get(DataSource);
    const captured = (await db.query(
      `SELECT payload->'fallback' AS fallback, payload->'model'->>'name' AS model FROM intent.events WHERE type = 'intent.IntentCaptured'`,
    )) as Array<{ fallback: { from: string; reason: string } | null; model: string }>;
    expect(captured.length).toBeGreaterThan(15);
    // The model failed on every search (then its circuit opened, so it was not even called): the rules
    // model answered each one, and the turn's event says why.
    for (const c of captured) {
      expect(c.model).toBe('rules');
      expect(c.fallback).toMatchObject({ from: 'openai-compatible', reason: expect.stringMatching(/^[a-z_]+$/) });
    }
    expect(captured.some((c) => reason.test(c.fallback!.reason))).toBe(true);
    expect(captured.some((c) => c.fallback!.reason === 'circuit_open')).toBe(true);
    const metrics = await fetch(`${assent.url}/metrics`, {
      headers: {
        authorization: `Bearer ${await (await import('@assent/runtime')).issueAccessToken({ subject: 'ops', roles: ['operator'] }, assent.secret)}`,
      },
    }).then((r) => r.text());
    expect(metrics).toMatch(/assent_intent_model_fallbacks_total\{from="openai-compatible",reason="[a-z_]+"\} [1-9]/);
    expect(metrics).toMatch(/assent_turn_duration_seconds_count\{kind="suggestions"\} [1-9]/);
    // Nothing was bought: the dev set has no approval, and the model's espresso machine never appears.
    const orders = (await db.query(
      `SELECT count(*)::int AS n FROM aftersales.events WHERE type = 'aftersales.OrderPlaced'`,
    )) as Array<{
      n: number;
    }>;
    expect(orders[0].n).toBe(0);
  }, 180_000);
});
