import { Consumer, EachMessagePayload, Kafka, logLevel, Partitioners, Producer } from 'kafkajs';

/**
 * Raw kafkajs with exactly the settings KafkaTransport uses, for the baselines: same producer
 * (idempotent, one request in flight, DefaultPartitioner, acks -1 on send) and same consumer
 * group settings.
 */
export class RawKafka {
  readonly kafka: Kafka;
  private readonly created: string[] = [];
  private readonly closers: Array<() => Promise<void>> = [];

  constructor(brokers: string[], clientId: string) {
    this.kafka = new Kafka({ clientId, brokers, logLevel: logLevel.ERROR });
  }

  async createTopic(topic: string, partitions: number): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
      });
      this.created.push(topic);
    } finally {
      await admin.disconnect();
    }
  }

  /** Same options as KafkaTransport's idempotentProducer(). */
  async producer(): Promise<Producer> {
    const producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    });
    await producer.connect();
    this.closers.push(() => producer.disconnect());
    return producer;
  }

  /** A consumer group with KafkaTransport's consumer settings; resolves once it joined. */
  async consume(
    groupId: string,
    topic: string,
    partitionsConsumedConcurrently: number,
    eachMessage: (payload: EachMessagePayload) => Promise<void>,
  ): Promise<Consumer> {
    const consumer = this.kafka.consumer({
      groupId,
      sessionTimeout: 10_000,
      heartbeatInterval: 1000,
      rebalanceTimeout: 10_000,
      maxWaitTimeInMs: 500,
    });
    let joined!: () => void;
    const ready = new Promise<void>((resolve) => (joined = resolve));
    consumer.on(consumer.events.GROUP_JOIN, () => joined());
    await consumer.connect();
    this.closers.push(() => consumer.disconnect());
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ partitionsConsumedConcurrently, eachMessage });
    await ready;
    return consumer;
  }

  async close(): Promise<void> {
    for (const c of this.closers.splice(0).reverse()) await c().catch(() => undefined);
  }
}

/** Deletes the topics a run created (best effort: a broker that refuses only leaves litter). */
export async function deleteTopics(brokers: string[], topics: string[]): Promise<void> {
  if (topics.length === 0) return;
  const admin = new Kafka({ clientId: 'bench-cleanup', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const doomed = topics.filter((t) => existing.has(t));
    if (doomed.length > 0) await admin.deleteTopics({ topics: doomed, timeout: 10_000 });
  } finally {
    await admin.disconnect();
  }
}
