import {
  Catch,
  DynamicModule,
  INestApplication,
  Inject,
  Injectable,
  Logger,
  Module,
  OnApplicationBootstrap,
  OnModuleDestroy,
  RpcExceptionFilter,
} from '@nestjs/common';
import { Observable, throwError } from 'rxjs';
import { DataSource } from 'typeorm';
import { EventRegistry, eventTopic } from '@assent/contracts';
import {
  DatabaseTarget,
  EventStore,
  openServiceDatabase,
  OutboxRelay,
  OutboxRelayOptions,
  SchemaMigration,
} from '@assent/eventstore';
import { RetryOptions } from '../dispatcher';
import { BusTransport, ClosablePublisher } from '../transport';
import { EventBusServer } from './event-bus.server';

export interface ServiceBackboneOptions {
  /** The service name: its topic is `<namespace>.<service>.events`, its consumer group likewise. */
  service: string;
  /** Its own PostgreSQL schema; defaults to the service name. */
  schema?: string;
  namespace?: string;
  database: DatabaseTarget;
  transport: BusTransport;
  registry: EventRegistry;
  migrations?: SchemaMigration[];
  relay?: OutboxRelayOptions;
  retry?: Partial<RetryOptions>;
}

export const BACKBONE_OPTIONS = Symbol('BACKBONE_OPTIONS');

/** The service's resolved identity on the bus. */
export interface ServiceIdentity {
  service: string;
  schema: string;
  topic: string;
  consumer: string;
  namespace: string;
}

export function serviceIdentity(options: ServiceBackboneOptions): ServiceIdentity {
  const namespace = options.namespace ?? process.env.ASSENT_TOPIC_NAMESPACE ?? 'assent';
  return {
    service: options.service,
    schema: options.schema ?? options.service,
    topic: eventTopic(options.service, namespace),
    consumer: `${namespace}.${options.service}`,
    namespace,
  };
}

/** Runs the outbox relay for the application's lifetime. */
@Injectable()
export class OutboxRelayRunner implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('OutboxRelay');
  private relay: OutboxRelay | null = null;
  private publisher: ClosablePublisher | null = null;

  constructor(
    @Inject(BACKBONE_OPTIONS) private readonly options: ServiceBackboneOptions,
    private readonly dataSource: DataSource,
  ) {}

  private starting: Promise<void> | null = null;

  onApplicationBootstrap(): Promise<void> {
    // A hybrid app runs bootstrap hooks for the HTTP app and again for its microservice.
    this.starting ??= this.start();
    return this.starting;
  }

  private async start(): Promise<void> {
    const id = serviceIdentity(this.options);
    this.publisher = await this.options.transport.createPublisher([id.topic], id.schema);
    this.relay = new OutboxRelay(this.dataSource, id.schema, this.publisher, {
      onError: (error) => this.logger.warn(`outbox relay of ${id.schema} failed, retrying: ${String(error)}`),
      ...this.options.relay,
    });
    this.relay.start();
  }

  /** Lets the relay publish now rather than after its idle sleep. */
  nudge(): void {
    this.relay?.nudge();
  }

  async onModuleDestroy(): Promise<void> {
    await this.starting;
    await this.relay?.stop();
    await this.publisher?.close();
    this.relay = null;
    this.publisher = null;
  }
}

@Injectable()
class DataSourceCloser implements OnModuleDestroy {
  constructor(private readonly dataSource: DataSource) {}
  async onModuleDestroy(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/**
 * Gives a service its database (migrated), its EventStore and a running outbox relay.
 * Pair it with `connectEventBus` to receive events through `@EventPattern` handlers.
 */
@Module({})
export class EventBusModule {
  static forService(options: ServiceBackboneOptions): DynamicModule {
    const id = serviceIdentity(options);
    return {
      module: EventBusModule,
      global: true,
      providers: [
        { provide: BACKBONE_OPTIONS, useValue: options },
        { provide: EventRegistry, useValue: options.registry },
        {
          provide: DataSource,
          useFactory: () =>
            openServiceDatabase({ schema: id.schema, target: options.database, migrations: options.migrations }),
        },
        { provide: EventStore, useValue: new EventStore(id.schema, id.topic, options.registry) },
        OutboxRelayRunner,
        DataSourceCloser,
      ],
      exports: [BACKBONE_OPTIONS, EventRegistry, DataSource, EventStore, OutboxRelayRunner],
    };
  }
}

/**
 * Nest's default RPC filter replaces any error with "Internal server error"; the dispatcher needs the
 * original to decide on retries and to write the reason on the dead letter.
 */
@Catch()
class RethrowEventHandlerErrors implements RpcExceptionFilter<unknown> {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}

/** Connects the bus consumer to a Nest application built with EventBusModule.forService. */
export function connectEventBus(app: INestApplication): EventBusServer {
  const options = app.get<ServiceBackboneOptions>(BACKBONE_OPTIONS);
  const id = serviceIdentity(options);
  const server = new EventBusServer({
    transport: options.transport,
    consumer: id.consumer,
    dataSource: app.get(DataSource),
    schema: id.schema,
    registry: options.registry,
    namespace: id.namespace,
    retry: options.retry,
  });
  // Deferred, so the filter below is in place before Nest builds the handlers. Not inheriting the
  // HTTP app's config: it is one shared object, and the rethrowing filter would replace the HTTP
  // error responses too.
  const microservice = app.connectMicroservice(
    { strategy: server },
    { inheritAppConfig: false, deferInitialization: true },
  );
  microservice.useGlobalFilters(new RethrowEventHandlerErrors());
  return server;
}
