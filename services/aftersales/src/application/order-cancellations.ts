import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { OrderCancelled, PayloadOf } from '@assent/contracts';
import { EventStore, executeCommand, foldEvents } from '@assent/eventstore';
import { CancelReason, OrderCancellationRefused, orderAggregate } from '../domain/order.aggregate';
import { AftersalesRepository } from '../persistence/aftersales-repository';

/** How long after placing an order the shopper can undo it at no cost (while it is still pending). */
export class UndoWindow {
  constructor(readonly seconds: number) {}
  static fromEnvironment(env = process.env): UndoWindow {
    return new UndoWindow(Number(env.ASSENT_UNDO_WINDOW_SECONDS ?? 1800));
  }
}

@Injectable()
export class OrderCancellations {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: EventStore,
    private readonly orders: AftersalesRepository,
    private readonly window: UndoWindow,
  ) {}

  async cancel(orderId: string, shopperId: string, reason: CancelReason) {
    return this.dataSource.transaction(async (manager) => {
      const state = foldEvents(orderAggregate, await this.store.readStream(manager, orderId));
      // Someone else's order, or one Assent did not place, looks like no order at all.
      if (state.orderId === null || state.shopperId !== shopperId) throw new NotFoundException(`no order ${orderId}`);
      let cancelled: PayloadOf<typeof OrderCancelled>;
      try {
        const { events } = await executeCommand(
          this.store,
          manager,
          orderAggregate,
          orderId,
          { type: 'CancelOrder', orderId, shopperId, reason, now: new Date(), undoWindowSeconds: this.window.seconds },
          {
            correlationId: state.conversationId ?? orderId,
            causationId: null,
            actor: { kind: 'shopper', id: shopperId },
          },
        );
        cancelled = events[0].payload as PayloadOf<typeof OrderCancelled>;
      } catch (error) {
        if (error instanceof OrderCancellationRefused) throw new ConflictException(error.message);
        throw error;
      }
      const view = (await this.orders.getOrder(manager, orderId))!;
      const updated = {
        ...view,
        status: 'cancelled' as const,
        cancelReason: reason,
        paymentHistory: [
          ...view.paymentHistory,
          ...cancelled.refunds.map((r) => ({ transactionType: 'refund' as const, ...r })),
        ],
      };
      await this.orders.saveOrder(manager, updated);
      return updated;
    });
  }
}
