import { Consumer, Kafka, logLevel } from 'kafkajs';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { eventTopic } from '@assent/contracts';
import {
  EventStore,
  openServiceDatabase,
  OutboxPublisher,
  OutboxRelay,
  OutboxRelayOptions,
  relayThread,
} from '@assent/eventstore';
import { testing } from '@assent/telemetry';
import {
  createPostgresDatabase,
  eventually,
  kafkaBrokers,
  probeRegistry,
  TestDatabase,
  uniqueName,
} from '@assent/testing';
import { KafkaTransport } from './kafka-transport';

// The Kafka relay on a PostgreSQL server runs on the process's relay thread (relay-thread.ts):
// these tests drive it through OutboxRelay, with the real broker and the real database.

const meta = { correlationId: 'relay-thread-int', causationId: null, actor: { kind: 'system' as const, id: 'test' } };
const ping = (n: number) => ({ type: 'probe.Pinged', payload: { n, note: '' } });

interface Seen {
  eventId: string;
  streamId: string;
  sequence: number;
  traceparent: string | undefined;
}

/** A service schema with an event store, a Kafka topic for it, and a raw consumer of that topic. */
interface Rig {
  db: TestDatabase;
  dataSource: DataSource;
  store: EventStore;
  transport: KafkaTransport;
  consumer: Consumer;
  seen: Seen[];
}

