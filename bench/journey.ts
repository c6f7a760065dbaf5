/**
 * `npm run bench -- journey [--turns=N] [--only=embedded,distributed]`: turn latency of the shopping
 * journey through the HTTP API, on the embedded default and on the six services as processes against
 * Kafka and PostgreSQL. Figures:
 *   journey.<mode>.suggestion.p50|p99   a search turn ("a white drip coffee maker" ...), ms
 *   journey.<mode>.confirm_to_order.p50|p99   the "yes" that turns a pending confirmation into an order, ms
 * Baseline (same run, same data): the catalog query alone, i.e. the catalog's candidate search and
 * ranking for the intents those turns captured, straight on the catalog's database.
 */
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { IntentCaptured, PayloadOf } from '@assent/contracts';
import { openServiceDatabase } from '@assent/eventstore';
import { issueAccessToken } from '@assent/runtime';
import { startDistributed } from '@assent/testing';
import { ShopperClient, startEmbedded } from '@assent/embedded';
import { CatalogRepository, catalogMigrations, rankCandidates } from '@assent/catalog';
import { BenchContext } from './lib/group';
import { emit, log, now, percentile } from './lib/report';

const SEARCHES = [
  'I want a french press coffee maker',
  'looking for a white drip coffee maker',
  'electric kettle, glass, 1L',
  'waterproof wireless earbuds, IPX7',
  'over-ear headphones, wireless, black',
  'running shoes in size 9',
  'an office chair with a mesh back',
  'cheapest laptop you have',
  'yoga mat made of TPE',
  'a tea kettle between $95 and $100',
];

interface Measured {
  suggestion: number[];
  confirmToOrder: number[];
  catalogQuery: number[];
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

/** Plays the journey `turns` times; each round: one search turn timed, then add, check out, and a timed yes. */
async function measure(url: string, secret: Uint8Array, turns: number, catalogDb: DataSource): Promise<Measured> {
  const shoppers = ['yusuf_rossi_9620', 'mei_kovacs_8020', 'sofia_rossi_8776', 'lucas_brown_6720'];
  const m: Measured = { suggestion: [], confirmToOrder: [], catalogQuery: [] };
  const captured: Array<PayloadOf<typeof IntentCaptured>['intent']> = [];
  for (let i = 0; i < turns; i++) {
    const token = await issueAccessToken({ subject: shoppers[i % shoppers.length], roles: ['shopper'] }, secret);
    const client = new ShopperClient(url, token);
    const id = await client.startConversation();
    let t = now();
    const suggested = await client.say(id, SEARCHES[i % SEARCHES.length]);
    m.suggestion.push(now() - t);
    if (suggested.kind !== 'suggestions') throw new Error(`search turn answered ${suggested.kind}: ${suggested.reply}`);
    await client.say(id, 'add the first one to my cart');
    const confirm = await client.say(id, 'check out');
    if (confirm.kind !== 'confirmation_required')
      throw new Error(`checkout answered ${confirm.kind}: ${confirm.reply}`);
    t = now();
    const placed = await client.say(id, 'yes');
    m.confirmToOrder.push(now() - t);
    if (placed.kind !== 'order_placed') throw new Error(`yes answered ${placed.kind}: ${placed.reply}`);
  }
  const rows = (await catalogDb.query(
    `SELECT payload FROM intent.events WHERE type = 'intent.IntentCaptured' ORDER BY position DESC LIMIT $1`,
    [turns],
  )) as Array<{ payload: PayloadOf<typeof IntentCaptured> }>;
  captured.push(...rows.map((r) => r.payload.intent));
  const catalog = new CatalogRepository('catalog');
  for (let round = 0; round < 3; round++) {
    for (const intent of captured) {
      const t = now();
      rankCandidates(intent, await catalog.findCandidates(catalogDb.manager, intent));
      if (round > 0) m.catalogQuery.push(now() - t);
    }
  }
  return m;
}

function report(mode: string, m: Measured): void {
  const base = sorted(m.catalogQuery);
  for (const [figure, values] of [
    ['suggestion', sorted(m.suggestion)],
    ['confirm_to_order', sorted(m.confirmToOrder)],
  ] as const) {
    for (const p of [50, 99]) {
      emit({
        name: `journey.${mode}.${figure}.p${p}`,
        value: percentile(values, p),
        unit: 'ms',
        baseline: percentile(base, p),
      });
    }
  }
}

export async function run(ctx: BenchContext): Promise<void> {
  // The services' info logs would drown the figures; LOG_LEVEL=info shows them.
  process.env.LOG_LEVEL ??= 'warn';
  let turns = 30;
  let only = ['embedded', 'distributed'];
  for (const arg of ctx.args) {
    if (arg.startsWith('--turns=')) turns = Number(arg.slice('--turns='.length));
    else if (arg.startsWith('--only=')) only = arg.slice('--only='.length).split(',');
    else throw new Error(`journey: unknown option "${arg}" (known: --turns=N, --only=embedded,distributed)`);
  }
  if (only.includes('embedded')) {
    log('journey: starting the embedded default (in memory)');
    const assent = await startEmbedded({ dataDir: null });
    try {
      const db = assent.apps.get('catalog')!.get(DataSource);
      log(`journey: embedded, ${turns} rounds`);
      report('embedded', await measure(assent.url, assent.secret, turns, db));
    } finally {
      await assent.close();
    }
  }
  if (only.includes('distributed')) {
    log('journey: starting six service processes against Kafka and PostgreSQL');
    const assent = await startDistributed(join(__dirname, '..', '..'));
    const db = await openServiceDatabase({
      schema: 'catalog',
      target: assent.database.target,
      migrations: catalogMigrations,
    });
    try {
      await untilSeeded(db);
      log(`journey: distributed, ${turns} rounds`);
      report('distributed', await measure(assent.urlOf('intent'), assent.secret, turns, db));
    } finally {
      await db.destroy();
      await assent.close();
    }
  }
}

async function untilSeeded(db: DataSource): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const [row] = (await db.query(
      `SELECT (SELECT count(*) FROM intent.vocabulary)::int AS v, (SELECT count(*) FROM cart.price_list)::int AS p`,
    )) as Array<{ v: number; p: number }>;
    if (row.v >= 50 && row.p >= 500) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the catalog did not reach intent and cart');
}
