import { DynamicModule, Module } from '@nestjs/common';
import { BACKBONE_OPTIONS, ServiceBackboneOptions } from '@assent/bus';
import { OperationsModule, ServiceRuntime, shoppingBackbone } from '@assent/runtime';
import { Conversations, TurnSettings } from './application/conversations';
import { IntentEventsConsumer } from './application/intent-events.consumer';
import { TurnDeadlines } from './application/turn-deadlines';
import { TurnMetrics } from './application/turn-metrics';
import { TurnWaiter } from './application/turn-waiter';
import { INTENT_MODEL, IntentModel } from './domain/intent-model';
import { intentModelFromEnvironment } from './domain/language-model';
import { ConversationsController } from './http/conversations.controller';
import { ConversationViews } from './persistence/conversation-views';
import { intentMigrations } from './persistence/intent.migrations';
import { VocabularyStore } from './persistence/vocabulary';

const schemaOf = (options: ServiceBackboneOptions) => options.schema ?? options.service;

@Module({})
export class IntentModule {
  static register(
    runtime: ServiceRuntime,
    model: IntentModel = intentModelFromEnvironment(),
    settings = TurnSettings.fromEnvironment(),
  ): DynamicModule {
    return {
      module: IntentModule,
      imports: [OperationsModule, shoppingBackbone('intent', runtime, intentMigrations)],
      controllers: [ConversationsController, IntentEventsConsumer],
      providers: [
        { provide: INTENT_MODEL, useValue: model },
        { provide: TurnSettings, useValue: settings },
        {
          provide: ConversationViews,
          useFactory: (o: ServiceBackboneOptions) => new ConversationViews(schemaOf(o)),
          inject: [BACKBONE_OPTIONS],
        },
        {
          provide: VocabularyStore,
          useFactory: (o: ServiceBackboneOptions) => new VocabularyStore(schemaOf(o)),
          inject: [BACKBONE_OPTIONS],
        },
        TurnWaiter,
        TurnMetrics,
        Conversations,
        TurnDeadlines,
      ],
    };
  }
}
