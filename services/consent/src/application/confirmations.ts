import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { CheckoutRequested, EventEnvelope, EventMetadata, newEventId, PayloadOf, TurnRef } from '@assent/contracts';
import { EventStore, executeCommand, foldEvents } from '@assent/eventstore';
import { confirmationAggregate, ConfirmationState } from '../domain/confirmation.aggregate';
import { ConsentPolicy } from '../domain/consent-policy';

export const confirmationStream = (confirmationId: string) => `confirmation-${confirmationId}`;

/** The consent use cases, shared by the event consumer (chat) and the HTTP API. */
@Injectable()
export class Confirmations {
  constructor(
    private readonly store: EventStore,
    private readonly policy: ConsentPolicy,
  ) {}

  async request(
    manager: EntityManager,
    checkout: PayloadOf<typeof CheckoutRequested>,
    meta: EventMetadata,
    cause: EventEnvelope,
  ) {
    // One confirmation per checkout request, so a redelivered request asks nothing twice.
    const confirmationId = `conf-${cause.eventId}`;
    return executeCommand(
      this.store,
      manager,
      confirmationAggregate,
      confirmationStream(confirmationId),
      {
        type: 'RequestConfirmation',
        confirmationId,
        checkout,
        nonce: randomBytes(24).toString('base64url'),
        now: new Date(),
        ttlSeconds: this.policy.confirmationTtlSeconds,
      },
      meta,
    );
  }

  async answer(
    manager: EntityManager,
    confirmationId: string,
    answer: { turn: TurnRef; shopperId: string; nonce: string; answer: 'yes' | 'no' },
    meta: EventMetadata,
  ) {
    return executeCommand(
      this.store,
      manager,
      confirmationAggregate,
      confirmationStream(confirmationId),
      {
        type: 'Answer',
        ...answer,
        now: new Date(),
        mandateId: `mandate-${newEventId()}`,
        mandateTtlSeconds: this.policy.mandateTtlSeconds,
        merchant: this.policy.merchant,
      },
      meta,
    );
  }

  async load(manager: EntityManager, confirmationId: string): Promise<ConfirmationState> {
    return foldEvents(confirmationAggregate, await this.store.readStream(manager, confirmationStream(confirmationId)));
  }
}
