import { DynamicModule, Module } from '@nestjs/common';
import { BACKBONE_OPTIONS, ServiceBackboneOptions } from '@assent/bus';
import { OperationsModule, ServiceRuntime, shoppingBackbone } from '@assent/runtime';
import { PaymentEventsConsumer } from './application/payment-events.consumer';
import { PaymentSeeder } from './application/payment-seeder';
import { PaymentMethodsController } from './http/payment-methods.controller';
import { paymentMigrations } from './persistence/payment.migrations';
import { SandboxPaymentProvider } from './persistence/sandbox-payment-provider';

@Module({})
export class PaymentModule {
  static register(runtime: ServiceRuntime): DynamicModule {
    return {
      module: PaymentModule,
      imports: [OperationsModule, shoppingBackbone('payment', runtime, paymentMigrations)],
      controllers: [PaymentMethodsController, PaymentEventsConsumer],
      providers: [
        {
          provide: SandboxPaymentProvider,
          useFactory: (o: ServiceBackboneOptions) => new SandboxPaymentProvider(o.schema ?? o.service),
          inject: [BACKBONE_OPTIONS],
        },
        PaymentSeeder,
      ],
    };
  }
}
