import { DynamicModule, Module } from '@nestjs/common';
import { BACKBONE_OPTIONS, ServiceBackboneOptions } from '@assent/bus';
import { OperationsModule, ServiceRuntime, shoppingBackbone } from '@assent/runtime';
import { CatalogEventsConsumer } from './application/catalog-events.consumer';
import { CatalogSeeder } from './application/catalog-seeder';
import { ProductsController } from './http/products.controller';
import { catalogMigrations } from './persistence/catalog.migrations';
import { CatalogRepository } from './persistence/catalog-repository';

@Module({})
export class CatalogModule {
  static register(runtime: ServiceRuntime): DynamicModule {
    return {
      module: CatalogModule,
      imports: [OperationsModule, shoppingBackbone('catalog', runtime, catalogMigrations)],
      controllers: [ProductsController, CatalogEventsConsumer],
      providers: [
        {
          provide: CatalogRepository,
          useFactory: (o: ServiceBackboneOptions) => new CatalogRepository(o.schema ?? o.service),
          inject: [BACKBONE_OPTIONS],
        },
        CatalogSeeder,
      ],
    };
  }
}
