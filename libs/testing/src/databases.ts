import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DatabaseTarget, PgliteHost } from '@assent/eventstore';

/** The PostgreSQL server tests create their throwaway databases on. */
export function testServerUrl(database = 'postgres'): string {
  const base = process.env.ASSENT_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const url = new URL(base);
  url.pathname = `/${database}`;
  return url.toString();
}

export function kafkaBrokers(): string[] {
  return (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
}

/** A short random suffix so test runs sharing a broker and a server never meet. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

export interface TestDatabase {
  target: DatabaseTarget;
  /** For assertions that bypass the application (raw SQL as another client). */
  url?: string;
  host?: PgliteHost;
  drop(): Promise<void>;
}

/** A fresh, empty PostgreSQL database on the real server; `drop` removes it. */
export async function createPostgresDatabase(): Promise<TestDatabase> {
  const name = uniqueName('assent_test');
  const admin = new Client({ connectionString: testServerUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = testServerUrl(name);
  return {
    target: { kind: 'postgres', url, poolSize: 20 },
    url,
    drop: async () => {
      const c = new Client({ connectionString: testServerUrl() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** A fresh in-memory PGlite database (or on disk, to test restarts). */
export async function createPgliteDatabase(dataDir?: string): Promise<TestDatabase> {
  const host = await PgliteHost.open(dataDir);
  return { target: { kind: 'pglite', host }, host, drop: () => host.close() };
}
