/**
 * `npm run bench -- model [--turns=N] [--deadline-ms=2000] [--seed=1]`: search-turn latency through
 * the embedded services with the openai-compatible intent model behind its guard, against a local
 * OpenAI-compatible server whose latency follows an injected distribution (half fast, some up to a
 * second and a half, some seconds-long, a few minutes-long), against the rules-only turn as baseline.
 * Figures:
 *   model.turn.p50|p99        ms, baseline: the same turns with ASSENT_MODEL=rules
 *   model.fallback_rate       share of turns the rules model answered, baseline: the share of model
 *                             answers injected slower than the deadline (what must fall back)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ShopperClient, startEmbedded } from '@assent/embedded';
import { understandRules, vocabularyFromProducts } from '@assent/intent';
import { issueAccessToken } from '@assent/runtime';
import { loadProducts } from '@assent/taubench';
import { FakeLlmBehaviour, startFakeLlmServer, userText } from '@assent/testing';
import { BenchContext } from './lib/group';
import { emit, log, now, percentile } from './lib/report';

/** A deterministic generator, so two runs inject the same latencies. */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const MODEL_ENV = ['ASSENT_MODEL', 'LLM_BASE_URL', 'LLM_API_KEY', 'LLM_MODEL', 'LLM_TURN_DEADLINE_MS'];

async function playSearches(url: string, secret: Uint8Array, utterances: string[]): Promise<number[]> {
  const token = await issueAccessToken({ subject: 'yusuf_rossi_9620', roles: ['shopper'] }, secret);
  const client = new ShopperClient(url, token, 300_000);
  const latencies: number[] = [];
  for (const text of utterances) {
    const id = await client.startConversation();
    const t = now();
    await client.say(id, text, 300_000);
    latencies.push(now() - t);
  }
  return latencies.sort((a, b) => a - b);
}

/** What a well-behaved model would answer: the rules model's reading, in the proposal format. */
function proposalOf(text: string, vocabulary: ReturnType<typeof vocabularyFromProducts>): object {
  const u = understandRules(
    text,
    { lastIntent: null, suggestions: [], cart: [], pendingConfirmation: false },
    vocabulary,
  );
  if (u.kind !== 'search') return { kind: 'clarify', ...EMPTY };
  const i = u.intent;
  return {
    ...EMPTY,
    kind: 'search',
    product_types: i.productTypes,
    excluded_product_types: i.excludedProductTypes,
    required_options: i.requiredOptions,
    excluded_options: i.excludedOptions,
    min_price: i.minPrice === null ? null : i.minPrice / 100,
    max_price: i.maxPrice === null ? null : i.maxPrice / 100,
    price_sensitive: i.priceSensitive,
    quantity: i.quantity,
  };
}

const EMPTY = {
  product_types: [],
  excluded_product_types: [],
  required_options: {},
  excluded_options: {},
  min_price: null,
  max_price: null,
  price_sensitive: false,
  quantity: 1,
  item_reference: null,
};

export async function run(ctx: BenchContext): Promise<void> {
  process.env.LOG_LEVEL ??= 'warn';
  let turns = 80;
  let deadlineMs = 2000;
  let seed = 1;
  for (const arg of ctx.args) {
    if (arg.startsWith('--turns=')) turns = Number(arg.slice(8));
    else if (arg.startsWith('--deadline-ms=')) deadlineMs = Number(arg.slice(14));
    else if (arg.startsWith('--seed=')) seed = Number(arg.slice(7));
    else throw new Error(`model: unknown option "${arg}" (known: --turns=N, --deadline-ms=N, --seed=N)`);
  }
  // First turns of our wider case set: varied searches over all 50 product types.
  const cases = readFileSync(join(__dirname, '..', '..', 'libs', 'testing', 'data', 'intent-cases.wide.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { turns: string[] }).turns[0]);
  const utterances = Array.from({ length: turns }, (_, i) => cases[i % cases.length]);

  log('model: rules-only baseline');
  const baselineAssent = await startEmbedded({ dataDir: null });
  let baseline: number[];
  try {
    baseline = await playSearches(baselineAssent.url, baselineAssent.secret, utterances);
  } finally {
    await baselineAssent.close();
  }

  // The model answers what the rules model reads (a valid, trusted proposal), after an injected delay.
  const vocabulary = vocabularyFromProducts(loadProducts());
  const next = random(seed);
  let injectedLate = 0;
  const behaviour = (request: Parameters<typeof userText>[0]): FakeLlmBehaviour => {
    const r = next();
    const delayMs =
      r < 0.5 ? 20 + next() * 60 : r < 0.85 ? 200 + next() * 1300 : r < 0.97 ? 2500 + next() * 4000 : 180_000;
    if (delayMs > deadlineMs) injectedLate++;
    return { kind: 'answer', delayMs, proposal: proposalOf(userText(request), vocabulary) };
  };
  const llm = await startFakeLlmServer({ fallback: behaviour });
  const saved = Object.fromEntries(MODEL_ENV.map((k) => [k, process.env[k]]));
  Object.assign(process.env, {
    ASSENT_MODEL: 'openai-compatible',
    LLM_BASE_URL: llm.baseUrl,
    LLM_API_KEY: '',
    LLM_MODEL: 'qwen-bench',
    LLM_TURN_DEADLINE_MS: String(deadlineMs),
  });
  log(`model: openai-compatible, deadline ${deadlineMs} ms, ${turns} turns`);
  const assent = await startEmbedded({ dataDir: null });
  let measured: number[];
  let fallbacks = 0;
  let consulted = 0;
  try {
    measured = await playSearches(assent.url, assent.secret, utterances);
    const { DataSource } = await import('typeorm');
    const rows = (await assent.apps
      .get('intent')!
      .get(DataSource)
      .query(
        `SELECT payload->'fallback'->>'reason' AS reason FROM intent.events WHERE type = 'intent.IntentCaptured'`,
      )) as Array<{
      reason: string | null;
    }>;
    consulted = rows.length;
    fallbacks = rows.filter((r) => r.reason !== null).length;
  } finally {
    await assent.close();
    await llm.close();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  for (const p of [50, 99]) {
    emit({ name: `model.turn.p${p}`, value: percentile(measured, p), unit: 'ms', baseline: percentile(baseline, p) });
  }
  emit({
    name: 'model.fallback_rate',
    value: fallbacks / Math.max(1, consulted),
    unit: 'fraction',
    baseline: injectedLate / Math.max(1, llm.requests.length),
  });
  log(
    `model: ${consulted} search turns, ${fallbacks} fallbacks, ${llm.requests.length} model calls, ${injectedLate} injected past the deadline`,
  );
}
