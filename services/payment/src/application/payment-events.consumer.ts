import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { HandlerContext, HandlesEvent } from '@assent/bus';
import { CartMandateGranted, causedBy, EventEnvelope, PayloadOf } from '@assent/contracts';
import { EventStore, executeCommand, foldEvents } from '@assent/eventstore';
import { choosePaymentMethod } from '../domain/payment-method-choice';
import {
  authorizeKey,
  captureKey,
  mandateProblem,
  paymentAggregate,
  PaymentCommand,
  paymentStreamId,
} from '../domain/payment.aggregate';
import { SandboxPaymentProvider } from '../persistence/sandbox-payment-provider';

/**
 * A granted cart mandate is paid once: the provider calls carry idempotency keys derived from the
 * mandate and run in the handler's transaction, and the payment stream per mandate decides only once.
 */
@Controller()
export class PaymentEventsConsumer {
  constructor(
    private readonly store: EventStore,
    private readonly provider: SandboxPaymentProvider,
  ) {}

  @HandlesEvent(CartMandateGranted.type)
  async onMandateGranted(
    @Payload() event: EventEnvelope<PayloadOf<typeof CartMandateGranted>>,
    @Ctx() ctx: HandlerContext,
  ) {
    const mandate = event.payload;
    const streamId = paymentStreamId(mandate.mandateId);
    const state = foldEvents(paymentAggregate, await this.store.readStream(ctx.manager, streamId));
    if (state.status !== 'new') return;
    const now = new Date();
    let attempt: Extract<PaymentCommand, { type: 'Authorize' }>['attempt'];
    let capture: Extract<PaymentCommand, { type: 'Authorize' }>['capture'];
    const problem = mandateProblem(mandate, now);
    const choice = problem
      ? null
      : choosePaymentMethod(await this.provider.listMethods(ctx.manager, mandate.shopperId), mandate.amount);
    if (problem) attempt = { refused: problem };
    else if (!choice!.ok) attempt = { refused: choice!.reason };
    else {
      const request = { paymentMethodId: choice!.method.id, shopperId: mandate.shopperId, amount: mandate.amount };
      const result = await this.provider.authorize(ctx.manager, {
        ...request,
        idempotencyKey: authorizeKey(mandate.mandateId),
      });
      attempt = { paymentMethodId: choice!.method.id, result };
      if (result.outcome === 'approved') {
        capture = await this.provider.capture(ctx.manager, {
          idempotencyKey: captureKey(mandate.mandateId),
          authorizationReference: result.reference,
          shopperId: mandate.shopperId,
          amount: mandate.amount,
        });
      }
    }
    await executeCommand(
      this.store,
      ctx.manager,
      paymentAggregate,
      streamId,
      { type: 'Authorize', mandate, now, attempt, capture },
      causedBy(event, { actor: { kind: 'system', id: 'payment' } }),
    );
  }
}