async function rig(): Promise<Rig> {
  const namespace = uniqueName('rt');
  const db = await createPostgresDatabase();
  const dataSource = await openServiceDatabase({ schema: 'probe', target: db.target });
  const topic = eventTopic('probe', namespace);
  const transport = new KafkaTransport({ brokers: kafkaBrokers(), clientId: namespace, partitions: 3 });
  await transport.ensureTopics([topic]);
  const consumer = new Kafka({
    clientId: `${namespace}.raw`,
    brokers: kafkaBrokers(),
    logLevel: logLevel.NOTHING,
  }).consumer({ groupId: `${namespace}.raw`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen: Seen[] = [];
  await consumer.run({
    eachMessage: async ({ message }) => {
      const e = JSON.parse(message.value!.toString('utf8')) as Seen;
      const traceparent = message.headers?.traceparent?.toString();
      seen.push({ eventId: e.eventId, streamId: e.streamId, sequence: e.sequence, traceparent });
    },
  });
  return { db, dataSource, store: new EventStore('probe', topic, probeRegistry()), transport, consumer, seen };
}

async function teardown(r: Rig): Promise<void> {
  await r.consumer.disconnect();
  await r.transport.close();
  if (r.dataSource.isInitialized) await r.dataSource.destroy();
  await r.db.drop();
}

/** Counts what the relay reports, and what reaches the main thread's own publish (nothing should). */
function counting(inner: OutboxPublisher): OutboxPublisher & { calls: number; reported: number } {
  const counter = {
    calls: 0,
    reported: 0,
    external: inner.external,
    thread: inner.thread,
    publish: async (...args: Parameters<OutboxPublisher['publish']>) => {
      counter.calls++;
      await inner.publish(...args);
    },
    published: (count: number) => {
      counter.reported += count;
    },
  };
  return counter;
}

/** The schema's relay with the transport's own publisher, and the errors it reports. */
async function kafkaRelay(r: Rig): Promise<{ relay: OutboxRelay; errors: string[] }> {
  const errors: string[] = [];
  const relay = new OutboxRelay(r.dataSource, 'probe', await r.transport.createPublisher([r.store.topic]), {
    ...options,
    onError: (error) => errors.push(String(error)),
  });
  return { relay, errors };
}

/** Appends `events` events over `streams` streams, one event per transaction; returns their ids. */
async function append(r: Rig, prefix: string, streams: number, events: number, from = 0): Promise<string[]> {
  const ids: string[] = [];
  for (let i = from; i < from + events; i++) {
    const stream = `${prefix}-${i % streams}`;
    const version = Math.floor(i / streams);
    const [e] = await r.dataSource.transaction((m) => r.store.append(m, stream, version, [ping(i)], meta));
    ids.push(e.eventId);
  }
  return ids;
}

/** Every appended event arrived, and each stream's first deliveries are in sequence order. */
function expectDeliveredInOrder(seen: Seen[], ids: string[]): void {
  const first = new Map<string, Seen>();
  for (const s of seen) if (!first.has(s.eventId)) first.set(s.eventId, s);
  expect([...first.keys()].sort()).toEqual([...ids].sort());
  const byStream = new Map<string, number[]>();
  for (const s of first.values()) byStream.set(s.streamId, [...(byStream.get(s.streamId) ?? []), s.sequence]);
  for (const sequences of byStream.values()) expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
}

const options: OutboxRelayOptions = { idleMs: 20, batchSize: 50 };

describe('the Kafka outbox relay on the relay thread (Kafka + PostgreSQL)', () => {
  it('publishes from the relay thread, in order per stream, and reports what it published', async () => {
    const r = await rig();
    const publisher = counting(await r.transport.createPublisher([r.store.topic]));
    const relay = new OutboxRelay(r.dataSource, 'probe', publisher, options);
    try {
      relay.start();
      const ids = await append(r, 'order', 7, 140);
      await eventually(() => expect(new Set(r.seen.map((s) => s.eventId)).size).toBe(140));
      expectDeliveredInOrder(r.seen, ids);
      expect(r.seen).toHaveLength(140);
      expect(relayThread.threadId).toEqual(expect.any(Number));
      // The main thread's publish never ran: the thread sent everything, and said so.
      expect(publisher.calls).toBe(0);
      await eventually(() => expect(publisher.reported).toBe(140));
      const [{ left }] = await r.dataSource.query(`SELECT count(*)::int AS left FROM probe.outbox`);
      expect(left).toBe(0);
    } finally {
      await relay.stop();
      await teardown(r);
    }
  });

  it('runs one leader per schema; when it stops, the other relay takes over', async () => {
    const r = await rig();
    const second = await openServiceDatabase({ schema: 'probe', target: r.db.target });
    const a = counting(await r.transport.createPublisher([r.store.topic]));
    const b = counting(await r.transport.createPublisher([r.store.topic]));
    const relayA = new OutboxRelay(r.dataSource, 'probe', a, options);
    const relayB = new OutboxRelay(second, 'probe', b, options);
    try {
      relayA.start();
      relayB.start();
      const ids = await append(r, 'lead', 5, 60);
      await eventually(() => expect(a.reported + b.reported).toBe(60));
      // Exactly one of them published all of it.
      expect([a.reported, b.reported].sort((x, y) => x - y)).toEqual([0, 60]);
      const [leader, follower] = a.reported > 0 ? [relayA, b] : [relayB, a];
      await leader.stop();
      ids.push(...(await append(r, 'lead', 5, 40, 60)));
      await eventually(() => expect(follower.reported).toBe(40), 10_000);
      await eventually(() => expect(new Set(r.seen.map((s) => s.eventId)).size).toBe(100));
      expectDeliveredInOrder(r.seen, ids);
    } finally {
      await relayA.stop();
      await relayB.stop();
      await second.destroy();
      await teardown(r);
    }
  });

  it('starts its relays again on a new thread when the thread dies, and loses nothing', async () => {
    const r = await rig();
    const { relay, errors } = await kafkaRelay(r);
    try {
      relay.start();
      const ids = await append(r, 'crash', 4, 40);
      const before = relayThread.threadId;
      await relayThread.crash();
      ids.push(...(await append(r, 'crash', 4, 40, 40)));
      await eventually(() => expect(new Set(r.seen.map((s) => s.eventId)).size).toBe(80));
      expectDeliveredInOrder(r.seen, ids);
      expect(errors).toContainEqual(expect.stringMatching(/relay thread exited/));
      expect(relayThread.threadId).toEqual(expect.any(Number));
      expect(relayThread.threadId).not.toBe(before);
    } finally {
      await relay.stop();
      await teardown(r);
    }
  });

  it('does not start a stopping relay again when the thread dies under it', async () => {
    const r = await rig();
    const { relay } = await kafkaRelay(r);
    const relayConnections = async () => {
      const [{ n }] = await r.dataSource.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE '%-relay'`,
      );
      return n as number;
    };
    try {
      relay.start();
      await eventually(async () => expect(await relayConnections()).toBe(1));
      await Promise.all([relay.stop(), relayThread.crash()]);
      // Past the respawn pause: nothing came back.
      await new Promise((done) => setTimeout(done, 1500));
      expect(await relayConnections()).toBe(0);
      expect(relayThread.threadId).toBeUndefined();
    } finally {
      await relay.stop();
      await teardown(r);
    }
  });

  it('reconnects when its database connection is killed, and loses nothing', async () => {
    const r = await rig();
    const { relay, errors } = await kafkaRelay(r);
    const admin = new Client({ connectionString: r.db.url });
    await admin.connect();
    try {
      relay.start();
      const ids = await append(r, 'kill', 3, 30);
      await eventually(() => expect(new Set(r.seen.map((s) => s.eventId)).size).toBe(30));
      const { rows } = await admin.query<{ killed: boolean }>(
        `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
         WHERE datname = current_database() AND application_name LIKE '%-relay'`,
      );
      expect(rows).toEqual([{ killed: true }]);
      ids.push(...(await append(r, 'kill', 3, 30, 30)));
      await eventually(() => expect(new Set(r.seen.map((s) => s.eventId)).size).toBe(60));
      expectDeliveredInOrder(r.seen, ids);
      expect(errors.length).toBeGreaterThan(0);
    } finally {
      await admin.end();
      await relay.stop();
      await teardown(r);
    }
  });

  it('exports its PRODUCER spans from the thread, in the trace of the append, when the process traces', async () => {
    // A real process with the telemetry preload, as a service runs; built code, as the thread loads.
    const root = resolve(__dirname, '../../../..');
    const r = await rig();
    const receiver = await testing.startOtlpReceiver();
    try {
      const script = `
        const { openServiceDatabase, EventStore, OutboxRelay } = require('${root}/libs/eventstore/dist/index.js');
        const { KafkaTransport } = require('${root}/libs/bus/dist/kafka/kafka-transport.js');
        const { probeRegistry } = require('${root}/libs/testing/dist/probe-events.js');
        const { shutdownTelemetry } = require('${root}/libs/telemetry/dist/index.js');
        const api = require('@opentelemetry/api');
        (async () => {
          const ds = await openServiceDatabase({ schema: 'probe', target: { kind: 'postgres', url: process.env.DB_URL, poolSize: 2 } });
          const transport = new KafkaTransport({ brokers: process.env.BROKERS.split(','), clientId: 'traced-relay' });
          const store = new EventStore('probe', process.env.TOPIC, probeRegistry());
          const relay = new OutboxRelay(ds, 'probe', await transport.createPublisher([process.env.TOPIC]), { idleMs: 20 });
          relay.start();
          await api.trace.getTracer('app').startActiveSpan('append', async (span) => {
            await ds.transaction((m) => store.append(m, 'traced-1', 0, [{ type: 'probe.Pinged', payload: { n: 1, note: '' } }],
              { correlationId: 'c', causationId: null, actor: { kind: 'system', id: 'test' } }));
            span.end();
          });
          while ((await ds.query('SELECT count(*)::int AS n FROM probe.outbox'))[0].n > 0) await new Promise((r) => setTimeout(r, 20));
          await relay.stop();
          await transport.close();
          await ds.destroy();
          await shutdownTelemetry();
        })().catch((e) => { console.error(e); process.exit(1); });`;
      const env = Object.fromEntries(
        Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_') && k !== 'NODE_OPTIONS'),
      );
      const child = spawn(process.execPath, ['-r', `${root}/libs/telemetry/dist/register.js`, '-e', script], {
        cwd: root,
        env: {
          ...env,
          OTEL_SERVICE_NAME: 'svc-relay',
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          DB_URL: r.db.url!,
          BROKERS: kafkaBrokers().join(','),
          TOPIC: r.store.topic,
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((done) => child.on('exit', done));
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      const publish = `${r.store.topic} publish`;
      const spans = await receiver.waitForSpans((all) => all.some((s) => s.name === publish));
      const append = spans.find((s) => s.name === 'append');
      const producer = spans.find((s) => s.name === publish);
      expect(producer).toMatchObject({
        serviceName: 'svc-relay',
        kind: 4,
        traceId: append?.traceId,
        parentSpanId: append?.spanId,
        attributes: expect.objectContaining({
          'messaging.system': 'kafka',
          'messaging.destination.name': r.store.topic,
        }),
      });
      // The consumer continues from the thread's PRODUCER span.
      await eventually(() => expect(r.seen.map((s) => s.streamId)).toEqual(['traced-1']));
      expect(r.seen[0].traceparent).toBe(`00-${append?.traceId}-${producer?.spanId}-01`);
    } finally {
      await receiver.close();
      await teardown(r);
    }
  });
});
