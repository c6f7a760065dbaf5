import { PricingPolicy, pricingFromEnvironment } from '@assent/contracts';
import { DynamicModule, Module } from '@nestjs/common';
import { BACKBONE_OPTIONS, ServiceBackboneOptions } from '@assent/bus';
import { OperationsModule, ServiceRuntime, shoppingBackbone } from '@assent/runtime';
import { CartEventsConsumer } from './application/cart-events.consumer';
import { CartController } from './http/cart.controller';
import { cartMigrations } from './persistence/cart.migrations';
import { PriceList } from './persistence/price-list';

@Module({})
export class CartModule {
  static register(runtime: ServiceRuntime, pricing: PricingPolicy = pricingFromEnvironment()): DynamicModule {
    return {
      module: CartModule,
      imports: [OperationsModule, shoppingBackbone('cart', runtime, cartMigrations)],
      controllers: [CartController, CartEventsConsumer],
      providers: [
        { provide: PricingPolicy, useValue: pricing },
        {
          provide: PriceList,
          useFactory: (options: ServiceBackboneOptions) => new PriceList(options.schema ?? options.service),
          inject: [BACKBONE_OPTIONS],
        },
      ],
    };
  }
}
