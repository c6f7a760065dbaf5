import { DynamicModule, Module } from '@nestjs/common';
import { BACKBONE_OPTIONS, ServiceBackboneOptions } from '@assent/bus';
import { MandateKeys, mandateKeysFromEnvironment } from '@assent/mandates';
import { OperationsModule, ServiceRuntime, shoppingBackbone } from '@assent/runtime';
import { Confirmations } from './application/confirmations';
import { ConsentEventsConsumer } from './application/consent-events.consumer';
import { LogCodeSender, OneTimeCodeSender, StepUpCodes } from './application/step-up';
import { ConsentPolicy } from './domain/consent-policy';
import { ConfirmationsController } from './http/confirmations.controller';
import { consentMigrations } from './persistence/consent.migrations';
import { IntentMandates } from './persistence/intent-mandates';

export interface ConsentOptions {
  policy?: ConsentPolicy;
  /** Where step-up codes go; the default logs them (development). */
  codeSender?: OneTimeCodeSender;
  keys?: MandateKeys;
}

const schemaOf = (o: ServiceBackboneOptions) => o.schema ?? o.service;

@Module({})
export class ConsentModule {
  static register(runtime: ServiceRuntime, options: ConsentOptions = {}): DynamicModule {
    return {
      module: ConsentModule,
      imports: [OperationsModule, shoppingBackbone('consent', runtime, consentMigrations)],
      controllers: [ConfirmationsController, ConsentEventsConsumer],
      providers: [
        { provide: ConsentPolicy, useValue: options.policy ?? ConsentPolicy.fromEnvironment() },
        { provide: OneTimeCodeSender, useValue: options.codeSender ?? new LogCodeSender() },
        {
          provide: MandateKeys,
          useFactory: () => options.keys ?? mandateKeysFromEnvironment(process.env, 'signer'),
        },
        {
          provide: IntentMandates,
          useFactory: (o: ServiceBackboneOptions) => new IntentMandates(schemaOf(o)),
          inject: [BACKBONE_OPTIONS],
        },
        {
          provide: StepUpCodes,
          useFactory: (o: ServiceBackboneOptions, sender: OneTimeCodeSender) => new StepUpCodes(schemaOf(o), sender),
          inject: [BACKBONE_OPTIONS, OneTimeCodeSender],
        },
        Confirmations,
      ],
    };
  }
}
