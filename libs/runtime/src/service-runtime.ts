import { DynamicModule, Type } from '@nestjs/common';
import { EventBusModule, BusTransport } from '@assent/bus';
import { ServiceName, shoppingRegistry } from '@assent/contracts';
import { DatabaseTarget, SchemaMigration } from '@assent/eventstore';
import { PinoNestLogger, shutdownTelemetry } from '@assent/telemetry';
import { runtimeFromEnvironment } from './environment';
import { idempotencyMigration } from './http/idempotency';
import { createServiceApp } from './http/service-app';

/** Where a service keeps its data and how it talks: the same for a lone service and the embedded six. */
export interface ServiceRuntime {
  database: DatabaseTarget;
  transport: BusTransport;
  namespace?: string;
}

/**
 * A shopping service's backbone: its own schema (named after it), its migrations (and the
 * Idempotency-Key table every service's POSTs need), every shopping event type.
 */
export function shoppingBackbone(
  service: ServiceName,
  runtime: ServiceRuntime,
  migrations: SchemaMigration[],
): DynamicModule {
  return EventBusModule.forService({
    service,
    database: runtime.database,
    transport: runtime.transport,
    namespace: runtime.namespace,
    registry: shoppingRegistry(),
    migrations: [...migrations, idempotencyMigration],
  });
}

/**
 * Runs one service as its own process (the distributed mode): PostgreSQL and Kafka from the
 * environment, HTTP on PORT, until SIGTERM.
 */
export async function runService(
  service: ServiceName,
  moduleFor: (runtime: ServiceRuntime) => Type | DynamicModule,
): Promise<void> {
  const logger = new PinoNestLogger(service);
  const runtime = await runtimeFromEnvironment(`assent-${service}`);
  const { app } = await createServiceApp(service, moduleFor(runtime));
  await app.startAllMicroservices();
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port, process.env.HOST ?? '0.0.0.0');
  logger.log(`${service} listening on :${port} (${runtime.describe}); API description at /docs`, 'Main');
  const stop = async () => {
    await app.close();
    await runtime.close();
    await shutdownTelemetry();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}
