import { EventEmitter } from 'node:events';
import { PGlite, types } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';

/**
 * A pg-compatible pool over one in-process PGlite database, for TypeORM's postgres driver.
 *
 * PGlite is a single PostgreSQL session, so a "connection" here is exclusive use of that session:
 * `connect()` waits its turn and `release()` hands it on. That keeps a TypeORM transaction's
 * BEGIN..COMMIT from interleaving with anyone else's statements (the `typeorm-pglite` package shares
 * the session without such a lock, which breaks concurrent transactions). Several DataSources (one
 * per service schema in the embedded default) share the same lock through `PgliteHost`.
 */
export class PgliteHost {
  private queue: Array<() => void> = [];
  private busy = false;

  private constructor(readonly db: PGlite) {}

  /** `dataDir` undefined keeps the database in memory; a folder makes it survive a restart. */
  static async open(dataDir?: string): Promise<PgliteHost> {
    const db = await PGlite.create({
      dataDir,
      // Match node-postgres: int8 arrives as a string, never a silently rounded number.
      parsers: { [types.INT8]: (value: string) => value },
      // The catalog's typo-tolerant search needs trigrams, as on the server.
      extensions: { pg_trgm },
    });
    return new PgliteHost(db);
  }

  /** Waits for exclusive use of the session; the returned function gives it back. */
  acquire(timeoutMs: number): Promise<() => void> {
    return new Promise((resolve, reject) => {
      let done = false;
      const timer = setTimeout(() => {
        if (done) return;
        done = true;
        this.queue = this.queue.filter((w) => w !== grant);
        // Waiting this long means a caller holds the session while waiting for another one.
        reject(new Error(`PGlite session busy for ${timeoutMs} ms (nested use of a second connection?)`));
      }, timeoutMs);
      const grant = (): void => {
        if (done) return this.handOn();
        done = true;
        clearTimeout(timer);
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.handOn();
        });
      };
      if (this.busy) this.queue.push(grant);
      else {
        this.busy = true;
        grant();
      }
    });
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  private handOn(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.busy = false;
  }
}

interface PgResult {
  rows: unknown[];
  rowCount: number;
  command: string;
  fields: unknown[];
}

/** The subset of a node-postgres client that TypeORM's query runner uses. */
class PgliteClient extends EventEmitter {
  constructor(private readonly host: PgliteHost) {
    super();
  }

  async query(sql: string, params?: unknown[]): Promise<PgResult> {
    const db = this.host.db;
    // Without parameters pg uses the simple protocol, which allows several statements (migrations).
    if (!params || params.length === 0) {
      const results = await db.exec(sql);
      const last = results[results.length - 1];
      return toPgResult(sql, last?.rows ?? [], last?.affectedRows, last?.fields ?? []);
    }
    const result = await db.query(sql, params);
    return toPgResult(sql, result.rows, result.affectedRows, result.fields);
  }
}

function toPgResult(sql: string, rows: unknown[], affected: number | undefined, fields: unknown[]): PgResult {
  const command = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? '';
  return { rows, rowCount: command === 'SELECT' ? rows.length : (affected ?? rows.length), command, fields };
}

type ConnectCallback = (err: Error | null, client?: PgliteClient, release?: (err?: unknown) => void) => void;

/** What TypeORM receives as `driver`: a module-like object with a `Pool` class. */
export function pgliteDriver(host: PgliteHost, acquireTimeoutMs = 30_000): { Pool: new () => EventEmitter } {
  class PglitePool extends EventEmitter {
    connect(callback: ConnectCallback): void {
      host.acquire(acquireTimeoutMs).then(
        (release) => callback(null, new PgliteClient(host), () => release()),
        (err: Error) => callback(err),
      );
    }

    end(callback?: (err: Error | null) => void): void {
      // The host outlives any one DataSource; its owner closes it.
      callback?.(null);
    }
  }
  return { Pool: PglitePool };
}
