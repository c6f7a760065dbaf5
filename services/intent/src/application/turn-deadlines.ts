import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { StreamVersionConflictError } from '@assent/eventstore';
import { overdueAnswer } from '../domain/replies';
import { ConversationViews } from '../persistence/conversation-views';
import { Conversations, TurnSettings } from './conversations';

/** Most overdue turns answered per sweep; the next sweep takes the rest. */
const SWEEP_LIMIT = 100;

/**
 * Answers turns that stayed unanswered past TurnSettings.deadlineMs (a service down, an event
 * dead-lettered) with an error, through the conversation aggregate like any other answer: the
 * first answer wins, so a late real answer changes nothing, and two replicas sweeping at once
 * conflict on the stream's version instead of answering twice.
 */
@Injectable()
export class TurnDeadlines implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('TurnDeadlines');
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<unknown> = Promise.resolve();
  private running = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly views: ConversationViews,
    private readonly conversations: Conversations,
    private readonly settings: TurnSettings,
  ) {}

  /** A quarter of the deadline, at most 5 s: how late after its deadline an overdue turn is answered. */
  private get intervalMs(): number {
    return Math.max(250, Math.min(5000, Math.floor(this.settings.deadlineMs / 4)));
  }

  onApplicationBootstrap(): void {
    // A hybrid app runs bootstrap hooks for the HTTP app and again for its microservice.
    if (this.running) return;
    this.running = true;
    this.schedule();
  }

  // On module destroy, as the outbox relay runner stops: no sweep outlives the service's database.
  async onModuleDestroy(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.sweeping;
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.sweeping = this.sweep()
        .catch((error: unknown) => this.logger.warn(`overdue-turn sweep failed: ${String(error)}`))
        .finally(() => this.schedule());
    }, this.intervalMs);
  }

  /** Answers the turns overdue now; returns how many it answered. */
  async sweep(): Promise<number> {
    const overdue = await this.views.overdueTurns(this.dataSource.manager, this.settings.deadlineMs, SWEEP_LIMIT);
    let answered = 0;
    for (const turn of overdue) {
      if (!this.running) break;
      try {
        const done = await this.dataSource.transaction((manager) =>
          this.conversations.answerFromEvent(
            manager,
            { turn, answer: overdueAnswer(), dialogue: {}, catalogMs: null },
            { correlationId: turn.conversationId, causationId: null, actor: { kind: 'system', id: 'intent' } },
          ),
        );
        if (done) answered++;
      } catch (error) {
        // Its real answer, or another replica's sweep, got there first.
        if (error instanceof StreamVersionConflictError) continue;
        throw error;
      }
    }
    if (answered > 0) this.logger.warn(`answered ${answered} overdue turn(s) with an error`);
    return answered;
  }
}
