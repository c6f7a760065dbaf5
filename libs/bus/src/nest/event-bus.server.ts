import { CustomTransportStrategy, Server } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { DataSource } from 'typeorm';
import { EventEnvelope, EventRegistry, eventTopic, serviceOfEventType } from '@assent/contracts';
import { EventDispatcher, EventHandlerFn, HandlerContext, RetryOptions } from '../dispatcher';
import { BusTransport, RunningSubscription } from '../transport';

export interface EventBusServerOptions {
  transport: BusTransport;
  /** Consumer group: the consuming service's name (and namespace). */
  consumer: string;
  dataSource: DataSource;
  schema: string;
  registry: EventRegistry;
  /** Topic namespace (ASSENT_TOPIC_NAMESPACE); tests use their own. */
  namespace?: string;
  retry?: Partial<RetryOptions>;
}

/**
 * A NestJS custom transport: `@EventPattern('<service>.<EventName>')` handlers receive the validated
 * envelope and a HandlerContext whose `manager` is the transaction that also records the inbox entry.
 * It subscribes to the topics of the services whose events the handlers name.
 */
export class EventBusServer extends Server implements CustomTransportStrategy {
  private subscription: RunningSubscription | null = null;

  constructor(private readonly options: EventBusServerOptions) {
    super();
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      const types = [...this.messageHandlers.keys()];
      const topics = [...new Set(types.map((t) => eventTopic(serviceOfEventType(t), this.options.namespace)))];
      if (topics.length > 0) {
        const dispatcher = new EventDispatcher({
          consumer: this.options.consumer,
          dataSource: this.options.dataSource,
          schema: this.options.schema,
          registry: this.options.registry,
          retry: this.options.retry,
          handlerFor: (type) => this.handlerFor(type),
        });
        this.subscription = await this.options.transport.subscribe({
          consumer: this.options.consumer,
          topics,
          dispatcher,
          dataSource: this.options.dataSource,
          schema: this.options.schema,
        });
      }
      callback();
    } catch (error) {
      callback(error);
    }
  }

  /** Resolves when the consumer group has joined (tests wait on it before publishing). */
  async ready(): Promise<void> {
    await this.subscription?.ready;
  }

  async close(): Promise<void> {
    await this.subscription?.close();
    this.subscription = null;
  }

  on(): never {
    throw new Error('EventBusServer has no status events');
  }

  unwrap<T>(): T {
    return this.options.transport as T;
  }

  private handlerFor(type: string): EventHandlerFn | undefined {
    const handler = this.getHandlerByPattern(type);
    if (!handler) return undefined;
    return async (envelope: EventEnvelope, context: HandlerContext) => {
      // Nest wraps the handler with pipes, interceptors and filters; an error surfaces through the
      // returned observable, so wait for it to complete for the dispatcher to see failures.
      await lastValueFrom(this.transformToObservable(await handler(envelope, context)), { defaultValue: undefined });
    };
  }
}
