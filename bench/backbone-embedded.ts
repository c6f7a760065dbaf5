/**
 * `embedded.*` figures of the backbone group: the embedded default (PGlite in process, the
 * EmbeddedTransport whose log is the outbox table). Baselines run the same SQL statements,
 * in the same transactions and loops, straight on the PGlite session (no TypeORM, no
 * dispatcher, no envelope validation), so the ratio is the library's own overhead.
 */
import { DataSource } from 'typeorm';
import { EmbeddedTransport } from '@assent/bus';
import { EventEnvelope, eventTopic } from '@assent/contracts';
import {
  EventStore,
  eventRowValues,
  openServiceDatabase,
  OutboxRelay,
  outboxRowValues,
  PgliteHost,
} from '@assent/eventstore';
import { createPgliteDatabase, probeRegistry } from '@assent/testing';
import {
  CountingDispatcher,
  LatencyResult,
  latencyStats,
  preAppend,
  Resources,
  runWriters,
  settled,
} from './lib/common';
import { benchMeta, ping, probeEnvelope } from './lib/probe';
import { Counter, cpuMeter, diag, Figure, log, now, openLoop, perSecond } from './lib/report';

export interface EmbeddedConfig {
  writers: number;
  appendEvents: number;
  streamsPerWriter: number;
  busEvents: number;
  busStreams: number;
  relayBatch: number;
  relayIdleMs: number;
  rate: number;
  latencySeconds: number;
  latencyWarmSeconds: number;
}

type Db = PgliteHost['db'];

