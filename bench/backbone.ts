/**
 * The `backbone` figure group: event store appends and the bus (outbox -> relay -> Kafka ->
 * dispatcher -> handler), each against a same-run baseline of the same work done with the raw
 * drivers (pg, kafkajs).
 *
 *   eventstore.append          events/s through EventStore.append vs plain INSERTs through a pg Pool
 *   bus.throughput             events/s outbox -> handler vs raw kafkajs produce -> consume
 *   bus.latency.p50/p99        ms append commit -> handler at a steady rate vs raw kafkajs
 *   embedded.*                 the same three on PGlite + EmbeddedTransport vs the same SQL run raw
 *                              (backbone-embedded.ts)
 *
 * Options (arguments after the group name):
 *   --only=append,throughput,latency,embedded   a subset (default: all)
 *   --diag                                      extra DIAG lines on where the bus's time goes
 * Knobs (environment; defaults are the libraries' defaults):
 *   BENCH_PARTITIONS (3), BENCH_CONSUMER_CONCURRENCY (3), BENCH_RELAY_BATCH (1000),
 *   BENCH_RELAY_IDLE_MS (10), BENCH_POOL (16), BENCH_BUS_EVENTS (20000), BENCH_BUS_ROUNDS (4),
 *   BENCH_RATE (1000),
 *   BENCH_LATENCY_SECONDS (10), BENCH_EMBEDDED_APPEND_EVENTS (5000), BENCH_EMBEDDED_BUS_EVENTS (5000),
 *   BENCH_EMBEDDED_RATE (200), BENCH_EMBEDDED_LATENCY_SECONDS (8).
 */
import { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { EventEnvelope, eventTopic, deadLetterTopic } from '@assent/contracts';
import {
  DatabaseTarget,
  DEFAULT_RELAY_BATCH,
  DEFAULT_RELAY_IDLE_MS,
  EventStore,
  eventRowValues,
  outboxRowValues,
  openServiceDatabase,
  OutboxRelay,
  OutboxPublisher,
} from '@assent/eventstore';
import { BusMessage, DeliverySink, EventDispatcher, KafkaTransport } from '@assent/bus';
import { createPostgresDatabase, kafkaBrokers, probeRegistry, TestDatabase, uniqueName } from '@assent/testing';
import { deleteTopics, RawKafka } from './lib/kafka';
import { benchMeta, ping, probeEnvelope, probeMessage } from './lib/probe';
import {
  Counter,
  cpuFields,
  cpuMeter,
  diag,
  emit,
  Figure,
  log,
  machineLoad,
  now,
  openLoop,
  perSecond,
} from './lib/report';
import { BenchContext } from './lib/group';
import { embeddedFigures } from './backbone-embedded';
import {
  CountingDispatcher,
  intEnv,
  LatencyResult,
  latencyStats,
  preAppend,
  Resources,
  runWriters,
  settled,
  timedPublisher,
} from './lib/common';

interface Config {
  /** eventstore.append */
  writers: number;
  appendEvents: number;
  streamsPerWriter: number;
  appendRounds: number;
  poolSize: number;
  /** bus.* */
  partitions: number;
  consumerConcurrency: number;
  relayBatch: number;
  relayIdleMs: number;
  busEvents: number;
  /** bus.throughput rounds, each baseline and product, in ABBA order. */
  busRounds: number;
  busStreams: number;
  rate: number;
  latencySeconds: number;
  latencyWarmSeconds: number;
}

function config(): Config {
  return {
    writers: 16,
    appendEvents: 10_000,
    streamsPerWriter: 25,
    appendRounds: 2,
    poolSize: intEnv('BENCH_POOL', 16),
    // Library defaults unless overridden: KafkaTransport partitions 3 and partitionsConsumedConcurrently
    // 3, OutboxRelay batchSize and idleMs. The baselines send in batches of relayBatch too.
    partitions: intEnv('BENCH_PARTITIONS', 3),
    consumerConcurrency: intEnv('BENCH_CONSUMER_CONCURRENCY', 3),
    relayBatch: intEnv('BENCH_RELAY_BATCH', DEFAULT_RELAY_BATCH),
    relayIdleMs: intEnv('BENCH_RELAY_IDLE_MS', DEFAULT_RELAY_IDLE_MS),
    busEvents: intEnv('BENCH_BUS_EVENTS', 20_000),
    busRounds: intEnv('BENCH_BUS_ROUNDS', 4),
    busStreams: 200,
    rate: intEnv('BENCH_RATE', 1000),
    latencySeconds: intEnv('BENCH_LATENCY_SECONDS', 10),
    latencyWarmSeconds: 2,
  };
}

const FIGURES = ['append', 'throughput', 'latency', 'embedded'] as const;
type FigureName = (typeof FIGURES)[number];

export async function run(ctx: BenchContext): Promise<void> {
  const cfg = config();
  let only: Set<FigureName> = new Set(FIGURES);
  let withDiag = false;
  for (const arg of ctx.args) {
    if (arg === '--diag') withDiag = true;
    else if (arg.startsWith('--only=')) {
      const names = arg.slice('--only='.length).split(',').filter(Boolean);
      for (const n of names)
        if (!(FIGURES as readonly string[]).includes(n))
          throw new Error(`--only: unknown figure "${n}" (known: ${FIGURES.join(', ')})`);
      only = new Set(names as FigureName[]);
    } else throw new Error(`backbone: unknown option "${arg}" (known: --only=${FIGURES.join(',')}, --diag)`);
  }
  log(`config ${JSON.stringify(cfg)}`);

  const brokers = kafkaBrokers();
  const res = new Resources();
  const db = await createPostgresDatabase();
  log(`database ${db.url}`);
  const ns = uniqueName('bench');
  const figures: Figure[] = [];
  const idle = async (figure: string) => {
    const load = await machineLoad();
    diag('machine', { before: figure, cpu_busy_pct: load.busyPct, load1: load.load1 });
    if (load.busyPct > 25)
      log(
        `warning: the machine is ${load.busyPct.toFixed(0)}% busy before ${figure}; other processes will skew the figures`,
      );
  };
  try {
    if (only.has('append')) await idle('append');
    if (only.has('append')) figures.push(await appendFigure(db, cfg, res, withDiag));
    if (only.has('throughput')) await idle('throughput');
    if (only.has('throughput')) figures.push(await throughputFigure(db, cfg, res, brokers, ns, withDiag));
    if (only.has('latency')) await idle('latency');
    if (only.has('latency')) figures.push(...(await latencyFigures(db, cfg, res, brokers, ns, withDiag)));
    if (only.has('embedded')) await idle('embedded');
    if (only.has('embedded')) {
      figures.push(
        ...(await embeddedFigures(
          {
            ...cfg,
            // Smaller than the Kafka figures: PGlite runs on this process's one thread, so it
            // saturates far sooner (1,000/s queues up even for the raw baseline), and the whole
            // backbone run must stay within about 3 minutes.
            appendEvents: intEnv('BENCH_EMBEDDED_APPEND_EVENTS', 5000),
            busEvents: intEnv('BENCH_EMBEDDED_BUS_EVENTS', 5000),
            rate: intEnv('BENCH_EMBEDDED_RATE', 200),
            latencySeconds: intEnv('BENCH_EMBEDDED_LATENCY_SECONDS', 8),
          },
          res,
        )),
      );
    }
  } finally {
    await res.closeTo(0).catch((e) => log(`cleanup: ${String(e)}`));
    await db.drop();
    await deleteTopics(brokers, res.topics).catch((e) => log(`deleting topics: ${String(e)}`));
    log('dropped the bench database and topics');
  }
  for (const f of figures) emit(f);
}

function postgresTarget(db: TestDatabase, poolSize: number): DatabaseTarget {
  if (!db.url) throw new Error('bench needs a PostgreSQL database');
  return { kind: 'postgres', url: db.url, poolSize };
}

async function openSchema(db: TestDatabase, schema: string, poolSize: number, res: Resources): Promise<DataSource> {
  const ds = await openServiceDatabase({
    schema,
    target: postgresTarget(db, poolSize),
    applicationName: `bench-${schema}`,
  });
  res.add(`DataSource ${schema}`, () => (ds.isInitialized ? ds.destroy() : Promise.resolve()));
  return ds;
}

// ---------------------------------------------------------------------------------------------
// eventstore.append

async function appendFigure(db: TestDatabase, cfg: Config, res: Resources, withDiag: boolean): Promise<Figure> {
  const mark = res.size();
  const registry = probeRegistry();
  const topic = 'bench.append.events';
  const ds = await openSchema(db, 'append_es', cfg.poolSize, res);
  // The baseline writes into identical tables (same migration, so same indexes, keys and
  // triggers) in a schema of its own.
  const migrated = await openServiceDatabase({ schema: 'append_raw', target: postgresTarget(db, 1) });
  await migrated.destroy();
  const pool = new Pool({ connectionString: db.url, max: cfg.writers, application_name: 'bench-append-raw' });
  res.add('pg Pool append_raw', () => pool.end());

  const store = new EventStore('append_es', topic, registry);
  const product = async (streamId: string, expectedVersion: number, n: number): Promise<void> => {
    await ds.transaction((m) => store.append(m, streamId, expectedVersion, [ping(n)], benchMeta));
  };
  const eventsSql = `INSERT INTO "append_raw".events (event_id, stream_id, sequence, type, schema_version, occurred_at,
           correlation_id, causation_id, actor, traceparent, payload) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`;
  const outboxSql = `INSERT INTO "append_raw".outbox (event_id, topic, message_key, headers, body) VALUES ($1, $2, $3, $4, $5)`;
  const raw = async (streamId: string, expectedVersion: number, n: number): Promise<void> => {
    const e: EventEnvelope = probeEnvelope(streamId, expectedVersion + 1, n);
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(eventsSql, eventRowValues(e));
      await client.query(outboxSql, outboxRowValues(e, topic));
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  };

  const perWriter = Math.ceil(cfg.appendEvents / cfg.writers);
  const total = perWriter * cfg.writers;
  log(`eventstore.append: warm-up (${cfg.writers} writers x 40 appends each side)`);
  await runWriters(cfg.writers, 40, 8, 'warm', raw);
  await runWriters(cfg.writers, 40, 8, 'warm', product);

  // ABBA rounds, so drift (autovacuum, checkpoints, a neighbour's load) hits both sides alike.
  const times = { product: 0, raw: 0 };
  const cpuMs = { product: 0, raw: 0 };
  for (let round = 0; round < cfg.appendRounds; round++) {
    const order: Array<'raw' | 'product'> = round % 2 === 0 ? ['raw', 'product'] : ['product', 'raw'];
    for (const side of order) {
      const cpu = cpuMeter();
      const ms = await runWriters(
        cfg.writers,
        perWriter,
        cfg.streamsPerWriter,
        `r${round}`,
        side === 'raw' ? raw : product,
      );
      cpuMs[side] += cpu().machineCpuMs;
      times[side] += ms;
      log(
        `eventstore.append round ${round} ${side}: ${total} events in ${ms.toFixed(0)} ms = ${perSecond(total, ms).toFixed(0)}/s`,
      );
    }
  }

  // The same rows landed on both sides.
  const [{ es, eo }] = (await ds.query(
    `SELECT (SELECT count(*) FROM append_es.events)::int AS es, (SELECT count(*) FROM append_es.outbox)::int AS eo`,
  )) as Array<{ es: number; eo: number }>;
  const { rows } = await pool.query<{ rs: number; ro: number }>(
    `SELECT (SELECT count(*) FROM append_raw.events)::int AS rs, (SELECT count(*) FROM append_raw.outbox)::int AS ro`,
  );
  const expected = total * cfg.appendRounds + cfg.writers * 40;
  if (es !== expected || eo !== expected || rows[0].rs !== expected || rows[0].ro !== expected) {
    throw new Error(`append: row counts differ from ${expected}: es=${es} eo=${eo} raw=${rows[0].rs}/${rows[0].ro}`);
  }
  const rounds = cfg.appendRounds;
  diag('eventstore.append', {
    product_rate: perSecond(total * rounds, times.product),
    baseline_rate: perSecond(total * rounds, times.raw),
    product_machine_cpu_ms_per_event: cpuMs.product / (total * rounds),
    baseline_machine_cpu_ms_per_event: cpuMs.raw / (total * rounds),
  });
  if (withDiag) {
    // The baseline plus the product's one extra statement (the expected-version check).
    const withCheck = async (streamId: string, expectedVersion: number, n: number): Promise<void> => {
      const e: EventEnvelope = probeEnvelope(streamId, expectedVersion + 1, n);
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const { rows: v } = await client.query<{ version: number }>(
          `SELECT coalesce(max(sequence), 0)::int AS version FROM "append_raw".events WHERE stream_id = $1`,
          [streamId],
        );
        if (v[0].version !== expectedVersion) throw new Error(`version ${v[0].version} != ${expectedVersion}`);
        await client.query(eventsSql, eventRowValues(e));
        await client.query(outboxSql, outboxRowValues(e, topic));
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    };
    const cpu = cpuMeter();
    const ms = await runWriters(cfg.writers, perWriter, cfg.streamsPerWriter, 'diag', withCheck);
    diag('diag.append.raw_with_version_select', {
      rate: perSecond(total, ms),
      machine_cpu_ms_per_event: cpu().machineCpuMs / total,
    });
  }
  await res.closeTo(mark);
  return {
    name: 'eventstore.append',
    unit: 'events/s',
    value: perSecond(total * rounds, times.product),
    baseline: perSecond(total * rounds, times.raw),
  };
}

// ---------------------------------------------------------------------------------------------
// bus.throughput

interface BusRig {
  producerDs: DataSource;
  consumerDs: DataSource;
  store: EventStore;
  topic: string;
  group: string;
  prodSchema: string;
  consSchema: string;
}

async function busRig(db: TestDatabase, cfg: Config, res: Resources, label: string, ns: string): Promise<BusRig> {
  const prodSchema = `${label}_probe`;
  const consSchema = `${label}_watcher`;
  const topic = eventTopic('probe', `${ns}.${label}`);
  res.topics.push(topic, deadLetterTopic(topic));
  const producerDs = await openSchema(db, prodSchema, cfg.poolSize, res);
  const consumerDs = await openSchema(db, consSchema, cfg.poolSize, res);
  return {
    producerDs,
    consumerDs,
    store: new EventStore(prodSchema, topic, probeRegistry()),
    topic,
    group: `${ns}.${label}.watcher`,
    prodSchema,
    consSchema,
  };
}

interface StartedBus {
  transport: KafkaTransport;
  dispatcher: CountingDispatcher;
  relay: OutboxRelay;
  relayErrors: unknown[];
}

/** Subscribes (and waits for the group join) and prepares the relay, without starting it. */
async function startBus(
  rig: BusRig,
  cfg: Config,
  res: Resources,
  brokers: string[],
  onEvent: (e: EventEnvelope) => void,
  publisherWrap: (p: OutboxPublisher) => OutboxPublisher = (p) => p,
): Promise<StartedBus> {
  const transport = new KafkaTransport({
    brokers,
    clientId: rig.group,
    partitions: cfg.partitions,
    partitionsConsumedConcurrently: cfg.consumerConcurrency,
  });
  res.add(`KafkaTransport ${rig.topic}`, () => transport.close());
  const handler = async (e: EventEnvelope): Promise<void> => onEvent(e);
  const dispatcher = new CountingDispatcher({
    consumer: rig.group,
    dataSource: rig.consumerDs,
    schema: rig.consSchema,
    registry: probeRegistry(),
    handlerFor: (type) => (type === 'probe.Pinged' ? handler : undefined),
  });
  const publisher = await transport.createPublisher([rig.topic]);
  const subscription = await transport.subscribe({
    consumer: rig.group,
    topics: [rig.topic],
    dispatcher,
    dataSource: rig.consumerDs,
    schema: rig.consSchema,
  });
  await subscription.ready;
  const relayErrors: unknown[] = [];
  const relay = new OutboxRelay(rig.producerDs, rig.prodSchema, publisherWrap(publisher), {
    batchSize: cfg.relayBatch,
    idleMs: cfg.relayIdleMs,
    onError: (error) => relayErrors.push(error),
  });
  res.add(`OutboxRelay ${rig.prodSchema}`, () => relay.stop());
  return { transport, dispatcher, relay, relayErrors };
}

function busFailure(bus: StartedBus): () => string {
  return () =>
    `outcomes ${JSON.stringify(bus.dispatcher.outcomes)}` +
    (bus.relayErrors.length > 0
      ? `; ${bus.relayErrors.length} relay errors, first: ${String(bus.relayErrors[0])}`
      : '');
}

interface ThroughputResult {
  events: number;
  productMs: number;
  baselineMs: number;
}

/**
 * One round: fills a fresh outbox with `n` events, then sends the same rows through raw kafkajs
 * (baseline) and through the relay, KafkaTransport and the dispatcher (product), in the given order.
 */
async function throughputRound(
  db: TestDatabase,
  cfg: Config,
  res: Resources,
  brokers: string[],
  ns: string,
  label: string,
  n: number,
  streams: number,
  order: Array<'baseline' | 'product'>,
  quiet: boolean,
): Promise<ThroughputResult> {
  const mark = res.size();
  const rig = await busRig(db, cfg, res, label, ns);
  await preAppend(rig.producerDs, rig.store, rig.prodSchema, n, streams);
  const total = Math.ceil(n / streams) * streams;
  const rows = (await rig.producerDs.query(
    `SELECT message_key, headers, body FROM "${rig.prodSchema}".outbox ORDER BY position`,
  )) as Array<{ message_key: string; headers: Record<string, string>; body: string }>;

  // Baseline: the same bytes, keys and headers, raw kafkajs, same batch size and producer settings.
  const baseline = async (): Promise<number> => {
    const rawTopic = `${ns}.${label}.raw`;
    res.topics.push(rawTopic);
    const raw = new RawKafka(brokers, `${ns}.${label}.raw`);
    res.add(`raw kafka ${rawTopic}`, () => raw.close());
    await raw.createTopic(rawTopic, cfg.partitions);
    const rawSeen = new Counter();
    await raw.consume(`${ns}.${label}.rawgroup`, rawTopic, cfg.consumerConcurrency, async () => rawSeen.hit());
    const producer = await raw.producer();
    const cpu = cpuMeter();
    const b0 = now();
    for (let i = 0; i < rows.length; i += cfg.relayBatch) {
      const messages = rows
        .slice(i, i + cfg.relayBatch)
        .map((r) => ({ key: r.message_key, value: Buffer.from(r.body, 'utf8'), headers: { ...r.headers } }));
      await producer.sendBatch({ acks: -1, topicMessages: [{ topic: rawTopic, messages }] });
    }
    const bProduced = now();
    await rawSeen.waitFor(total, 120_000, 'raw kafkajs consumer');
    const b1 = now();
    const usage = cpu();
    // Nothing of this side keeps running beside the other one.
    await raw.close();
    if (!quiet) {
      diag('bus.throughput.baseline', {
        round: label,
        events: total,
        produce_rate: perSecond(total, bProduced - b0),
        end_to_end_rate: perSecond(total, b1 - b0),
        ms: b1 - b0,
        ...cpuFields(usage, total),
      });
    }
    return b1 - b0;
  };

  // Product: relay -> KafkaTransport -> EventDispatcher (inbox claim transaction) -> handler.
  const product = async (): Promise<number> => {
    const seen = new Counter();
    let relayDone = NaN;
    const bus = await startBus(
      rig,
      cfg,
      res,
      brokers,
      () => seen.hit(),
      (p) => timedPublisher(p, total, (at) => (relayDone = at)),
    );
    const cpu = cpuMeter();
    const p0 = now();
    bus.relay.start();
    await seen.waitFor(total, 150_000, 'bus handler', busFailure(bus));
    const p1 = now();
    const usage = cpu();
    await settled(bus.dispatcher, total);
    // Nothing of this side keeps running beside the other one.
    await bus.relay.stop();
    await bus.transport.close();
    if (!quiet) {
      diag('bus.throughput.product', {
        round: label,
        events: total,
        relay_rate: perSecond(total, relayDone - p0),
        end_to_end_rate: perSecond(total, p1 - p0),
        ms: p1 - p0,
        consumer_tail_ms: p1 - relayDone,
        relay_batch: cfg.relayBatch,
        partitions: cfg.partitions,
        consumer_concurrency: cfg.consumerConcurrency,
        ...cpuFields(usage, total),
      });
    }
    return p1 - p0;
  };

  const ms = { baseline: 0, product: 0 };
  for (const side of order) ms[side] = side === 'baseline' ? await baseline() : await product();
  await res.closeTo(mark);
  return { events: total, productMs: ms.product, baselineMs: ms.baseline };
}

async function throughputFigure(
  db: TestDatabase,
  cfg: Config,
  res: Resources,
  brokers: string[],
  ns: string,
  withDiag: boolean,
): Promise<Figure> {
  log('bus.throughput: warm-up round (1,000 events, discarded)');
  await throughputRound(db, cfg, res, brokers, ns, 'tpwarm', 1000, 20, ['baseline', 'product'], true);
  // ABBA rounds, as for eventstore.append: drift (a checkpoint, the broker's log roll, a neighbour's
  // load) hits both sides alike, and one short round no longer decides the figure.
  const sum = { events: 0, product: 0, baseline: 0 };
  for (let round = 0; round < cfg.busRounds; round++) {
    const order: Array<'baseline' | 'product'> = round % 2 === 0 ? ['baseline', 'product'] : ['product', 'baseline'];
    const r = await throughputRound(
      db,
      cfg,
      res,
      brokers,
      ns,
      `tp${round}`,
      cfg.busEvents,
      cfg.busStreams,
      order,
      false,
    );
    sum.events += r.events;
    sum.product += r.productMs;
    sum.baseline += r.baselineMs;
    log(
      `bus.throughput round ${round} (${order.join(' then ')}): product ${perSecond(r.events, r.productMs).toFixed(0)}/s, ` +
        `baseline ${perSecond(r.events, r.baselineMs).toFixed(0)}/s`,
    );
  }
  const value = perSecond(sum.events, sum.product);
  const baseline = perSecond(sum.events, sum.baseline);
  log(
    `bus.throughput: ${cfg.busRounds} rounds of ${cfg.busEvents} events: product ${value.toFixed(0)}/s, baseline ${baseline.toFixed(0)}/s`,
  );
  if (withDiag) await throughputDiagnostics(db, cfg, res, brokers, ns);
  return { name: 'bus.throughput', unit: 'events/s', value, baseline };
}

// ---------------------------------------------------------------------------------------------
// bus.latency

async function latencyProduct(
  db: TestDatabase,
  cfg: Config,
  res: Resources,
  brokers: string[],
  ns: string,
  label = 'lat',
): Promise<LatencyResult> {
  const mark = res.size();
  const rig = await busRig(db, cfg, res, label, ns);
  const handledAt = new Map<string, number>();
  const seen = new Counter();
  const bus = await startBus(rig, cfg, res, brokers, (e) => {
    handledAt.set(e.eventId, now());
    seen.hit();
  });
  bus.relay.start();

  const warm = cfg.rate * cfg.latencyWarmSeconds;
  const total = warm + cfg.rate * cfg.latencySeconds;
  const streams = 500;
  const versions = new Array<number>(streams).fill(0);
  const chains = new Array<Promise<void>>(streams).fill(Promise.resolve());
  const committedAt = new Map<string, number>();
  const errors: unknown[] = [];
  // Appends to one stream queue behind each other (expected versions stay right); the clock
  // starts at commit, so that queueing is not counted.
  const fire = (i: number): void => {
    const s = i % streams;
    chains[s] = chains[s].then(async () => {
      try {
        const [e] = await rig.producerDs.transaction((m) =>
          rig.store.append(m, `lat-${s}`, versions[s], [ping(i)], benchMeta),
        );
        const t = now();
        versions[s]++;
        if (i >= warm) committedAt.set(e.eventId, t);
      } catch (error) {
        errors.push(error);
      }
    });
  };
  const cpu = cpuMeter();
  const { maxLagMs } = await openLoop(cfg.rate, total, fire);
  const usage = cpu();
  await Promise.all(chains);
  if (errors.length > 0) throw new Error(`latency appends failed (${errors.length}), first: ${String(errors[0])}`);
  await seen.waitFor(total, 60_000, 'bus latency handler', busFailure(bus));
  await settled(bus.dispatcher, total);
  await res.closeTo(mark);
  return { ...latencyStats(committedAt, handledAt, 'bus.latency', maxLagMs), cpu: usage };
}

async function latencyBaseline(
  cfg: Config,
  res: Resources,
  brokers: string[],
  ns: string,
  label = 'lat',
): Promise<LatencyResult> {
  const mark = res.size();
  const topic = `${ns}.${label}.raw`;
  res.topics.push(topic);
  const raw = new RawKafka(brokers, topic);
  res.add(`raw kafka ${topic}`, () => raw.close());
  await raw.createTopic(topic, cfg.partitions);
  const handledAt = new Map<string, number>();
  const seen = new Counter();
  await raw.consume(`${topic}.group`, topic, cfg.consumerConcurrency, async ({ message }) => {
    handledAt.set(String(message.headers?.['event-id']), now());
    seen.hit();
  });
  const producer = await raw.producer();

  // The relay's shape without the database: whatever is waiting goes out as one batch (up to the
  // relay's batch size) as soon as the previous send returns.
  type Msg = ReturnType<typeof probeMessage>;
  const queue: Msg[] = [];
  let wake: (() => void) | null = null;
  let done = false;
  const sender = (async () => {
    while (!done || queue.length > 0) {
      if (queue.length === 0) {
        await new Promise<void>((r) => (wake = r));
        wake = null;
        continue;
      }
      const messages = queue.splice(0, cfg.relayBatch);
      await producer.sendBatch({ acks: -1, topicMessages: [{ topic, messages }] });
    }
  })();

  const warm = cfg.rate * cfg.latencyWarmSeconds;
  const total = warm + cfg.rate * cfg.latencySeconds;
  const streams = 500;
  const versions = new Array<number>(streams).fill(0);
  const sentAt = new Map<string, number>();
  const fire = (i: number): void => {
    const s = i % streams;
    const e = probeEnvelope(`lat-${s}`, ++versions[s], i);
    queue.push(probeMessage(e));
    if (i >= warm) sentAt.set(e.eventId, now());
    wake?.();
  };
  const { maxLagMs } = await openLoop(cfg.rate, total, fire);
  done = true;
  (wake as (() => void) | null)?.();
  await sender;
  await seen.waitFor(total, 60_000, 'raw latency consumer');
  await res.closeTo(mark);
  return latencyStats(sentAt, handledAt, 'raw latency', maxLagMs);
}

async function latencyPair(
  db: TestDatabase,
  cfg: Config,
  res: Resources,
  brokers: string[],
  ns: string,
  label: string,
): Promise<[LatencyResult, LatencyResult]> {
  const span = `${cfg.rate}/s for ${cfg.latencyWarmSeconds}+${cfg.latencySeconds} s (first ${cfg.latencyWarmSeconds} s discarded)`;
  log(`bus.latency: raw kafkajs at ${span}`);
  const base = await latencyBaseline(cfg, res, brokers, ns, label);
  diag('bus.latency.baseline', {
    rate: cfg.rate,
    p50_ms: base.p50,
    p99_ms: base.p99,
    max_ms: base.max,
    max_schedule_lag_ms: base.maxLagMs,
  });
  log(`bus.latency: product path at ${span}`);
  const prod = await latencyProduct(db, cfg, res, brokers, ns, label);
  diag('bus.latency.product', {
    rate: cfg.rate,
    p50_ms: prod.p50,
    p99_ms: prod.p99,
    max_ms: prod.max,
    max_schedule_lag_ms: prod.maxLagMs,
    relay_idle_ms: cfg.relayIdleMs,
    machine_cpu_pct: prod.cpu!.machineBusyPct,
    machine_cpu_ms_per_event: prod.cpu!.machineCpuMs / (cfg.rate * (cfg.latencySeconds + cfg.latencyWarmSeconds)),
    node_cpu_pct: prod.cpu!.nodeCpuPct,
    event_loop_pct: prod.cpu!.eventLoopPct,
  });
  return [prod, base];
}

async function latencyFigures(
  db: TestDatabase,
  cfg: Config,
  res: Resources,
  brokers: string[],
  ns: string,
  withDiag: boolean,
): Promise<Figure[]> {
  const [prod, base] = await latencyPair(db, cfg, res, brokers, ns, 'lat');
  if (withDiag) {
    // Below the product path's capacity on a small machine, to show the overhead when not queueing.
    for (const rate of [200, 500])
      await latencyPair(db, { ...cfg, rate, latencySeconds: 5 }, res, brokers, ns, `lat${rate}`);
  }
  return [
    { name: 'bus.latency.p50', unit: 'ms', value: prod.p50, baseline: base.p50 },
    { name: 'bus.latency.p99', unit: 'ms', value: prod.p99, baseline: base.p99 },
  ];
}

// ---------------------------------------------------------------------------------------------
// --diag: where the bus's time goes

async function throughputDiagnostics(
  db: TestDatabase,
  cfg: Config,
  res: Resources,
  brokers: string[],
  ns: string,
): Promise<void> {
  log('diag: per-message cost of the consumer side without Kafka');
  const mark = res.size();
  const ds = await openSchema(db, 'diag_watcher', 16, res);
  const pool = new Pool({ connectionString: db.url, max: 16, application_name: 'bench-diag' });
  res.add('pg Pool diag', () => pool.end());
  const registry = probeRegistry();
  const dispatcher = new EventDispatcher({
    consumer: 'diag',
    dataSource: ds,
    schema: 'diag_watcher',
    registry,
    handlerFor: () => async () => undefined,
  });
  const sink: DeliverySink = { deadLetter: async () => undefined };
  let offset = 0;
  const messages = (n: number): BusMessage[] =>
    Array.from({ length: n }, (_, i) => {
      const m = probeMessage(probeEnvelope(`d-${i % 200}`, 1 + Math.floor(i / 200), i));
      return { topic: 'diag', partition: 0, offset: String(offset++), key: m.key, headers: m.headers, value: m.value };
    });
  const concurrent = async (
    name: string,
    n: number,
    k: number,
    op: (m: BusMessage) => Promise<unknown>,
    extra: Record<string, number | string> = {},
  ) => {
    const list = messages(n);
    let next = 0;
    const cpu = cpuMeter();
    const t0 = now();
    await Promise.all(
      Array.from({ length: k }, async () => {
        for (let j = next++; j < n; j = next++) await op(list[j]);
      }),
    );
    const ms = now() - t0;
    const u = cpu();
    diag(name, {
      concurrency: k,
      ...extra,
      rate: perSecond(n, ms),
      machine_cpu_pct: u.machineBusyPct,
      node_cpu_pct: u.nodeCpuPct,
    });
  };
  const claim = (consumer: string, syncCommit: boolean) => async (m: BusMessage) => {
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      if (!syncCommit) await c.query('SET LOCAL synchronous_commit = off');
      await c.query(
        `INSERT INTO diag_watcher.inbox (consumer, event_id, topic) VALUES ($1, $2, $3) ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id`,
        [consumer, m.headers['event-id'], m.topic],
      );
      await c.query('COMMIT');
    } finally {
      c.release();
    }
  };
  await concurrent('diag.warm', 600, 3, (m) => dispatcher.dispatch(m, sink));
  await concurrent('diag.warm', 600, 3, claim('warm', true));
  for (const k of [1, cfg.consumerConcurrency, 16]) {
    await concurrent('diag.dispatcher.direct', 3000, k, (m) => dispatcher.dispatch(m, sink));
    await concurrent('diag.pg.claim_tx', 3000, k, claim(`raw${k}`, true));
  }
  await concurrent('diag.pg.claim_tx', 3000, cfg.consumerConcurrency, claim('async', false), {
    synchronous_commit: 'off',
  });
  // One transaction per fetched batch (what an eachBatch dispatcher could do): 100 claims per tx.
  const list = messages(20_000);
  const cpu = cpuMeter();
  const t0 = now();
  for (let i = 0; i < list.length; i += 100) {
    const ids = list.slice(i, i + 100).map((m) => m.headers['event-id']);
    await ds.transaction((m) =>
      m.query(
        `INSERT INTO diag_watcher.inbox (consumer, event_id, topic) SELECT 'batched', e, 'diag' FROM unnest($1::uuid[]) AS e
         ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id`,
        [ids],
      ),
    );
  }
  const u = cpu();
  diag('diag.typeorm.claim_batched', {
    per_tx: 100,
    concurrency: 1,
    rate: perSecond(list.length, now() - t0),
    machine_cpu_pct: u.machineBusyPct,
    node_cpu_pct: u.nodeCpuPct,
  });
  await res.closeTo(mark);

  // The Kafka path with other knobs (10,000 events each, product side only).
  const variants: Array<[string, Partial<Config>]> = [
    ['pcc1', { consumerConcurrency: 1 }],
    ['p12', { partitions: 12, consumerConcurrency: 12 }],
    ['rb100', { relayBatch: 100 }],
    ['rb2000', { relayBatch: 2000 }],
  ];
  for (const [label, knobs] of variants) {
    log(`diag: bus path with ${JSON.stringify(knobs)}`);
    await productVariant(db, { ...cfg, ...knobs }, res, brokers, ns, `dg${label}`);
  }
  log('diag: relay first, then the consumer alone on a full topic');
  await productVariant(db, cfg, res, brokers, ns, 'dgsplit', true);
}

