/**
 * What the outbox relay sends to Kafka with, in the main thread or on the relay thread (which
 * loads this module by path: it must not pull in NestJS or anything else it does not need).
 */
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { Kafka, KafkaConfig, logLevel, Partitioners, Producer } from 'kafkajs';
import type { OutboxMessage, ThreadPublisher } from '@assent/eventstore';
import { extractTraceContext } from '@assent/telemetry';

const tracer = () => trace.getTracer('@assent/bus');

/** The broker connection of a KafkaTransport, as plain data that crosses to the relay thread. */
export interface KafkaConnection {
  clientId: string;
  brokers: string[];
  kafkaConfig?: Partial<KafkaConfig>;
}

export function kafkaClient(connection: KafkaConnection): Kafka {
  return new Kafka({
    clientId: connection.clientId,
    brokers: connection.brokers,
    logLevel: logLevel.ERROR,
    ...connection.kafkaConfig,
  });
}

export function idempotentProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    // kafkajs keeps per-partition order with retries only with one request in flight.
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  });
}

/**
 * Sends a batch of outbox rows in one request, acks from all in-sync replicas. One PRODUCER span
 * per event, parented on the context captured when it was appended; the consumer continues from
 * the producer span through the headers.
 */
export async function sendOutboxBatch(producer: Producer, messages: OutboxMessage[]): Promise<void> {
  const spans = messages.map((m) => {
    const span = tracer().startSpan(`${m.topic} publish`, { kind: SpanKind.PRODUCER }, extractTraceContext(m.headers));
    // Attributes only for a span that records: without an SDK they would cost more than the span.
    if (span.isRecording()) {
      span.setAttributes({
        'messaging.system': 'kafka',
        'messaging.destination.name': m.topic,
        'messaging.kafka.message.key': m.key,
        'messaging.message.id': m.eventId,
      });
    }
    return span;
  });
  const byTopic = new Map<string, Array<{ key: string; value: Buffer; headers: Record<string, string> }>>();
  messages.forEach((m, i) => {
    // The relay hands over each batch once, freshly read from the outbox: its headers objects
    // are the publisher's to extend with the producer span's context.
    propagation.inject(trace.setSpan(context.active(), spans[i]), m.headers);
    const list = byTopic.get(m.topic) ?? [];
    list.push({ key: m.key, value: m.body, headers: m.headers });
    byTopic.set(m.topic, list);
  });
  try {
    await producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, msgs]) => ({ topic, messages: msgs })),
    });
  } catch (error) {
    spans.forEach((s) => s.recordException(error as Error));
    throw error;
  } finally {
    spans.forEach((s) => s.end());
  }
}

/** The relay thread's publisher (see RelayThreadPublisher in @assent/eventstore). */
export async function createRelayPublisher(connection: KafkaConnection): Promise<ThreadPublisher> {
  const producer = idempotentProducer(kafkaClient(connection));
  await producer.connect();
  return {
    send: (messages) => sendOutboxBatch(producer, messages),
    close: () => producer.disconnect(),
  };
}
