import { EntityManager } from 'typeorm';
import { EventDraft, EventEnvelope, EventMetadata } from '@assent/contracts';
import { EventStore } from './event-store';

/**
 * An event-sourced aggregate as two pure functions: `decide` turns a command and the current state
 * into events (or throws a domain error), `evolve` folds one event into the state.
 */
export interface Aggregate<S, C> {
  readonly initialState: S;
  decide(command: C, state: S): EventDraft[];
  evolve(state: S, event: EventEnvelope): S;
}

export function foldEvents<S>(
  aggregate: Pick<Aggregate<S, never>, 'initialState' | 'evolve'>,
  events: EventEnvelope[],
): S {
  return events.reduce((state, event) => aggregate.evolve(state, event), aggregate.initialState);
}

/**
 * Load, decide, append with the expected version, in the caller's transaction. A concurrent writer
 * makes the append fail with StreamVersionConflictError, never a lost update.
 */
export async function executeCommand<S, C>(
  store: EventStore,
  manager: EntityManager,
  aggregate: Aggregate<S, C>,
  streamId: string,
  command: C,
  meta: EventMetadata,
): Promise<{ state: S; events: EventEnvelope[] }> {
  const history = await store.readStream(manager, streamId);
  const state = foldEvents(aggregate, history);
  const events = await store.append(manager, streamId, history.length, aggregate.decide(command, state), meta);
  return { state: foldEvents({ initialState: state, evolve: aggregate.evolve }, events), events };
}
