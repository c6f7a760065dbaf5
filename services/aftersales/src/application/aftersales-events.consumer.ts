import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { HandlerContext, HandlesEvent, PermanentHandlerError } from '@assent/bus';
import { causedBy, EventEnvelope, OrderPlaced, PayloadOf, PaymentAuthorized } from '@assent/contracts';
import { EventStore, executeCommand } from '@assent/eventstore';
import { resolveOrderId } from '../domain/order-id';
import { orderViewFromPlaced } from '../domain/order-view';
import { orderAggregate } from '../domain/order.aggregate';
import { AftersalesRepository } from '../persistence/aftersales-repository';

/** A paid mandate becomes exactly one order, shipped to the customer's address on file. */
@Controller()
export class AftersalesEventsConsumer {
  constructor(
    private readonly store: EventStore,
    private readonly orders: AftersalesRepository,
  ) {}

  @HandlesEvent(PaymentAuthorized.type)
  async onPaymentAuthorized(
    @Payload() event: EventEnvelope<PayloadOf<typeof PaymentAuthorized>>,
    @Ctx() ctx: HandlerContext,
  ) {
    const payment = event.payload;
    if (await this.orders.findOrderByMandate(ctx.manager, payment.mandateId)) return;
    const address = await this.orders.customerAddress(ctx.manager, payment.shopperId);
    // Paid but nowhere to ship: a dead letter an operator must resolve (refund or address), never a guess.
    if (!address) throw new PermanentHandlerError(`no address on file for shopper ${payment.shopperId}`);
    const orderId = await resolveOrderId(payment.mandateId, async (id) => {
      const existing = await this.orders.getOrder(ctx.manager, id);
      return existing ? { mandateId: existing.mandateId } : null;
    });
    const { events } = await executeCommand(
      this.store,
      ctx.manager,
      orderAggregate,
      orderId,
      { type: 'PlaceOrder', orderId, payment, address },
      causedBy(event, { actor: { kind: 'system', id: 'aftersales' } }),
    );
    const placed = events.find((e) => e.type === OrderPlaced.type);
    if (placed)
      await this.orders.saveOrder(ctx.manager, orderViewFromPlaced(placed.payload as PayloadOf<typeof OrderPlaced>));
  }
}
