import { Admin, IHeaders, Kafka, KafkaConfig, Producer } from 'kafkajs';
import { EntityManager } from 'typeorm';
import { deadLetterTopic } from '@assent/contracts';
import { builtModulePath, OutboxMessage, RelayThreadPublisher } from '@assent/eventstore';
import { DeliverySink } from '../dispatcher';
import { BusMessage, DLQ_HEADERS } from '../message';
import { BusTransport, ClosablePublisher, RunningSubscription, SubscriptionSpec } from '../transport';
import { idempotentProducer, KafkaConnection, kafkaClient, sendOutboxBatch } from './relay-publisher';

export interface KafkaTransportOptions {
  brokers: string[];
  clientId: string;
  /** Partitions for topics this transport creates (service topics and their dead letters). */
  partitions?: number;
  replicationFactor?: number;
  /** Partitions handled in parallel per consumer; order still holds within each. */
  partitionsConsumedConcurrently?: number;
  sessionTimeoutMs?: number;
  /**
   * Most messages of a fetched batch handled in one consumer transaction (one inbox claim, one
   * commit); a handler failure replays at most this many.
   */
  maxMessagesPerTransaction?: number;
  kafkaConfig?: Partial<KafkaConfig>;
}

function headerText(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  // for-in over the decoded headers: half the cost of Object.entries.
  for (const k in headers) {
    const v = headers[k];
    if (v === undefined) continue;
    out[k] = Buffer.isBuffer(v) ? v.toString('utf8') : Array.isArray(v) ? v.map(String).join(',') : String(v);
  }
  return out;
}

/**
 * A consumed message whose headers become strings only when something reads them (a dead letter, a
 * handler that looks). Tracing reads the raw kafkajs headers, so the common path never converts
 * the seven headers of every message, nor keeps the strings alive while the batch is handled.
 */
class ConsumedMessage implements BusMessage {
  private text?: Record<string, string>;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: string,
    readonly key: string | null,
    readonly value: Buffer | null,
    readonly rawHeaders: IHeaders | undefined,
  ) {}

  get headers(): Record<string, string> {
    return (this.text ??= headerText(this.rawHeaders));
  }
}

/** Messages handled per consumer transaction by default (see EventDispatcher.dispatchBatch). */
export const DEFAULT_DISPATCH_CHUNK = 1000;

/**
 * Kafka through kafkajs: an idempotent producer with acks from all in-sync replicas, messages keyed
 * by stream id so order holds per stream, consumer groups, and `<topic>.dlq` for dead letters.
 */
export class KafkaTransport implements BusTransport {
  readonly kind = 'kafka' as const;
  private readonly kafka: Kafka;
  private readonly closers = new Set<() => Promise<void>>();

  constructor(private readonly options: KafkaTransportOptions) {
    this.kafka = kafkaClient(options);
  }

