import { Controller, INestApplication, Module } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { context, trace } from '@opentelemetry/api';
import { Kafka, logLevel } from 'kafkajs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { deadLetterTopic, EventEnvelope, eventTopic, newEventId } from '@assent/contracts';
import { EventStore, openServiceDatabase, OutboxRelay, OutboxRelayOptions, SchemaMigration } from '@assent/eventstore';
import { testing } from '@assent/telemetry';
import {
  createPgliteDatabase,
  createPostgresDatabase,
  eventually,
  kafkaBrokers,
  probeRegistry,
  TestDatabase,
  uniqueName,
} from '@assent/testing';
import { HandlerContext } from './dispatcher';
import { EmbeddedTransport } from './embedded/embedded-transport';
import { KafkaTransport } from './kafka/kafka-transport';
import { DLQ_HEADERS } from './message';
import { connectEventBus, EventBusModule } from './nest/event-bus.module';
import { EventBusServer } from './nest/event-bus.server';
import { HandlesEvent } from './nest/handles-event.decorator';
import { BusTransport } from './transport';

const telemetry = testing.startInMemoryTelemetry('backbone-int');

/** The consuming service of these tests: it records every ping it handles in its own schema. */
const watcherTables: SchemaMigration = {
  name: 'WatcherPings',
  timestamp: 1764000000101,
  up: (s) => [
    `CREATE TABLE "${s}".pings (seq bigserial PRIMARY KEY, event_id uuid NOT NULL UNIQUE, stream_id text NOT NULL, n int NOT NULL)`,
  ],
};

const handlerCalls = new Map<string, number>();

@Controller()
class PingWatcher {
  @HandlesEvent('probe.Pinged')
  async onPing(
    @Payload() event: EventEnvelope<{ n: number; note: string }>,
    @Ctx() ctx: HandlerContext,
  ): Promise<void> {
    handlerCalls.set(event.eventId, (handlerCalls.get(event.eventId) ?? 0) + 1);
    if (event.payload.note === 'poison') throw new Error('poison pill: this ping can never be handled');
    await ctx.manager.query(`INSERT INTO watcher.pings (event_id, stream_id, n) VALUES ($1, $2, $3)`, [
      event.eventId,
      event.streamId,
      event.payload.n,
    ]);
  }
}

const meta = { correlationId: 'conv-int', causationId: null, actor: { kind: 'system' as const, id: 'test' } };
const ping = (n: number, note = '') => ({ type: 'probe.Pinged', payload: { n, note } });

interface Rig {
  db: TestDatabase;
  transport: BusTransport;
  namespace: string;
  producer: INestApplication;
  consumer: INestApplication;
  store: EventStore;
  producerDb: DataSource;
  consumerDb: DataSource;
}

async function startApps(
  db: TestDatabase,
  transport: BusTransport,
  namespace: string,
  relay: OutboxRelayOptions = { idleMs: 5 },
) {
  const common = { namespace, database: db.target, transport, registry: probeRegistry(), relay };
  const producerModule = await Test.createTestingModule({
    imports: [EventBusModule.forService({ ...common, service: 'probe' })],
  }).compile();
  const producer = producerModule.createNestApplication({ logger: ['error'] });
  await producer.init();

  @Module({
    imports: [
      EventBusModule.forService({
        ...common,
        service: 'watcher',
        migrations: [watcherTables],
        retry: { maxAttempts: 3, initialDelayMs: 20, maxDelayMs: 50 },
      }),
    ],
    controllers: [PingWatcher],
  })
  class WatcherModule {}
  const consumerModule = await Test.createTestingModule({ imports: [WatcherModule] }).compile();
  const consumer = consumerModule.createNestApplication({ logger: ['error'] });
  const server: EventBusServer = connectEventBus(consumer);
  await consumer.startAllMicroservices();
  await consumer.init();
  await server.ready();
  return { producer, consumer };
}

async function pingsOf(rig: Rig, stream: string): Promise<number[]> {
  const rows = (await rig.consumerDb.query(`SELECT n FROM watcher.pings WHERE stream_id = $1 ORDER BY seq`, [
    stream,
  ])) as Array<{ n: number }>;
  return rows.map((r) => r.n);
}

