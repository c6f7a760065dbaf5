import { DynamicModule, Module } from '@nestjs/common';
import { OperationsModule, ServiceRuntime, shoppingBackbone } from '@assent/runtime';
import { Confirmations } from './application/confirmations';
import { ConsentEventsConsumer } from './application/consent-events.consumer';
import { ConsentPolicy } from './domain/consent-policy';
import { ConfirmationsController } from './http/confirmations.controller';

@Module({})
export class ConsentModule {
  static register(runtime: ServiceRuntime, policy = ConsentPolicy.fromEnvironment()): DynamicModule {
    return {
      module: ConsentModule,
      imports: [OperationsModule, shoppingBackbone('consent', runtime, [])],
      controllers: [ConfirmationsController, ConsentEventsConsumer],
      providers: [{ provide: ConsentPolicy, useValue: policy }, Confirmations],
    };
  }
}
