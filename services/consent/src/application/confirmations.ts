import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { EntityManager } from 'typeorm';
import {
  CheckoutRequested,
  EventEnvelope,
  EventMetadata,
  IntentCaptured,
  newEventId,
  PayloadOf,
  ProductsSuggested,
  TurnRef,
} from '@assent/contracts';
import { EventStore, executeCommand, foldEvents } from '@assent/eventstore';
import { MandateKeys, signCartMandate } from '@assent/mandates';
import {
  answerProblem,
  confirmationAggregate,
  ConfirmationState,
  mandateContent,
  StepUpOutcome,
} from '../domain/confirmation.aggregate';
import { ConsentPolicy } from '../domain/consent-policy';
import { checkWithinIntent, decideIntentMandate } from '../domain/intent-mandate';
import { IntentMandates } from '../persistence/intent-mandates';
import { StepUpCodes } from './step-up';

export const confirmationStream = (confirmationId: string) => `confirmation-${confirmationId}`;

/** Runs `after` once the caller's transaction has committed (a code is sent only for a stored hash). */
export type AfterCommit = (after: () => Promise<void>) => void;

/** The consent use cases, shared by the event consumer (chat) and the HTTP API. */
@Injectable()
export class Confirmations {
  constructor(
    private readonly store: EventStore,
    private readonly policy: ConsentPolicy,
    private readonly intentMandates: IntentMandates,
    private readonly stepUp: StepUpCodes,
    private readonly keys: MandateKeys,
  ) {}

  /** Records what the shopper asked for as an intent mandate, before anything can be put in a cart for it. */
  async recordIntent(manager: EntityManager, captured: PayloadOf<typeof IntentCaptured>, meta: EventMetadata) {
    const draft = decideIntentMandate(captured, new Date(), this.policy.intentMandateTtlSeconds);
    const p = draft.payload as { intentMandateId: string; bounds: never; expiresAt: string };
    await this.store.append(manager, p.intentMandateId, 0, [draft], meta);
    await this.intentMandates.save(manager, {
      intentMandateId: p.intentMandateId,
      turnId: captured.turnId,
      conversationId: captured.conversationId,
      shopperId: captured.shopperId,
      bounds: p.bounds,
      expiresAt: p.expiresAt,
    });
  }

  async noteSuggestion(manager: EntityManager, event: EventEnvelope<PayloadOf<typeof ProductsSuggested>>) {
    await this.intentMandates.noteSuggestion(manager, event.eventId, event.payload.turnId);
  }

  async request(
    manager: EntityManager,
    checkout: PayloadOf<typeof CheckoutRequested>,
    meta: EventMetadata,
    cause: EventEnvelope,
  ) {
    // One confirmation per checkout request, so a redelivered request asks nothing twice.
    const confirmationId = `conf-${cause.eventId}`;
    const origins = await this.intentMandates.forSuggestions(manager, Object.values(checkout.lineOrigins));
    const now = new Date();
    const within = checkWithinIntent(
      checkout.summary,
      checkout.shopperId,
      (itemId) => origins.get(checkout.lineOrigins[itemId]),
      now,
    );
    return executeCommand(
      this.store,
      manager,
      confirmationAggregate,
      confirmationStream(confirmationId),
      {
        type: 'RequestConfirmation',
        confirmationId,
        checkout,
        within,
        stepUpThreshold: this.policy.stepUpThreshold,
        nonce: randomBytes(24).toString('base64url'),
        now,
        ttlSeconds: this.policy.confirmationTtlSeconds,
      },
      meta,
    );
  }

  /**
   * A shopper's answer. For a "yes" that would grant, the step-up code is handled first (issued, or
   * checked) and the mandate is signed over exactly the confirmed state; then the aggregate decides.
   */
  async answer(
    manager: EntityManager,
    confirmationId: string,
    answer: { turn: TurnRef; shopperId: string; nonce: string; answer: 'yes' | 'no'; code?: string },
    meta: EventMetadata,
    afterCommit: AfterCommit,
  ) {
    const streamId = confirmationStream(confirmationId);
    const history = await this.store.readStream(manager, streamId);
    const state = foldEvents(confirmationAggregate, history);
    const now = new Date();
    let stepUp: StepUpOutcome = 'not_needed';
    let stepUpExpiresAt: string | undefined;
    let mandate: { mandateId: string; expiresAt: string; merchant: string; jws: string } | undefined;
    if (answer.answer === 'yes' && !answerProblem(state, { ...answer, now })) {
      if (state.stepUp) {
        if (answer.code) stepUp = await this.stepUp.verify(manager, confirmationId, answer.code, now);
        else {
          const issued = await this.stepUp.issue(manager, confirmationId, now);
          stepUp = 'code_sent';
          stepUpExpiresAt = issued.expiresAt;
          afterCommit(() => issued.deliver(answer.shopperId));
        }
      }
      if (!state.stepUp || stepUp === 'verified') {
        const mandateId = `mandate-${newEventId()}`;
        const expiresAt = new Date(now.getTime() + this.policy.mandateTtlSeconds * 1000);
        const jws = await signCartMandate(
          this.keys,
          mandateContent(state, mandateId, this.policy.merchant),
          now,
          expiresAt,
        );
        mandate = { mandateId, expiresAt: expiresAt.toISOString(), merchant: this.policy.merchant, jws };
      }
    }
    const events = await this.store.append(
      manager,
      streamId,
      history.length,
      confirmationAggregate.decide({ type: 'Answer', ...answer, now, stepUp, stepUpExpiresAt, mandate }, state),
      meta,
    );
    return { events };
  }

  async load(manager: EntityManager, confirmationId: string): Promise<ConfirmationState> {
    return foldEvents(confirmationAggregate, await this.store.readStream(manager, confirmationStream(confirmationId)));
  }
}
