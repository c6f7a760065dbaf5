import { DynamicModule, Module } from '@nestjs/common';
import { BACKBONE_OPTIONS, ServiceBackboneOptions } from '@assent/bus';
import { OperationsModule, ServiceRuntime, shoppingBackbone } from '@assent/runtime';
import { AftersalesEventsConsumer } from './application/aftersales-events.consumer';
import { AftersalesSeeder } from './application/aftersales-seeder';
import { OrderCancellations, UndoWindow } from './application/order-cancellations';
import { OrdersController } from './http/orders.controller';
import { aftersalesMigrations } from './persistence/aftersales.migrations';
import { AftersalesRepository } from './persistence/aftersales-repository';

@Module({})
export class AftersalesModule {
  static register(runtime: ServiceRuntime): DynamicModule {
    return {
      module: AftersalesModule,
      imports: [OperationsModule, shoppingBackbone('aftersales', runtime, aftersalesMigrations)],
      controllers: [OrdersController, AftersalesEventsConsumer],
      providers: [
        {
          provide: AftersalesRepository,
          useFactory: (o: ServiceBackboneOptions) => new AftersalesRepository(o.schema ?? o.service),
          inject: [BACKBONE_OPTIONS],
        },
        AftersalesSeeder,
        { provide: UndoWindow, useValue: UndoWindow.fromEnvironment() },
        OrderCancellations,
      ],
    };
  }
}
