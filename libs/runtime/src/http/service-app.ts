import { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { NestFactory, Reflector } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { BACKBONE_OPTIONS, connectEventBus, EventBusServer, ServiceBackboneOptions } from '@assent/bus';
import { PinoNestLogger } from '@assent/telemetry';
import { AccessTokenGuard, accessTokenSecret } from './auth';
import { documentIdempotencyKey, IdempotencyInterceptor } from './idempotency';
import { ProblemDetailsFilter } from './problem';

export interface ServiceApp {
  app: INestApplication;
  bus: EventBusServer;
}

/**
 * One service as a Nest application, configured the same way everywhere: pino logs, problem+json
 * errors, bearer-token authentication on every route not marked @Public, Idempotency-Key on every POST
 * (kept in the service's own schema), the OpenAPI description at /docs and /openapi.json, and the bus
 * consumer for its @HandlesEvent methods. Not yet listening.
 */
export async function createServiceApp(
  service: string,
  module: Type | DynamicModule,
  options: {
    secret?: Uint8Array;
    docsPath?: string;
    /**
     * The `service` label of the logs. Nest keeps one process-wide logger, so services sharing a process
     * (the embedded default) share a label too.
     */
    logAs?: string;
  } = {},
): Promise<ServiceApp> {
  // An explicit adapter rather than Nest's dynamic import of the default one (which jest cannot follow).
  const app = await NestFactory.create(module, new ExpressAdapter(), {
    logger: new PinoNestLogger(options.logAs ?? service),
  });
  app.enableShutdownHooks();
  // Nest tries the filter registered last first: the reused-key problem, then every other error.
  app.useGlobalFilters(new ProblemDetailsFilter());
  app.useGlobalGuards(new AccessTokenGuard(app.get(Reflector), options.secret ?? accessTokenSecret()));
  const backbone = app.get<ServiceBackboneOptions>(BACKBONE_OPTIONS);
  app.useGlobalInterceptors(new IdempotencyInterceptor(app.get(DataSource), backbone.schema ?? backbone.service));
  const docsPath = options.docsPath ?? 'docs';
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle(`Assent ${service} service`)
      .setDescription(`The ${service} service's HTTP API. Errors are application/problem+json.`)
      .setVersion('1')
      .addBearerAuth()
      .addSecurityRequirements('bearer')
      .build(),
  );
  documentIdempotencyKey(document);
  SwaggerModule.setup(docsPath, app, document, { jsonDocumentUrl: `${docsPath}/openapi.json` });
  const bus = connectEventBus(app);
  return { app, bus };
}