const rigs: Array<[string, () => Promise<Omit<Rig, 'producer' | 'consumer' | 'store' | 'producerDb' | 'consumerDb'>>]> =
  [
    [
      'Kafka + PostgreSQL',
      async () => {
        const namespace = uniqueName('it');
        return {
          db: await createPostgresDatabase(),
          namespace,
          transport: new KafkaTransport({ brokers: kafkaBrokers(), clientId: namespace, partitions: 3 }),
        };
      },
    ],
    [
      'embedded + PGlite',
      async () => ({
        db: await createPgliteDatabase(),
        namespace: uniqueName('it'),
        transport: new EmbeddedTransport({ idleMs: 5 }),
      }),
    ],
  ];

describe.each(rigs)('backbone over %s', (kind, makeRig) => {
  const rig = {} as Rig;

  beforeAll(async () => {
    Object.assign(rig, await makeRig());
    const apps = await startApps(rig.db, rig.transport, rig.namespace);
    rig.producer = apps.producer;
    rig.consumer = apps.consumer;
    rig.store = rig.producer.get(EventStore);
    rig.producerDb = rig.producer.get(DataSource);
    rig.consumerDb = rig.consumer.get(DataSource);
  });

  afterAll(async () => {
    await rig.consumer?.close();
    await rig.producer?.close();
    await rig.transport?.close();
    await rig.db?.drop();
  });

  it('delivers events appended by one Nest app to another, in order per stream', async () => {
    const streams = ['order-a', 'order-b', 'order-c'];
    for (let n = 1; n <= 5; n++) {
      for (const s of streams) await rig.producerDb.transaction((m) => rig.store.append(m, s, n - 1, [ping(n)], meta));
    }
    for (const s of streams) await eventually(async () => expect(await pingsOf(rig, s)).toEqual([1, 2, 3, 4, 5]));
  });

  it('carries one trace from the producing app into the consuming app', async () => {
    const tracer = trace.getTracer('test');
    const root = tracer.startSpan('shopper says: I want a french press');
    const traceId = root.spanContext().traceId;
    const [event] = await context.with(trace.setSpan(context.active(), root), () =>
      rig.producerDb.transaction((m) => rig.store.append(m, 'order-traced', 0, [ping(1)], meta)),
    );
    root.end();
    expect(event.traceparent).toContain(traceId);
    await eventually(async () => expect(await pingsOf(rig, 'order-traced')).toEqual([1]));
    const consumerSpan = await eventually(() => {
      const span = telemetry
        .spans()
        .find(
          (s: testing.ReadableSpan) =>
            s.name === 'probe.Pinged process' && s.attributes['messaging.message.id'] === event.eventId,
        );
      if (!span) throw new Error('no consumer span yet');
      return span;
    });
    expect(consumerSpan.spanContext().traceId).toBe(traceId);
    expect(consumerSpan.attributes['messaging.consumer.group.name']).toBe(`${rig.namespace}.watcher`);
  });

  it('dead-letters a malformed and a poison message with the reason, and keeps handling the stream', async () => {
    const topic = eventTopic('probe', rig.namespace);
    const garbage = Buffer.from('{"this is": not an event');
    if (kind.startsWith('Kafka')) {
      const kafka = new Kafka({ clientId: 'raw', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
      const raw = kafka.producer();
      await raw.connect();
      await raw.send({ topic, messages: [{ key: 'order-dlq', value: garbage }] });
      await raw.disconnect();
    } else {
      await rig.producerDb.query(
        `INSERT INTO probe.outbox (event_id, topic, message_key, headers, body) VALUES ($1, $2, 'order-dlq', '{}', $3)`,
        [newEventId(), topic, garbage.toString('utf8')],
      );
    }
    const [poison] = await rig.producerDb.transaction((m) =>
      rig.store.append(m, 'order-dlq', 0, [ping(1, 'poison')], meta),
    );
    await rig.producerDb.transaction((m) => rig.store.append(m, 'order-dlq', 1, [ping(2), ping(3)], meta));

    // Later messages on the same partition (same key) are handled although the earlier ones failed.
    await eventually(async () => expect(await pingsOf(rig, 'order-dlq')).toEqual([2, 3]));
    expect(handlerCalls.get(poison.eventId)).toBe(3);

    const dead = await eventually(async () => {
      const letters = await readDeadLetters(rig, topic);
      expect(letters).toHaveLength(2);
      return letters;
    });
    const undecodable = dead.find((d) => /undecodable/.test(d.reason))!;
    expect(undecodable.body).toEqual(garbage);
    expect(undecodable.attempts).toBe('0');
    const poisoned = dead.find((d) => /poison pill/.test(d.reason))!;
    expect(poisoned.eventId).toBe(poison.eventId);
    expect(poisoned.attempts).toBe('3');
  });

  it('has exactly one downstream effect when the relay dies between publish and mark', async () => {
    // Stop the app's own relay so this test owns the outbox, then append two events.
    await rig.producer.close();
    const db = await openServiceDatabase({ schema: 'probe', target: rig.db.target });
    const store = new EventStore('probe', eventTopic('probe', rig.namespace), probeRegistry());
    const written = await db.transaction((m) => store.append(m, 'order-crash', 0, [ping(1), ping(2)], meta));
    const topic = eventTopic('probe', rig.namespace);
    const before = await messagesIn(rig, topic);

    const publisher = await rig.transport.createPublisher([topic], 'probe');
    const dying = new OutboxRelay(db, 'probe', {
      publish: async (messages, manager, schema) => {
        await publisher.publish(messages, manager, schema);
        throw new Error('relay killed after publish, before marking the rows');
      },
    });
    await expect(dying.publishBatch()).rejects.toThrow('relay killed');
    const [{ unpublished }] = await db.query(
      `SELECT count(*)::int AS unpublished FROM probe.outbox WHERE published_at IS NULL`,
    );
    expect(unpublished).toBe(2);

    // The restarted relay publishes the same rows again.
    expect(await new OutboxRelay(db, 'probe', publisher).publishBatch()).toBe(2);
    await eventually(async () => expect(await pingsOf(rig, 'order-crash')).toEqual([1, 2]));
    // Kafka now holds each event twice; the embedded log rolled the dead relay's offsets back.
    expect((await messagesIn(rig, topic)) - before).toBe(kind.startsWith('Kafka') ? 4 : 2);
    await new Promise((r) => setTimeout(r, 300));
    expect(await pingsOf(rig, 'order-crash')).toEqual([1, 2]);
    const [{ claims }] = await rig.consumerDb.query(
      `SELECT count(*)::int AS claims FROM watcher.inbox WHERE event_id = ANY($1::uuid[])`,
      [written.map((e) => e.eventId)],
    );
    expect(claims).toBe(2);
    await publisher.close();
    await db.destroy();
  });
});

interface DeadLetter {
  reason: string;
  body: Buffer | null;
  attempts: string;
  eventId: string | undefined;
}

async function readDeadLetters(rig: Rig, topic: string): Promise<DeadLetter[]> {
  if (rig.transport.kind === 'embedded') {
    const rows = (await rig.consumerDb.query(
      `SELECT reason, body, attempts, event_id FROM watcher.dead_letters ORDER BY id`,
    )) as Array<{
      reason: string;
      body: string | null;
      attempts: number;
      event_id: string | null;
    }>;
    return rows.map((r) => ({
      reason: r.reason,
      body: r.body === null ? null : Buffer.from(r.body, 'utf8'),
      attempts: String(r.attempts),
      eventId: r.event_id ?? undefined,
    }));
  }
  const kafka = new Kafka({ clientId: 'dlq-reader', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: uniqueName('dlq-reader') });
  const letters: DeadLetter[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic: deadLetterTopic(topic), fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const h = (k: string) => message.headers?.[k]?.toString();
      letters.push({
        reason: h(DLQ_HEADERS.reason) ?? '',
        body: message.value,
        attempts: h(DLQ_HEADERS.attempts) ?? '',
        eventId: h('event-id'),
      });
    },
  });
  await new Promise((r) => setTimeout(r, 3000));
  await consumer.disconnect();
  return letters;
}

