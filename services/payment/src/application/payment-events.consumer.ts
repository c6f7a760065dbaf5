import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { HandlerContext, HandlesEvent, PermanentHandlerError } from '@assent/bus';
import {
  CartCheckedOut,
  CartMandateGranted,
  causedBy,
  EventEnvelope,
  IntentMandateCreated,
  ItemAdded,
  ItemRemoved,
  OrderCancelled,
  PayloadOf,
  PricingPolicy,
  ProductCatalogued,
} from '@assent/contracts';
import { EventStore, executeCommand, foldEvents } from '@assent/eventstore';
import { MandateKeys, verifyCartMandate } from '@assent/mandates';
import { checkMandate, signedFieldsProblem } from '../domain/mandate-verification';
import { choosePaymentMethod } from '../domain/payment-method-choice';
import {
  authorizeKey,
  captureKey,
  paymentAggregate,
  PaymentCommand,
  paymentIdFor,
  paymentStreamId,
} from '../domain/payment.aggregate';
import { MandateChecks } from '../persistence/mandate-checks';
import { SandboxPaymentProvider } from '../persistence/sandbox-payment-provider';

type Attempt = Extract<PaymentCommand, { type: 'Authorize' }>['attempt'];

/**
 * A granted cart mandate is paid once, and only if it holds up: consent's signature with a known key
 * id, not expired, not spent before (the database says), the exact cart it binds still live at the
 * same prices, within what the shopper asked for. Provider calls carry idempotency keys derived from
 * the mandate and run in the handler's transaction.
 */
@Controller()
export class PaymentEventsConsumer {
  constructor(
    private readonly store: EventStore,
    private readonly provider: SandboxPaymentProvider,
    private readonly checks: MandateChecks,
    private readonly keys: MandateKeys,
    private readonly pricing: PricingPolicy,
  ) {}

  @HandlesEvent(ProductCatalogued.type)
  async onProduct(@Payload() event: EventEnvelope<PayloadOf<typeof ProductCatalogued>>, @Ctx() ctx: HandlerContext) {
    await this.checks.applyProduct(ctx.manager, event.payload);
  }

  @HandlesEvent(IntentMandateCreated.type)
  async onIntentMandate(
    @Payload() event: EventEnvelope<PayloadOf<typeof IntentMandateCreated>>,
    @Ctx() ctx: HandlerContext,
  ) {
    await this.checks.applyIntentMandate(ctx.manager, event.payload);
  }

  @HandlesEvent(ItemAdded.type)
  async onItemAdded(@Payload() event: EventEnvelope<PayloadOf<typeof ItemAdded>>, @Ctx() ctx: HandlerContext) {
    await this.checks.applyCartChange(ctx.manager, event.payload.cartId, event.payload.shopperId, {
      added: event.payload,
    });
  }

  @HandlesEvent(ItemRemoved.type)
  async onItemRemoved(@Payload() event: EventEnvelope<PayloadOf<typeof ItemRemoved>>, @Ctx() ctx: HandlerContext) {
    const p = event.payload;
    await this.checks.applyCartChange(ctx.manager, p.cartId, p.shopperId, { removedItemId: p.itemId });
  }

  @HandlesEvent(CartCheckedOut.type)
  async onCartCheckedOut(
    @Payload() event: EventEnvelope<PayloadOf<typeof CartCheckedOut>>,
    @Ctx() ctx: HandlerContext,
  ) {
    const p = event.payload;
    await this.checks.applyCartChange(ctx.manager, p.cartId, p.shopperId, { emptied: true });
  }

  /** A cancelled order's payments go back where they came from, once (idempotency keys per refund). */
  @HandlesEvent(OrderCancelled.type)
  async onOrderCancelled(
    @Payload() event: EventEnvelope<PayloadOf<typeof OrderCancelled>>,
    @Ctx() ctx: HandlerContext,
  ) {
    const p = event.payload;
    const streamId = `refund-${p.orderId}`;
    const history = await this.store.readStream(ctx.manager, streamId);
    if (history.length > 0) return;
    const refunds = [];
    for (const [i, r] of p.refunds.entries()) {
      const result = await this.provider.refund(ctx.manager, {
        idempotencyKey: `refund:${p.orderId}:${i}`,
        paymentMethodId: r.paymentMethodId,
        shopperId: p.shopperId,
        amount: r.amount,
      });
      // The sandbox refunds what it charged; a refusal here is an operator's problem, never silent.
      if (result.outcome !== 'approved')
        throw new PermanentHandlerError(`refund of ${p.orderId} refused: ${result.reason}`);
      refunds.push({
        type: 'payment.RefundIssued',
        payload: {
          refundId: `${p.orderId}:${i}`,
          orderId: p.orderId,
          shopperId: p.shopperId,
          amount: r.amount,
          paymentMethodId: r.paymentMethodId,
          providerReference: result.reference,
        },
      });
    }
    await this.store.append(
      ctx.manager,
      streamId,
      0,
      refunds,
      causedBy(event, { actor: { kind: 'system', id: 'payment' } }),
    );
  }

