import { DataSource } from 'typeorm';
import { BusMessage, DeliverySink, DispatchOutcome, EventDispatcher } from '@assent/bus';
import { EventStore, OutboxMessage, OutboxPublisher } from '@assent/eventstore';
import { benchMeta, ping } from './probe';
import { cpuMeter, now, percentile, sleep } from './report';

export function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name}=${raw}: expected a positive integer`);
  return n;
}

/** Everything a run opened, closed in reverse order whatever happens. */
export class Resources {
  private readonly closers: Array<[string, () => Promise<unknown>]> = [];
  readonly topics: string[] = [];

  add(what: string, close: () => Promise<unknown>): void {
    this.closers.push([what, close]);
  }

  /** Closes what was added after `mark` (a value of `size()`), newest first. */
  async closeTo(mark: number): Promise<void> {
    const errors: unknown[] = [];
    while (this.closers.length > mark) {
      const [what, close] = this.closers.pop()!;
      try {
        await close();
      } catch (error) {
        errors.push(new Error(`closing ${what}: ${String(error)}`));
      }
    }
    if (errors.length > 0) throw errors[0];
  }

  size(): number {
    return this.closers.length;
  }
}

/** Runs `count` concurrent writers, each on its own streams, `perWriter` appends each; returns ms. */
export async function runWriters(
  count: number,
  perWriter: number,
  streamsPerWriter: number,
  prefix: string,
  append: (streamId: string, expectedVersion: number, n: number) => Promise<void>,
): Promise<number> {
  const t0 = now();
  await Promise.all(
    Array.from({ length: count }, async (_, w) => {
      for (let j = 0; j < perWriter; j++) {
        await append(`${prefix}-w${w}-s${j % streamsPerWriter}`, Math.floor(j / streamsPerWriter), w * perWriter + j);
      }
    }),
  );
  return now() - t0;
}

/** A dispatcher that also counts outcomes (dead letters and duplicates would spoil a figure). */
export class CountingDispatcher extends EventDispatcher {
  readonly outcomes: Record<DispatchOutcome, number> = { handled: 0, duplicate: 0, ignored: 0, 'dead-lettered': 0 };
  override async dispatchBatch(messages: BusMessage[], sink: DeliverySink): Promise<DispatchOutcome[]> {
    const outcomes = await super.dispatchBatch(messages, sink);
    for (const outcome of outcomes) this.outcomes[outcome]++;
    return outcomes;
  }
}

/** Wraps a publisher to note when the relay has published (sent and marked) `n` messages. */
export function timedPublisher(inner: OutboxPublisher, n: number, done: (at: number) => void): OutboxPublisher {
  let published = 0;
  return {
    publish: (messages: OutboxMessage[], manager, schema) => inner.publish(messages, manager, schema),
    // Counted as the relay reports batches published (sent and marked), wherever it runs.
    published: (count) => {
      inner.published?.(count);
      published += count;
      if (published >= n && published - count < n) done(now());
    },
    external: inner.external,
    thread: inner.thread,
  };
}

/** The handler runs before its transaction commits; waits for the dispatcher to finish all `n`. */
export async function settled(dispatcher: CountingDispatcher, n: number): Promise<void> {
  const deadline = now() + 10_000;
  while (dispatcher.outcomes.handled < n && now() < deadline) await sleep(5);
  const o = dispatcher.outcomes;
  if (o.handled !== n || o.duplicate + o.ignored + o['dead-lettered'] > 0)
    throw new Error(`bus: expected ${n} handled, got ${JSON.stringify(o)}`);
}

/** Appends n events over `streams` streams, 10 per transaction, by 8 writers owning 1/8 of the streams each. */
export async function preAppend(
  ds: DataSource,
  store: EventStore,
  schema: string,
  n: number,
  streams: number,
): Promise<void> {
  const perStream = Math.ceil(n / streams);
  const chunk = 10;
  const writers = Math.min(8, streams);
  const worker = async (w: number): Promise<void> => {
    // Round-major, so the outbox interleaves the streams as live traffic would.
    for (let from = 0; from < perStream; from += chunk) {
      const size = Math.min(chunk, perStream - from);
      for (let stream = w; stream < streams; stream += writers) {
        await ds.transaction((m) =>
          store.append(
            m,
            `tp-${stream}`,
            from,
            Array.from({ length: size }, (_, i) => ping(from + i + 1)),
            benchMeta,
          ),
        );
      }
    }
  };
  await Promise.all(Array.from({ length: writers }, (_, w) => worker(w)));
  const [{ c }] = (await ds.query(`SELECT count(*)::int AS c FROM "${schema}".outbox`)) as Array<{ c: number }>;
  if (c !== perStream * streams) throw new Error(`preAppend: ${c} outbox rows, expected ${perStream * streams}`);
}

export interface LatencyResult {
  p50: number;
  p99: number;
  max: number;
  maxLagMs: number;
  cpu?: ReturnType<ReturnType<typeof cpuMeter>>;
}

export function latencyStats(
  sent: Map<string, number>,
  handled: Map<string, number>,
  what: string,
  maxLagMs: number,
): LatencyResult {
  const ms: number[] = [];
  for (const [id, t] of sent) {
    const h = handled.get(id);
    if (h === undefined) throw new Error(`${what}: event ${id} never handled`);
    ms.push(h - t);
  }
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p99: percentile(ms, 99), max: ms[ms.length - 1], maxLagMs };
}
