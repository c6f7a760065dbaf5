import { DynamicModule, Module } from '@nestjs/common';
import { BACKBONE_OPTIONS, ServiceBackboneOptions } from '@assent/bus';
import { pricingFromEnvironment, PricingPolicy } from '@assent/contracts';
import { MandateKeys, mandateKeysFromEnvironment } from '@assent/mandates';
import { OperationsModule, ServiceRuntime, shoppingBackbone } from '@assent/runtime';
import { PaymentEventsConsumer } from './application/payment-events.consumer';
import { PaymentSeeder } from './application/payment-seeder';
import { PaymentMethodsController } from './http/payment-methods.controller';
import { paymentMigrations } from './persistence/payment.migrations';
import { MandateChecks } from './persistence/mandate-checks';
import { SandboxPaymentProvider } from './persistence/sandbox-payment-provider';

@Module({})
export class PaymentModule {
  static register(runtime: ServiceRuntime, options: { keys?: MandateKeys } = {}): DynamicModule {
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
        {
          provide: MandateChecks,
          useFactory: (o: ServiceBackboneOptions) => new MandateChecks(o.schema ?? o.service),
          inject: [BACKBONE_OPTIONS],
        },
        { provide: MandateKeys, useFactory: () => options.keys ?? mandateKeysFromEnvironment(process.env, 'verifier') },
        { provide: PricingPolicy, useValue: pricingFromEnvironment() },
        PaymentSeeder,
      ],
    };
  }
}