  @HandlesEvent(CartMandateGranted.type)
  async onMandateGranted(
    @Payload() event: EventEnvelope<PayloadOf<typeof CartMandateGranted>>,
    @Ctx() ctx: HandlerContext,
  ) {
    const mandate = event.payload;
    const meta = causedBy(event, { actor: { kind: 'system', id: 'payment' } });
    const streamId = paymentStreamId(mandate.mandateId);
    const state = foldEvents(paymentAggregate, await this.store.readStream(ctx.manager, streamId));
    const now = new Date();
    if (state.status !== 'new') {
      // The same mandate again: it was decided already. Say so on the record; charge nothing.
      await this.store.append(
        ctx.manager,
        `payment-replay-${event.eventId}`,
        0,
        [
          {
            type: 'payment.PaymentRejected',
            payload: {
              conversationId: mandate.conversationId,
              turnId: mandate.turnId,
              paymentId: paymentIdFor(mandate.mandateId),
              mandateId: mandate.mandateId,
              shopperId: mandate.shopperId,
              cartId: mandate.cartId,
              code: 'replayed_mandate',
              reason: 'this mandate was used already',
              reconfirm: false,
            },
          },
        ],
        meta,
      );
      return;
    }
    const attempt = await this.attempt(ctx, mandate, now);
    let capture: Extract<PaymentCommand, { type: 'Authorize' }>['capture'];
    if (!('refused' in attempt) && attempt.result.outcome === 'approved') {
      capture = await this.provider.capture(ctx.manager, {
        idempotencyKey: captureKey(mandate.mandateId),
        authorizationReference: attempt.result.reference,
        shopperId: mandate.shopperId,
        amount: mandate.amount,
      });
    }
    await executeCommand(
      this.store,
      ctx.manager,
      paymentAggregate,
      streamId,
      { type: 'Authorize', mandate, now, attempt, capture },
      meta,
    );
  }

  /** Everything that must hold before money moves; the first failure is the refusal. */
  private async attempt(
    ctx: HandlerContext,
    mandate: PayloadOf<typeof CartMandateGranted>,
    now: Date,
  ): Promise<Attempt> {
    const verified = await verifyCartMandate(this.keys, mandate.jws, now);
    if (!verified.ok) return { refused: verified.reason, code: verified.code, reconfirm: false };
    const { claims } = verified;
    const mismatch = signedFieldsProblem(mandate, claims);
    if (mismatch) return mismatch;
    if (!(await this.checks.spend(ctx.manager, claims.jti, paymentIdFor(claims.jti)))) {
      return { refused: 'this mandate was used already', code: 'replayed_mandate', reconfirm: false };
    }
    const liveCart = await this.checks.liveCart(ctx.manager, claims.cart.id);
    const refusal = checkMandate({
      event: mandate,
      claims,
      liveCart,
      prices: await this.checks.prices(ctx.manager, liveCart?.lines.map((l) => l.itemId) ?? []),
      intentMandates: await this.checks.intentMandates(ctx.manager, claims.intentMandates),
      pricing: this.pricing,
      now,
    });
    if (refusal) return refusal;
    const choice = choosePaymentMethod(await this.provider.listMethods(ctx.manager, mandate.shopperId), mandate.amount);
    if (!choice.ok) return { refused: choice.reason, code: 'no_payment_method', reconfirm: false };
    const result = await this.provider.authorize(ctx.manager, {
      idempotencyKey: authorizeKey(mandate.mandateId),
      paymentMethodId: choice.method.id,
      shopperId: mandate.shopperId,
      amount: mandate.amount,
    });
    return { paymentMethodId: choice.method.id, result };
  }
}