/** One transaction on the shared PGlite session, as the pglite pool gives TypeORM one. */
async function tx<T>(host: PgliteHost, fn: (db: Db) => Promise<T>): Promise<T> {
  const release = await host.acquire(30_000);
  try {
    await host.db.exec('BEGIN');
    const result = await fn(host.db);
    await host.db.exec('COMMIT');
    return result;
  } catch (error) {
    await host.db.exec('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    release();
  }
}

async function one<T>(host: PgliteHost, sql: string, params: unknown[]): Promise<T[]> {
  const release = await host.acquire(30_000);
  try {
    return (await host.db.query<T>(sql, params)).rows;
  } finally {
    release();
  }
}

/** The rows EventStore.append writes for one event, with plain INSERTs. */
async function rawAppend(host: PgliteHost, schema: string, topic: string, e: EventEnvelope): Promise<void> {
  await tx(host, async (db) => {
    await db.query(
      `INSERT INTO "${schema}".events (event_id, stream_id, sequence, type, schema_version, occurred_at,
           correlation_id, causation_id, actor, traceparent, payload) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      eventRowValues(e),
    );
    await db.query(
      `INSERT INTO "${schema}".outbox (event_id, topic, message_key, headers, body) VALUES ($1, $2, $3, $4, $5)`,
      outboxRowValues(e, topic),
    );
  });
}

/**
 * The embedded bus in raw SQL: a relay loop (lock, select a batch, assign log offsets, mark
 * published: OutboxRelay + EmbeddedTransport's statements) and a consumer loop (read after the
 * cursor, then per message one transaction claiming the inbox and moving the cursor).
 */
class RawEmbeddedBus {
  private running = true;
  private wakeConsumer: (() => void) | null = null;
  private wakeRelay: (() => void) | null = null;
  private loops: Promise<void>[] = [];
  errors: unknown[] = [];

  constructor(
    private readonly host: PgliteHost,
    private readonly source: string,
    private readonly own: string,
    private readonly topic: string,
    private readonly batchSize: number,
    private readonly idleMs: number,
    private readonly onMessage: (eventId: string) => void,
  ) {}

  start(): void {
    this.loops = [this.relayLoop(), this.consumerLoop()];
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wakeConsumer?.();
    this.wakeRelay?.();
    await Promise.all(this.loops);
  }

  private wait(ms: number, setWake: (w: (() => void) | null) => void): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      setWake(() => {
        clearTimeout(timer);
        resolve();
      });
    }).then(() => setWake(null));
  }

  private async relayLoop(): Promise<void> {
    const s = `"${this.source}"`;
    while (this.running) {
      let count = 0;
      try {
        count = await tx(this.host, async (db) => {
          const lock = await db.query<{ leader: boolean }>(`SELECT pg_try_advisory_xact_lock(hashtext($1)) AS leader`, [
            `assent.outbox-relay.${this.source}`,
          ]);
          if (!lock.rows[0].leader) return 0;
          const { rows } = await db.query<{ position: string }>(
            `SELECT position, event_id, topic, message_key, headers, body FROM ${s}.outbox
             WHERE published_at IS NULL ORDER BY position LIMIT $1`,
            [this.batchSize],
          );
          if (rows.length === 0) return 0;
          const positions = rows.map((r) => String(r.position));
          await db.query(
            `UPDATE ${s}.outbox o SET log_offset = base.b + ranked.ord
             FROM (SELECT coalesce(max(log_offset), 0) AS b FROM ${s}.outbox) base,
                  unnest($1::bigint[]) WITH ORDINALITY AS ranked(position, ord)
             WHERE o.position = ranked.position`,
            [positions],
          );
          await db.query(`UPDATE ${s}.outbox SET published_at = now() WHERE position = ANY($1::bigint[])`, [positions]);
          return rows.length;
        });
      } catch (error) {
        this.errors.push(error);
      }
      if (count > 0) this.wakeConsumer?.();
      if (!this.running) break;
      if (count >= this.batchSize) continue;
      await this.wait(this.idleMs, (w) => (this.wakeRelay = w));
    }
  }

  private async consumerLoop(): Promise<void> {
    const consumer = 'raw';
    while (this.running) {
      let delivered = 0;
      try {
        const rows = await one<{ log_offset: string; event_id: string }>(
          this.host,
          `SELECT o.log_offset, o.event_id, o.topic, o.message_key, o.headers, o.body
           FROM "${this.source}".outbox o
           WHERE o.topic = $1 AND o.log_offset > coalesce(
             (SELECT c.log_offset FROM "${this.own}".subscription_cursors c WHERE c.consumer = $2 AND c.topic = $1), 0)
           ORDER BY o.log_offset LIMIT $3`,
          [this.topic, consumer, 200],
        );
        for (const row of rows) {
          if (!this.running) break;
          await tx(this.host, async (db) => {
            await db.query(
              `INSERT INTO "${this.own}".inbox (consumer, event_id, topic) VALUES ($1, $2, $3)
               ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id`,
              [consumer, row.event_id, this.topic],
            );
            this.onMessage(row.event_id);
            await db.query(
              `INSERT INTO "${this.own}".subscription_cursors (consumer, topic, log_offset) VALUES ($1, $2, $3)
               ON CONFLICT (consumer, topic) DO UPDATE SET log_offset = excluded.log_offset`,
              [consumer, this.topic, row.log_offset],
            );
          });
        }
        delivered = rows.length;
      } catch (error) {
        this.errors.push(error);
      }
      if (!this.running || delivered > 0) continue;
      await this.wait(25, (w) => (this.wakeConsumer = w));
    }
  }
}

async function openOn(host: PgliteHost, schema: string, res: Resources): Promise<DataSource> {
  const ds = await openServiceDatabase({ schema, target: { kind: 'pglite', host } });
  res.add(`DataSource ${schema} (PGlite)`, () => (ds.isInitialized ? ds.destroy() : Promise.resolve()));
  return ds;
}

interface EmbeddedBus {
  dispatcher: CountingDispatcher;
  relay: OutboxRelay;
  errors: unknown[];
}

async function embeddedBus(
  producerDs: DataSource,
  consumerDs: DataSource,
  prodSchema: string,
  consSchema: string,
  topic: string,
  cfg: EmbeddedConfig,
  res: Resources,
  onEvent: (e: EventEnvelope) => void,
): Promise<EmbeddedBus> {
  const errors: unknown[] = [];
  const transport = new EmbeddedTransport({ batchSize: 200, onError: (e) => errors.push(e) });
  res.add(`EmbeddedTransport ${topic}`, () => transport.close());
  const handler = async (e: EventEnvelope): Promise<void> => onEvent(e);
  const dispatcher = new CountingDispatcher({
    consumer: `${consSchema}.consumer`,
    dataSource: consumerDs,
    schema: consSchema,
    registry: probeRegistry(),
    handlerFor: (type) => (type === 'probe.Pinged' ? handler : undefined),
  });
  const publisher = await transport.createPublisher([topic], prodSchema);
  const sub = await transport.subscribe({
    consumer: `${consSchema}.consumer`,
    topics: [topic],
    dispatcher,
    dataSource: consumerDs,
    schema: consSchema,
  });
  await sub.ready;
  const relay = new OutboxRelay(producerDs, prodSchema, publisher, {
    batchSize: cfg.relayBatch,
    idleMs: cfg.relayIdleMs,
    onError: (e) => errors.push(e),
  });
  res.add(`OutboxRelay ${prodSchema} (PGlite)`, () => relay.stop());
  return { dispatcher, relay, errors };
}

const failure =
  (errors: unknown[], extra = '') =>
  () =>
    `${extra}${errors.length > 0 ? `; ${errors.length} errors, first: ${String(errors[0])}` : ''}`;

export async function embeddedFigures(cfg: EmbeddedConfig, res: Resources): Promise<Figure[]> {
  const mark = res.size();
  log('embedded: opening PGlite (in memory)');
  const db = await createPgliteDatabase();
  res.add('PGlite', () => db.drop());
  const host = db.host!;
  const figures: Figure[] = [];

  // --- embedded.eventstore.append
  {
    const topic = 'bench.append.events';
    const ds = await openOn(host, 'emb_es', res);
    await openOn(host, 'emb_raw', res);
    const store = new EventStore('emb_es', topic, probeRegistry());
    const product = async (streamId: string, version: number, n: number): Promise<void> => {
      await ds.transaction((m) => store.append(m, streamId, version, [ping(n)], benchMeta));
    };
    const raw = (streamId: string, version: number, n: number): Promise<void> =>
      rawAppend(host, 'emb_raw', topic, probeEnvelope(streamId, version + 1, n));
    const perWriter = Math.ceil(cfg.appendEvents / cfg.writers);
    const total = perWriter * cfg.writers;
    log(`embedded.eventstore.append: warm-up, then ${total} events each side (${cfg.writers} writers)`);
    await runWriters(cfg.writers, 40, 8, 'warm', raw);
    await runWriters(cfg.writers, 40, 8, 'warm', product);
    const rawMs = await runWriters(cfg.writers, perWriter, cfg.streamsPerWriter, 'm', raw);
    const productMs = await runWriters(cfg.writers, perWriter, cfg.streamsPerWriter, 'm', product);
    diag('embedded.eventstore.append', {
      product_rate: perSecond(total, productMs),
      baseline_rate: perSecond(total, rawMs),
    });
    figures.push({
      name: 'embedded.eventstore.append',
      unit: 'events/s',
      value: perSecond(total, productMs),
      baseline: perSecond(total, rawMs),
    });
  }

  // --- embedded.bus.throughput
  {
    const n = Math.ceil(cfg.busEvents / cfg.busStreams) * cfg.busStreams;
    const registry = probeRegistry();
    const run = async (label: string, events: number, streams: number, quiet: boolean): Promise<[number, number]> => {
      const topic = eventTopic('probe', `bench.emb.${label}`);
      // Product side.
      const prod = await openOn(host, `emb_${label}_probe`, res);
      const cons = await openOn(host, `emb_${label}_watcher`, res);
      await preAppend(
        prod,
        new EventStore(`emb_${label}_probe`, topic, registry),
        `emb_${label}_probe`,
        events,
        streams,
      );
      // Baseline side: the same rows in its own schemas.
      const rawProd = await openOn(host, `emb_${label}_rawprobe`, res);
      await openOn(host, `emb_${label}_rawwatcher`, res);
      await preAppend(
        rawProd,
        new EventStore(`emb_${label}_rawprobe`, topic, registry),
        `emb_${label}_rawprobe`,
        events,
        streams,
      );

      const rawSeen = new Counter();
      const rawBus = new RawEmbeddedBus(
        host,
        `emb_${label}_rawprobe`,
        `emb_${label}_rawwatcher`,
        topic,
        cfg.relayBatch,
        cfg.relayIdleMs,
        () => rawSeen.hit(),
      );
      res.add('raw embedded bus', () => rawBus.stop());
      const b0 = now();
      rawBus.start();
      await rawSeen.waitFor(events, 120_000, 'raw embedded consumer', failure(rawBus.errors));
      const baseline = perSecond(events, now() - b0);
      await rawBus.stop();

      const seen = new Counter();
      const bus = await embeddedBus(prod, cons, `emb_${label}_probe`, `emb_${label}_watcher`, topic, cfg, res, () =>
        seen.hit(),
      );
      const cpu = cpuMeter();
      const p0 = now();
      bus.relay.start();
      await seen.waitFor(
        events,
        150_000,
        'embedded bus handler',
        failure(bus.errors, JSON.stringify(bus.dispatcher.outcomes)),
      );
      const product = perSecond(events, now() - p0);
      const u = cpu();
      await settled(bus.dispatcher, events);
      await bus.relay.stop();
      if (!quiet)
        diag('embedded.bus.throughput', {
          events,
          product_rate: product,
          baseline_rate: baseline,
          node_cpu_pct: u.nodeCpuPct,
        });
      return [product, baseline];
    };
    log('embedded.bus.throughput: warm-up round (1,000 events, discarded)');
    await run('tpw', 1000, 20, true);
    log(`embedded.bus.throughput: ${n} events over ${cfg.busStreams} streams`);
    const [product, baseline] = await run('tp', n, cfg.busStreams, false);
    figures.push({ name: 'embedded.bus.throughput', unit: 'events/s', value: product, baseline });
  }

  // --- embedded.bus.latency
  {
    const warm = cfg.rate * cfg.latencyWarmSeconds;
    const total = warm + cfg.rate * cfg.latencySeconds;
    const streams = 500;
    const span = `${cfg.rate}/s for ${cfg.latencyWarmSeconds}+${cfg.latencySeconds} s (first ${cfg.latencyWarmSeconds} s discarded)`;
    const topic = eventTopic('probe', 'bench.emb.lat');

    log(`embedded.bus.latency: raw SQL pipeline at ${span}`);
    await openOn(host, 'emb_lat_rawprobe', res);
    await openOn(host, 'emb_lat_rawwatcher', res);
    const rawHandled = new Map<string, number>();
    const rawSeen = new Counter();
    const rawBus = new RawEmbeddedBus(
      host,
      'emb_lat_rawprobe',
      'emb_lat_rawwatcher',
      topic,
      cfg.relayBatch,
      cfg.relayIdleMs,
      (id) => {
        rawHandled.set(id, now());
        rawSeen.hit();
      },
    );
    res.add('raw embedded bus (latency)', () => rawBus.stop());
    rawBus.start();
    const base = await openLoopAppends(total, warm, streams, cfg.rate, async (stream, version, i) => {
      const e = probeEnvelope(stream, version + 1, i);
      await rawAppend(host, 'emb_lat_rawprobe', topic, e);
      return e.eventId;
    });
    await rawSeen.waitFor(total, 120_000, 'raw embedded latency consumer', failure(rawBus.errors));
    await rawBus.stop();
    const baseStats = latencyStats(base.committedAt, rawHandled, 'embedded raw latency', base.maxLagMs);

    log(`embedded.bus.latency: product path at ${span}`);
    const prod = await openOn(host, 'emb_lat_probe', res);
    const cons = await openOn(host, 'emb_lat_watcher', res);
    const store = new EventStore('emb_lat_probe', topic, probeRegistry());
    const handled = new Map<string, number>();
    const seen = new Counter();
    const bus = await embeddedBus(prod, cons, 'emb_lat_probe', 'emb_lat_watcher', topic, cfg, res, (e) => {
      handled.set(e.eventId, now());
      seen.hit();
    });
    bus.relay.start();
    const cpu = cpuMeter();
    const prodRun = await openLoopAppends(total, warm, streams, cfg.rate, async (stream, version, i) => {
      const [e] = await prod.transaction((m) => store.append(m, stream, version, [ping(i)], benchMeta));
      return e.eventId;
    });
    const u = cpu();
    await seen.waitFor(
      total,
      120_000,
      'embedded latency handler',
      failure(bus.errors, JSON.stringify(bus.dispatcher.outcomes)),
    );
    await settled(bus.dispatcher, total);
    await bus.relay.stop();
    const prodStats: LatencyResult = latencyStats(prodRun.committedAt, handled, 'embedded latency', prodRun.maxLagMs);
    diag('embedded.bus.latency.baseline', {
      rate: cfg.rate,
      p50_ms: baseStats.p50,
      p99_ms: baseStats.p99,
      max_ms: baseStats.max,
      max_schedule_lag_ms: baseStats.maxLagMs,
    });
    diag('embedded.bus.latency.product', {
      rate: cfg.rate,
      p50_ms: prodStats.p50,
      p99_ms: prodStats.p99,
      max_ms: prodStats.max,
      max_schedule_lag_ms: prodStats.maxLagMs,
      node_cpu_pct: u.nodeCpuPct,
      event_loop_pct: u.eventLoopPct,
    });
    figures.push(
      { name: 'embedded.bus.latency.p50', unit: 'ms', value: prodStats.p50, baseline: baseStats.p50 },
      { name: 'embedded.bus.latency.p99', unit: 'ms', value: prodStats.p99, baseline: baseStats.p99 },
    );
  }

  await res.closeTo(mark);
  return figures;
}

/**
 * Appends on a fixed timetable (open loop); appends to one stream queue behind each other so
 * expected versions hold. Returns the commit time of every event after the warm-up.
 */
async function openLoopAppends(
  total: number,
  warm: number,
  streams: number,
  rate: number,
  append: (stream: string, version: number, i: number) => Promise<string>,
): Promise<{ committedAt: Map<string, number>; maxLagMs: number }> {
  const versions = new Array<number>(streams).fill(0);
  const chains = new Array<Promise<void>>(streams).fill(Promise.resolve());
  const committedAt = new Map<string, number>();
  const errors: unknown[] = [];
  const { maxLagMs } = await openLoop(rate, total, (i) => {
    const s = i % streams;
    chains[s] = chains[s].then(async () => {
      try {
        const id = await append(`lat-${s}`, versions[s], i);
        const t = now();
        versions[s]++;
        if (i >= warm) committedAt.set(id, t);
      } catch (error) {
        errors.push(error);
      }
    });
  });
  await Promise.all(chains);
  if (errors.length > 0) throw new Error(`latency appends failed (${errors.length}), first: ${String(errors[0])}`);
  return { committedAt, maxLagMs };
}