function prefixed(prefix: string, fields: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [prefix + k, v]));
}

/** Product path only, 10,000 events over 100 streams; `split` drains the relay before consuming. */
async function productVariant(
  db: TestDatabase,
  cfg: Config,
  res: Resources,
  brokers: string[],
  ns: string,
  label: string,
  split = false,
): Promise<void> {
  const mark = res.size();
  const rig = await busRig(db, cfg, res, label, ns);
  const n = 10_000;
  await preAppend(rig.producerDs, rig.store, rig.prodSchema, n, 100);
  const seen = new Counter();
  let relayDone = NaN;
  let relayAllDone: () => void = () => undefined;
  const relayFinished = new Promise<void>((r) => (relayAllDone = r));
  const wrap = (p: OutboxPublisher) =>
    timedPublisher(p, n, (at) => {
      relayDone = at;
      relayAllDone();
    });
  const transport = new KafkaTransport({
    brokers,
    clientId: rig.group,
    partitions: cfg.partitions,
    partitionsConsumedConcurrently: cfg.consumerConcurrency,
  });
  res.add(`KafkaTransport ${rig.topic}`, () => transport.close());
  const dispatcher = new CountingDispatcher({
    consumer: rig.group,
    dataSource: rig.consumerDs,
    schema: rig.consSchema,
    registry: probeRegistry(),
    handlerFor: () => async () => seen.hit(),
  });
  const publisher = await transport.createPublisher([rig.topic]);
  const relay = new OutboxRelay(rig.producerDs, rig.prodSchema, wrap(publisher), {
    batchSize: cfg.relayBatch,
    idleMs: cfg.relayIdleMs,
  });
  res.add(`OutboxRelay ${rig.prodSchema}`, () => relay.stop());
  const subscribe = async () => {
    const sub = await transport.subscribe({
      consumer: rig.group,
      topics: [rig.topic],
      dispatcher,
      dataSource: rig.consumerDs,
      schema: rig.consSchema,
    });
    await sub.ready;
  };
  if (!split) await subscribe();
  let cpu = cpuMeter();
  const t0 = now();
  relay.start();
  let c0 = t0;
  let before = 0;
  // Split: each side's CPU and GC on its own (the relay's, then the consumer's).
  let relayUsage: Record<string, number> = {};
  if (split) {
    await relayFinished;
    relayUsage = prefixed('relay_', cpuFields(cpu(), n));
    await relay.stop();
    await subscribe();
    cpu = cpuMeter();
    c0 = now();
    before = seen.count;
  }
  await seen.waitFor(n, 150_000, `diag ${label}`);
  const t1 = now();
  diag(`diag.bus.${split ? 'relay_then_consumer' : 'product'}`, {
    partitions: cfg.partitions,
    consumer_concurrency: cfg.consumerConcurrency,
    relay_batch: cfg.relayBatch,
    relay_rate: perSecond(n, relayDone - t0),
    consumer_rate: perSecond(n - before, t1 - c0),
    end_to_end_rate: split ? NaN : perSecond(n, t1 - t0),
    ...relayUsage,
    ...prefixed(split ? 'consumer_' : '', cpuFields(cpu(), n - before)),
  });
  await res.closeTo(mark);
}
