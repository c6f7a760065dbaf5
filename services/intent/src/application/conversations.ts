import { Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import {
  DialogueUpdate,
  EventMetadata,
  newEventId,
  PayloadOf,
  TurnAnswer,
  TurnAnswered,
  TurnRef,
} from '@assent/contracts';
import { EventStore, foldEvents, StreamVersionConflictError } from '@assent/eventstore';
import { OutboxRelayRunner } from '@assent/bus';
import {
  conversationAggregate,
  ConversationCommand,
  dialogueContext,
  turnTimings,
} from '../domain/conversation.aggregate';
import { INTENT_MODEL, IntentModel, understandWithProvenance } from '../domain/intent-model';
import { ConversationViews, TurnView } from '../persistence/conversation-views';
import { VocabularyStore } from '../persistence/vocabulary';
import { TurnMetrics } from './turn-metrics';
import { TurnWaiter } from './turn-waiter';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export const conversationStream = (conversationId: string) => `conversation-${conversationId}`;

export class TurnSettings {
  constructor(
    /** How long a request waits for the other services to answer a turn before returning it pending. */
    readonly answerTimeoutMs: number,
    readonly maxUtteranceLength: number,
    /**
     * How long a turn may stay unanswered before the intent service answers it itself with an
     * error (a service down, an event dead-lettered): a shopper never polls a pending turn forever.
     */
    readonly deadlineMs = 60_000,
  ) {
    if (!Number.isInteger(deadlineMs) || deadlineMs < answerTimeoutMs) {
      throw new Error(
        `ASSENT_TURN_DEADLINE_MS must be a whole number of milliseconds, at least ASSENT_TURN_TIMEOUT_MS (${answerTimeoutMs}); got ${deadlineMs}`,
      );
    }
  }

  static fromEnvironment(env = process.env): TurnSettings {
    return new TurnSettings(
      Number(env.ASSENT_TURN_TIMEOUT_MS ?? 15000),
      4000,
      Number(env.ASSENT_TURN_DEADLINE_MS ?? 60_000),
    );
  }
}

/** The conversation use cases behind the shopper's HTTP API. */
@Injectable()
export class Conversations {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: EventStore,
    private readonly views: ConversationViews,
    private readonly vocabulary: VocabularyStore,
    private readonly waiter: TurnWaiter,
    private readonly relay: OutboxRelayRunner,
    private readonly settings: TurnSettings,
    @Inject(INTENT_MODEL) private readonly model: IntentModel,
    private readonly metrics: TurnMetrics,
  ) {}

  private readonly logger = new Logger('Conversations');

  async start(shopperId: string): Promise<string> {
    const conversationId = newEventId();
    await this.views.startConversation(this.dataSource.manager, conversationId, shopperId);
    return conversationId;
  }

  async assertOwner(conversationId: string, shopperId: string): Promise<void> {
    const owner = await this.views.ownerOf(this.dataSource.manager, conversationId);
    // Someone else's conversation looks exactly like a missing one.
    if (owner !== shopperId) throw new NotFoundException(`no conversation ${conversationId}`);
  }

  /** Records what the shopper said, decides what it means, and waits (bounded) for the turn's answer. */
  async say(conversationId: string, shopperId: string, text: string): Promise<TurnView> {
    await this.assertOwner(conversationId, shopperId);
    // PostgreSQL text cannot hold NUL or half a surrogate pair; they become U+FFFD, which still reads
    // as unreadable input.
    text = text.replaceAll('\u0000', '\uFFFD').replace(LONE_SURROGATE, '\uFFFD');
    const turnId = newEventId();
    const meta: EventMetadata = {
      correlationId: conversationId,
      causationId: null,
      actor: { kind: 'shopper', id: shopperId },
    };
    const streamId = conversationStream(conversationId);
    for (let attempt = 1; ; attempt++) {
      // Understanding happens outside the transaction (a model may be slow); the append's expected
      // version makes sure it was decided on the state it read.
      const history = await this.store.readStream(this.dataSource.manager, streamId);
      const state = foldEvents(conversationAggregate, history);
      const verdict = await understandWithProvenance(this.model, {
        text: text.slice(0, this.settings.maxUtteranceLength + 1),
        context: dialogueContext(state),
        vocabulary: await this.vocabulary.load(this.dataSource.manager),
      });
      const fallback = verdict.fallback ? { from: this.model.name, reason: verdict.fallback.reason } : null;
      if (fallback && attempt === 1) {
        // Reason and timing only: the shopper's words stay out of the log.
        this.logger.warn(
          `model fallback: ${fallback.from} -> rules (${fallback.reason}) after ${Math.round(verdict.modelMs)} ms`,
        );
      }
      this.metrics.understood(verdict.model.name, verdict.modelMs, fallback);
      const command: ConversationCommand = {
        type: 'ReceiveUtterance',
        turn: { conversationId, turnId },
        shopperId,
        text: text.slice(0, this.settings.maxUtteranceLength),
        understanding: verdict.understanding,
        model: verdict.model,
        fallback,
        modelMs: Math.round(verdict.modelMs * 1000) / 1000,
      };
      const decided = conversationAggregate.decide(command, state);
      try {
        await this.dataSource.transaction(async (manager) => {
          // What the shopper said is the cause of everything this turn decides.
          const [said] = await this.store.append(manager, streamId, history.length, decided.slice(0, 1), meta);
          const events = await this.store.append(manager, streamId, history.length + 1, decided.slice(1), {
            ...meta,
            causationId: said.eventId,
          });
          await this.views.openTurn(manager, turnId, conversationId, state.turns + 1);
          const immediate = events.find((e) => e.type === TurnAnswered.type);
          if (immediate) {
            const p = immediate.payload as PayloadOf<typeof TurnAnswered>;
            await this.views.answerTurn(manager, turnId, p.answer);
            this.metrics.answered(p.answer.kind, p.timings);
          }
        });
        break;
      } catch (error) {
        // A consumer answered an earlier turn meanwhile: understand and decide again on the new state.
        if (!(error instanceof StreamVersionConflictError) || attempt >= 5) throw error;
      }
    }
    this.relay.nudge();
    const turn = await this.waiter.wait(conversationId, turnId, this.settings.answerTimeoutMs);
    if (!turn) throw new Error(`turn ${turnId} was not recorded`);
    return turn;
  }

  async turn(conversationId: string, shopperId: string, turnId: string): Promise<TurnView> {
    await this.assertOwner(conversationId, shopperId);
    const turn = await this.views.turn(this.dataSource.manager, conversationId, turnId);
    if (!turn) throw new NotFoundException(`no turn ${turnId}`);
    return turn;
  }

  async transcript(conversationId: string, shopperId: string): Promise<TurnView[]> {
    await this.assertOwner(conversationId, shopperId);
    return this.views.turns(this.dataSource.manager, conversationId);
  }

  list(shopperId: string) {
    return this.views.listConversations(this.dataSource.manager, shopperId);
  }

  /** Another service's event answers a turn of this conversation (first answer wins): true if this one did. */
  async answerFromEvent(
    manager: EntityManager,
    answer: { turn: TurnRef; answer: TurnAnswer; dialogue: DialogueUpdate; catalogMs: number | null },
    meta: EventMetadata,
  ): Promise<boolean> {
    const streamId = conversationStream(answer.turn.conversationId);
    const history = await this.store.readStream(manager, streamId);
    const state = foldEvents(conversationAggregate, history);
    const timings = turnTimings(state, answer.turn.turnId, new Date(), answer.catalogMs);
    const events = await this.store.append(
      manager,
      streamId,
      history.length,
      conversationAggregate.decide({ type: 'AnswerTurn', ...answer, timings }, state),
      meta,
    );
    if (events.length === 0) return false;
    await this.views.answerTurn(manager, answer.turn.turnId, answer.answer);
    this.metrics.answered(answer.answer.kind, timings);
    this.waiter.answered(answer.turn.turnId);
    return true;
  }
}