/** How many messages the topic's log holds. */
async function messagesIn(rig: Rig, topic: string): Promise<number> {
  if (rig.transport.kind === 'embedded') {
    const [{ n }] = await rig.consumerDb.query(
      `SELECT count(log_offset)::int AS n FROM probe.outbox WHERE topic = $1`,
      [topic],
    );
    return n;
  }
  const admin = new Kafka({ clientId: 'offsets', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
}

describe('embedded transport durability', () => {
  it('resumes after a restart without redelivering handled events and delivers what was pending', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'assent-embedded-'));
    const namespace = uniqueName('it');
    try {
      let db = await createPgliteDatabase(dir);
      let transport: BusTransport = new EmbeddedTransport({ idleMs: 5 });
      let apps = await startApps(db, transport, namespace);
      let store = apps.producer.get(EventStore);
      let producerDb = apps.producer.get(DataSource);
      await producerDb.transaction((m) => store.append(m, 'order-r', 0, [ping(1), ping(2)], meta));
      await eventually(async () => {
        const rows = await apps.consumer.get(DataSource).query(`SELECT n FROM watcher.pings ORDER BY seq`);
        expect(rows).toHaveLength(2);
      });
      // Stop the consumer first: what is appended now waits in the outbox, on disk.
      await apps.consumer.close();
      await producerDb.transaction((m) => store.append(m, 'order-r', 2, [ping(3)], meta));
      await new Promise((r) => setTimeout(r, 100));
      await apps.producer.close();
      await transport.close();
      await db.drop();

      db = await createPgliteDatabase(dir);
      transport = new EmbeddedTransport({ idleMs: 5 });
      apps = await startApps(db, transport, namespace);
      const consumerDb = apps.consumer.get(DataSource);
      await eventually(async () => {
        const rows = await consumerDb.query(`SELECT n FROM watcher.pings ORDER BY seq`);
        expect(rows.map((r: { n: number }) => r.n)).toEqual([1, 2, 3]);
      });
      store = apps.producer.get(EventStore);
      producerDb = apps.producer.get(DataSource);
      expect(await store.readStream(producerDb.manager, 'order-r')).toHaveLength(3);
      await apps.consumer.close();
      await apps.producer.close();
      await transport.close();
      await db.drop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('embedded transport on PGlite', () => {
  const HOUR = 3_600_000;

  /** Counts the statements PGlite runs from now on. */
  function countStatements(db: TestDatabase): () => number {
    const pglite = db.host!.db;
    let n = 0;
    const query = pglite.query.bind(pglite);
    const exec = pglite.exec.bind(pglite);
    pglite.query = ((...args: Parameters<typeof query>) => (n++, query(...args))) as typeof pglite.query;
    pglite.exec = ((...args: Parameters<typeof exec>) => (n++, exec(...args))) as typeof pglite.exec;
    return () => n;
  }

  async function withApps(
    transport: EmbeddedTransport,
    relay: OutboxRelayOptions,
    body: (db: TestDatabase, apps: { producer: INestApplication; consumer: INestApplication }) => Promise<void>,
  ) {
    const db = await createPgliteDatabase();
    const apps = await startApps(db, transport, uniqueName('it'), relay);
    try {
      await body(db, apps);
    } finally {
      await apps.consumer.close();
      await apps.producer.close();
      await transport.close();
      await db.drop();
    }
  }

  it('delivers on the in-process commit signal alone, with no poll to find the events', async () => {
    // Relay and subscriber poll once an hour: whatever arrives came through the signals.
    await withApps(new EmbeddedTransport({ idleMs: HOUR }), { idleMs: HOUR }, async (_db, apps) => {
      const store = apps.producer.get(EventStore);
      const producerDb = apps.producer.get(DataSource);
      // Let the start-up polls run dry and both loops fall asleep.
      await new Promise((r) => setTimeout(r, 200));
      for (let n = 1; n <= 3; n++) {
        await producerDb.transaction((m) => store.append(m, 'order-signal', n - 1, [ping(n)], meta));
        await eventually(async () => {
          const rows = await apps.consumer.get(DataSource).query(`SELECT n FROM watcher.pings ORDER BY seq`);
          expect(rows.map((r: { n: number }) => r.n)).toHaveLength(n);
        }, 5_000);
      }
    });
  });

  it('leaves the database alone while idle, with its default polls', async () => {
    await withApps(new EmbeddedTransport(), {}, async (db) => {
      await new Promise((r) => setTimeout(r, 200));
      const statements = countStatements(db);
      await new Promise((r) => setTimeout(r, 2000));
      // One relay (a transaction of 4 statements per look) and one subscriber (one read per look),
      // each looking every few seconds. Polling every few milliseconds ran over two thousand.
      expect(statements()).toBeLessThanOrEqual(20);
    });
  });
});
