// Without a collector configured the embedded default exports no traces rather than retrying a
// Jaeger that is not there; set OTEL_EXPORTER_OTLP_ENDPOINT to send them.
process.env.OTEL_TRACES_EXPORTER ??= process.env.OTEL_EXPORTER_OTLP_ENDPOINT ? 'otlp' : 'none';
process.env.OTEL_SERVICE_NAME ??= 'assent-embedded';
// eslint-disable-next-line @typescript-eslint/no-require-imports
require('@assent/telemetry/register');

import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { connectEventBus, EventBusModule } from '@assent/bus';
import { EventRegistry } from '@assent/contracts';
import { OperationsModule, runtimeFromEnvironment } from '@assent/runtime';
import { PinoNestLogger, shutdownTelemetry } from '@assent/telemetry';

/**
 * The embedded default: one process, PostgreSQL in process (PGlite, kept in ASSENT_DATA_DIR) and
 * the embedded bus. Until the six shopping services exist it runs the backbone alone: the
 * platform's own event store schema, the outbox relay and the bus, with health and metrics.
 */
async function main(): Promise<void> {
  const logger = new PinoNestLogger('embedded');
  const runtime = await runtimeFromEnvironment('assent-embedded');

  @Module({
    imports: [
      OperationsModule,
      EventBusModule.forService({
        service: 'platform',
        database: runtime.database,
        transport: runtime.transport,
        registry: new EventRegistry(),
      }),
    ],
  })
  class EmbeddedModule {}

  const app = await NestFactory.create(EmbeddedModule, { logger });
  connectEventBus(app);
  await app.startAllMicroservices();
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port, process.env.HOST ?? '127.0.0.1');
  logger.log(
    `Assent is up on http://127.0.0.1:${port} (${runtime.describe}); health at /health/ready, metrics at /metrics`,
    'Main',
  );

  const stop = async () => {
    await app.close();
    await runtime.close();
    await shutdownTelemetry();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
