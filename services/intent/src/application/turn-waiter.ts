import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ConversationViews, TurnView } from '../persistence/conversation-views';

/**
 * Waits for a turn's answer, which other services' events produce asynchronously. The consumer
 * pokes it when it answers a turn in this process; polling covers answers written elsewhere.
 */
@Injectable()
export class TurnWaiter {
  private readonly waiting = new Map<string, Set<() => void>>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly views: ConversationViews,
  ) {}

  answered(turnId: string): void {
    // The consumer's transaction commits just after its handler returns.
    for (const wake of this.waiting.get(turnId) ?? []) setTimeout(wake, 2);
  }

  async wait(conversationId: string, turnId: string, timeoutMs: number): Promise<TurnView | null> {
    const deadline = Date.now() + timeoutMs;
    let delay = 5;
    for (;;) {
      const turn = await this.views.turn(this.dataSource.manager, conversationId, turnId);
      if (!turn || turn.answer || Date.now() >= deadline) return turn;
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiting.get(turnId)?.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, Math.min(delay, Math.max(1, deadline - Date.now())));
        const set = this.waiting.get(turnId) ?? new Set();
        set.add(wake);
        this.waiting.set(turnId, set);
      });
      if (this.waiting.get(turnId)?.size === 0) this.waiting.delete(turnId);
      delay = Math.min(delay * 2, 50);
    }
  }
}
