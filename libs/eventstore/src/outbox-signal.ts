import { DataSource, EntityManager, EntitySubscriberInterface, QueryRunner } from 'typeorm';

/** Where a transaction notes the outboxes it wrote to, in its QueryRunner's user data. */
const KEY = 'assent.outboxWrites';

type Listener = (schema: string) => void;

const listeners = new WeakMap<DataSource, Set<Listener>>();

/** Called by EventStore.append: this transaction wrote outbox rows of `schema`. */
export function noteOutboxWrite(manager: EntityManager, schema: string): void {
  const data = manager.queryRunner?.data as Record<string, unknown> | undefined;
  if (!data) return;
  const schemas = (data[KEY] as Set<string> | undefined) ?? new Set<string>();
  schemas.add(schema);
  data[KEY] = schemas;
}

/**
 * Calls `listener(schema)` after each commit, on `dataSource`, of a transaction that appended to the
 * outbox of `schema`: the in-process relay can publish at once instead of at its next poll.
 * Returns the function that removes the listener.
 */
export function onOutboxCommit(dataSource: DataSource, listener: Listener): () => void {
  let set = listeners.get(dataSource);
  if (!set) {
    const registered = new Set<Listener>();
    set = registered;
    listeners.set(dataSource, registered);
    const take = (event: { queryRunner: QueryRunner }): Set<string> | undefined => {
      const runner = event.queryRunner;
      // A savepoint's release is not the commit.
      if (runner.isTransactionActive) return undefined;
      const data = runner.data as Record<string, unknown> | undefined;
      const schemas = data?.[KEY] as Set<string> | undefined;
      if (schemas) delete data![KEY];
      return schemas;
    };
    const subscriber: EntitySubscriberInterface = {
      afterTransactionCommit: (event) => {
        const schemas = take(event);
        if (schemas) for (const schema of schemas) for (const l of registered) l(schema);
      },
      afterTransactionRollback: (event) => void take(event),
    };
    dataSource.subscribers.push(subscriber);
  }
  set.add(listener);
  return () => set.delete(listener);
}
