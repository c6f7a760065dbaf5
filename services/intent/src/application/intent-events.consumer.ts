import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { HandlerContext, HandlesEvent } from '@assent/bus';
import {
  CartRequestRefused,
  causedBy,
  ConfirmationRequested,
  ConsentRefused,
  EventEnvelope,
  ItemAdded,
  ItemRemoved,
  NoMatchFound,
  OrderPlaced,
  PayloadOf,
  PaymentRejected,
  ProductCatalogued,
  ProductsSuggested,
  StepUpRequired,
  TurnRef,
} from '@assent/contracts';
import { turnAnswerFor } from '../domain/replies';
import { VocabularyStore } from '../persistence/vocabulary';
import { Conversations } from './conversations';

/** Turns other services' events into answers to the conversation turns that caused them. */
@Controller()
export class IntentEventsConsumer {
  constructor(
    private readonly conversations: Conversations,
    private readonly vocabulary: VocabularyStore,
  ) {}

  @HandlesEvent(ProductCatalogued.type)
  async onProductCatalogued(
    @Payload() event: EventEnvelope<PayloadOf<typeof ProductCatalogued>>,
    @Ctx() ctx: HandlerContext,
  ) {
    await this.vocabulary.apply(ctx.manager, event.payload);
  }

  @HandlesEvent(ProductsSuggested.type)
  onProductsSuggested(@Payload() event: EventEnvelope, @Ctx() ctx: HandlerContext) {
    return this.answer(event, ctx);
  }

  @HandlesEvent(NoMatchFound.type)
  onNoMatchFound(@Payload() event: EventEnvelope, @Ctx() ctx: HandlerContext) {
    return this.answer(event, ctx);
  }

  @HandlesEvent(ItemAdded.type)
  onItemAdded(@Payload() event: EventEnvelope, @Ctx() ctx: HandlerContext) {
    return this.answer(event, ctx);
  }

  @HandlesEvent(ItemRemoved.type)
  onItemRemoved(@Payload() event: EventEnvelope, @Ctx() ctx: HandlerContext) {
    return this.answer(event, ctx);
  }

  @HandlesEvent(CartRequestRefused.type)
  onCartRequestRefused(@Payload() event: EventEnvelope, @Ctx() ctx: HandlerContext) {
    return this.answer(event, ctx);
  }

  @HandlesEvent(ConfirmationRequested.type)
  onConfirmationRequested(@Payload() event: EventEnvelope, @Ctx() ctx: HandlerContext) {
    return this.answer(event, ctx);
  }

  @HandlesEvent(ConsentRefused.type)
  onConsentRefused(@Payload() event: EventEnvelope, @Ctx() ctx: HandlerContext) {
    return this.answer(event, ctx);
  }

  @HandlesEvent(StepUpRequired.type)
  onStepUpRequired(@Payload() event: EventEnvelope, @Ctx() ctx: HandlerContext) {
    return this.answer(event, ctx);
  }

  @HandlesEvent(PaymentRejected.type)
  onPaymentRejected(@Payload() event: EventEnvelope, @Ctx() ctx: HandlerContext) {
    return this.answer(event, ctx);
  }

  @HandlesEvent(OrderPlaced.type)
  onOrderPlaced(@Payload() event: EventEnvelope, @Ctx() ctx: HandlerContext) {
    return this.answer(event, ctx);
  }

  private async answer(event: EventEnvelope, ctx: HandlerContext): Promise<void> {
    const result = turnAnswerFor(event);
    if (!result) return;
    const { conversationId, turnId } = event.payload as TurnRef;
    const searchMs = (event.payload as { searchMs?: number }).searchMs;
    await this.conversations.answerFromEvent(
      ctx.manager,
      { turn: { conversationId, turnId }, ...result, catalogMs: searchMs ?? null },
      causedBy(event, { actor: { kind: 'system', id: 'intent' } }),
    );
  }
}
