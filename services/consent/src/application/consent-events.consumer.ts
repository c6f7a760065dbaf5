import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { HandlerContext, HandlesEvent } from '@assent/bus';
import {
  causedBy,
  CheckoutRequested,
  ConfirmationAnswered,
  EventEnvelope,
  IntentCaptured,
  PayloadOf,
  ProductsSuggested,
} from '@assent/contracts';
import { Confirmations } from './confirmations';

@Controller()
export class ConsentEventsConsumer {
  constructor(private readonly confirmations: Confirmations) {}

  @HandlesEvent(IntentCaptured.type)
  async onIntentCaptured(
    @Payload() event: EventEnvelope<PayloadOf<typeof IntentCaptured>>,
    @Ctx() ctx: HandlerContext,
  ) {
    await this.confirmations.recordIntent(
      ctx.manager,
      event.payload,
      causedBy(event, { actor: { kind: 'system', id: 'consent' } }),
    );
  }

  @HandlesEvent(ProductsSuggested.type)
  async onProductsSuggested(
    @Payload() event: EventEnvelope<PayloadOf<typeof ProductsSuggested>>,
    @Ctx() ctx: HandlerContext,
  ) {
    await this.confirmations.noteSuggestion(ctx.manager, event);
  }

  @HandlesEvent(CheckoutRequested.type)
  async onCheckoutRequested(
    @Payload() event: EventEnvelope<PayloadOf<typeof CheckoutRequested>>,
    @Ctx() ctx: HandlerContext,
  ) {
    await this.confirmations.request(ctx.manager, event.payload, causedBy(event), event);
  }

  /** A chat answer: the intent service relays the shopper's words; consent alone judges them. */
  @HandlesEvent(ConfirmationAnswered.type)
  async onConfirmationAnswered(
    @Payload() event: EventEnvelope<PayloadOf<typeof ConfirmationAnswered>>,
    @Ctx() ctx: HandlerContext,
  ) {
    const p = event.payload;
    await this.confirmations.answer(
      ctx.manager,
      p.confirmationId,
      {
        turn: { conversationId: p.conversationId, turnId: p.turnId },
        shopperId: p.shopperId,
        nonce: p.nonce,
        answer: p.answer,
        code: p.code,
      },
      causedBy(event),
      // The code reaches the shopper only once its hash is committed, never for a rolled-back try.
      ctx.afterCommit,
    );
  }
}
