import { Controller, Logger } from '@nestjs/common';
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
  private readonly logger = new Logger('Consent');

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
      // The handler's transaction commits right after it returns; a code whose hash was rolled back
      // is merely useless, and the shopper can ask for a new one.
      (deliver) =>
        setTimeout(
          () => deliver().catch((e: unknown) => this.logger.error(`step-up delivery failed: ${String(e)}`)),
          50,
        ),
    );
  }
}
