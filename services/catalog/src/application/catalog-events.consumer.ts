import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { HandlerContext, HandlesEvent } from '@assent/bus';
import { causedBy, EventEnvelope, IntentCaptured, PayloadOf } from '@assent/contracts';
import { EventStore } from '@assent/eventstore';
import { rankCandidates, RANKER_VERSION } from '../domain/ranking';
import { decideSuggestion } from '../domain/suggestion';
import { CatalogRepository } from '../persistence/catalog-repository';

/** A captured intent becomes one search and one suggestion (or no-match) event for that turn. */
@Controller()
export class CatalogEventsConsumer {
  constructor(
    private readonly store: EventStore,
    private readonly catalog: CatalogRepository,
  ) {}

  @HandlesEvent(IntentCaptured.type)
  async onIntentCaptured(
    @Payload() event: EventEnvelope<PayloadOf<typeof IntentCaptured>>,
    @Ctx() ctx: HandlerContext,
  ) {
    const captured = event.payload;
    const started = performance.now();
    const candidates = await this.catalog.findCandidates(ctx.manager, captured.intent);
    const ranked = rankCandidates(captured.intent, candidates);
    const draft = decideSuggestion(captured, ranked, {
      ranker: RANKER_VERSION,
      model: `${captured.model.name}/${captured.model.version}`,
    });
    (draft.payload as { searchMs?: number }).searchMs = Math.round((performance.now() - started) * 1000) / 1000;
    // One search per turn: the stream's expected version 0 refuses a second answer to it.
    await this.store.append(ctx.manager, `search-${captured.turnId}`, 0, [draft], causedBy(event));
  }
}
