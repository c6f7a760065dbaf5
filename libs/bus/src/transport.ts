import { DataSource } from 'typeorm';
import { OutboxPublisher } from '@assent/eventstore';
import { EventDispatcher } from './dispatcher';

export interface SubscriptionSpec {
  /** Consumer group name: one per consuming service. */
  consumer: string;
  topics: string[];
  dispatcher: EventDispatcher;
  /** The consuming service's own database and schema (inbox, cursors, dead letters). */
  dataSource: DataSource;
  schema: string;
}

export interface RunningSubscription {
  /** Resolves once the consumer is assigned its partitions (Kafka) or polling (embedded). */
  ready: Promise<void>;
  close(): Promise<void>;
}

export interface ClosablePublisher extends OutboxPublisher {
  close(): Promise<void>;
}

/**
 * The bus behind one interface: Kafka for distributed deployments, or the embedded transport that
 * delivers from the outbox tables in process. Services see only this.
 */
export interface BusTransport {
  readonly kind: 'kafka' | 'embedded';
  /**
   * Creates what the outbox relay of `schema` publishes through, after making sure `topics` exist.
   */
  createPublisher(topics: string[], schema: string): Promise<ClosablePublisher>;
  subscribe(spec: SubscriptionSpec): Promise<RunningSubscription>;
  close(): Promise<void>;
}