  /**
   * Creates the topics and their dead-letter topics if they do not exist yet, and waits until they
   * have leaders. Services starting together race to create the same topics; the loser sees
   * "already exists" or a topic without a leader yet, so it looks again after a pause.
   */
  async ensureTopics(topics: string[]): Promise<void> {
    const admin: Admin = this.kafka.admin();
    await admin.connect();
    const all = [...new Set(topics.flatMap((t) => [t, deadLetterTopic(t)]))];
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          const existing = new Set(await admin.listTopics());
          const wanted = all.filter((t) => !existing.has(t));
          if (wanted.length > 0) {
            await admin.createTopics({
              waitForLeaders: true,
              topics: wanted.map((topic) => ({
                topic,
                numPartitions: this.options.partitions ?? 3,
                replicationFactor: this.options.replicationFactor ?? 1,
              })),
            });
          }
          const metadata = await admin.fetchTopicMetadata({ topics: all });
          if (metadata.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
          throw new Error(`topics without leaders yet: ${all.join(', ')}`);
        } catch (error) {
          if (attempt >= 15) throw error;
          await new Promise((r) => setTimeout(r, Math.min(200 * attempt, 2000)));
        }
      }
    } finally {
      await admin.disconnect();
    }
  }

  async createPublisher(topics: string[]): Promise<ClosablePublisher> {
    await this.ensureTopics(topics);
    // The relay thread publishes with a producer of its own; this one connects only if the relay
    // publishes from here (PGlite, or a caller's own publishBatch).
    let producer: Promise<Producer> | null = null;
    const connected = () =>
      (producer ??= (async () => {
        const p = idempotentProducer(this.kafka);
        await p.connect();
        return p;
      })());
    const close = async () => {
      if (producer) await (await producer).disconnect();
    };
    this.closers.add(close);
    return {
      external: true,
      thread: this.threadPublisher(),
      publish: async (messages: OutboxMessage[]) => sendOutboxBatch(await connected(), messages),
      close: async () => {
        this.closers.delete(close);
        await close();
      },
    };
  }

  /** The relay thread's copy of this transport's producer, if its settings can cross threads. */
  private threadPublisher(): RelayThreadPublisher | undefined {
    const connection: KafkaConnection = {
      clientId: this.options.clientId,
      brokers: this.options.brokers,
      kafkaConfig: this.options.kafkaConfig,
    };
    try {
      // Functions (a SASL token provider, a log creator, a socket factory) do not cross.
      structuredClone(connection);
    } catch {
      return undefined;
    }
    return { module: builtModulePath(__filename, 'relay-publisher.js'), options: connection };
  }

  async subscribe(spec: SubscriptionSpec): Promise<RunningSubscription> {
    await this.ensureTopics(spec.topics);
    const dlqProducer = idempotentProducer(this.kafka);
    await dlqProducer.connect();
    const consumer = this.kafka.consumer({
      groupId: spec.consumer,
      sessionTimeout: this.options.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: 1000,
      rebalanceTimeout: 10_000,
      // Fetches return as soon as data arrives; this only bounds how long a disconnect waits.
      maxWaitTimeInMs: 500,
    });
    const sink: DeliverySink = {
      deadLetter: async (message: BusMessage, reason: string, attempts: number, _m: EntityManager) => {
        await dlqProducer.send({
          topic: deadLetterTopic(message.topic),
          acks: -1,
          messages: [
            {
              key: message.key,
              value: message.value,
              headers: {
                ...message.headers,
                [DLQ_HEADERS.reason]: reason,
                [DLQ_HEADERS.consumer]: spec.consumer,
                [DLQ_HEADERS.topic]: message.topic,
                [DLQ_HEADERS.partition]: String(message.partition),
                [DLQ_HEADERS.offset]: message.offset,
                [DLQ_HEADERS.attempts]: String(attempts),
                [DLQ_HEADERS.failedAt]: new Date().toISOString(),
              },
            },
          ],
        });
      },
    };
    let joined!: () => void;
    const ready = new Promise<void>((resolve) => (joined = resolve));
    consumer.on(consumer.events.GROUP_JOIN, () => joined());
    await consumer.connect();
    await consumer.subscribe({ topics: spec.topics, fromBeginning: true });
    await consumer.run({
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 3,
      // The dispatcher never throws for a bad message; if it throws (database or DLQ producer down),
      // the unresolved offsets are not committed and kafkajs redelivers them, so nothing is lost.
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        const size = this.options.maxMessagesPerTransaction ?? DEFAULT_DISPATCH_CHUNK;
        for (let i = 0; i < batch.messages.length && isRunning() && !isStale(); i += size) {
          const chunk = batch.messages
            .slice(i, i + size)
            .map(
              (message) =>
                new ConsumedMessage(
                  batch.topic,
                  batch.partition,
                  message.offset,
                  message.key ? message.key.toString('utf8') : null,
                  message.value,
                  message.headers,
                ),
            );
          await spec.dispatcher.dispatchBatch(chunk, sink);
          resolveOffset(chunk[chunk.length - 1].offset);
          await heartbeat();
        }
      },
    });
    const close = async () => {
      await consumer.disconnect();
      await dlqProducer.disconnect();
    };
    this.closers.add(close);
    return {
      ready,
      close: async () => {
        this.closers.delete(close);
        await close();
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.closers].map((c) => c()));
    this.closers.clear();
  }
}
