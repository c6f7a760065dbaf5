import { DataSource } from 'typeorm';
import { eventStoreMigration, quoteIdent, SchemaMigration, toTypeormMigrations } from './migrations';
import { PgliteHost, pgliteDriver } from './pglite-pool';

/** Where a service keeps its schema: a PostgreSQL server, or PGlite in process (embedded default). */
export type DatabaseTarget =
  { kind: 'postgres'; url: string; poolSize?: number } | { kind: 'pglite'; host: PgliteHost };

export interface ServiceDatabaseOptions {
  /** The service's own schema; every table it owns lives there. */
  schema: string;
  target: DatabaseTarget;
  /** Migrations after the event store's own, in order. */
  migrations?: SchemaMigration[];
  applicationName?: string;
}

/**
 * True for a database inside this process (PGlite, which TypeORM gets as a custom driver): every
 * commit on it is made here, so an in-process signal can stand in for polling.
 */
export function isInProcessDatabase(dataSource: DataSource): boolean {
  return (dataSource.options as { driver?: unknown }).driver !== undefined;
}

/**
 * Opens a service's DataSource and brings its schema up to date with migrations (never
 * `synchronize`). The same SQL runs on PostgreSQL and on PGlite.
 */
export async function openServiceDatabase(options: ServiceDatabaseOptions): Promise<DataSource> {
  const { schema, target } = options;
  quoteIdent(schema);
  const common = {
    type: 'postgres' as const,
    schema,
    migrationsTableName: 'migrations',
    migrations: toTypeormMigrations(schema, [eventStoreMigration, ...(options.migrations ?? [])]),
    migrationsTransactionMode: 'each' as const,
    synchronize: false,
    applicationName: options.applicationName ?? `assent-${schema}`,
  };
  const dataSource =
    target.kind === 'postgres'
      ? new DataSource({ ...common, url: target.url, poolSize: target.poolSize ?? 10 })
      : new DataSource({ ...common, driver: pgliteDriver(target.host) });
  await dataSource.initialize();
  try {
    // TypeORM keeps its migrations table inside the schema, so the schema must exist first.
    await dataSource.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    await dataSource.runMigrations();
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
  return dataSource;
}
