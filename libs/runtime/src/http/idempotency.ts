import { createHash } from 'node:crypto';
import {
  BadRequestException,
  CallHandler,
  ConflictException,
  ExecutionContext,
  HttpException,
  Injectable,
  NestInterceptor,
  UnprocessableEntityException,
} from '@nestjs/common';
import { OpenAPIObject } from '@nestjs/swagger';
import { catchError, defer, from, mergeMap, Observable, of, throwError } from 'rxjs';
import { DataSource } from 'typeorm';
import { quoteIdent, SchemaMigration } from '@assent/eventstore';
import { Principal } from './auth';
import { toProblem } from './problem';

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
export const IDEMPOTENT_REPLAYED_HEADER = 'Idempotent-Replayed';
/** 1–200 visible ASCII characters: room for a UUID or a client's own composite key, nothing unprintable. */
const VALID_KEY = /^[\x21-\x7e]{1,200}$/;

/**
 * Every service remembers the POSTs it answered under an Idempotency-Key, in its own schema: the
 * shopper (keys are theirs, so two shoppers' keys never meet), the key, what was asked (its
 * fingerprint) and, once answered, the answer to send again.
 */
export const idempotencyMigration: SchemaMigration = {
  name: 'IdempotencyKeys',
  timestamp: 1764000000002,
  up: (schema) => {
    const s = quoteIdent(schema);
    return [
      `CREATE TABLE ${s}.idempotency_keys (
        subject text NOT NULL,
        key text NOT NULL,
        method text NOT NULL,
        path text NOT NULL,
        fingerprint text NOT NULL,
        state text NOT NULL DEFAULT 'in_progress' CHECK (state IN ('in_progress', 'completed')),
        response_status integer,
        response_content_type text,
        response_body text,
        created_at timestamptz NOT NULL DEFAULT now(),
        claimed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (subject, key)
      )`,
    ];
  },
};

/** 422: the key was already spent on a different request; the client has a bug, retrying will not help. */
export class IdempotencyKeyReusedError extends UnprocessableEntityException {
  static readonly type = 'https://assent.dev/problems/idempotency-key-reused';

  constructor() {
    // Its own problem `type` and title, so clients can tell it from other 422s (see toProblem).
    super({
      type: IdempotencyKeyReusedError.type,
      title: 'Idempotency key reused',
      message:
        `this ${IDEMPOTENCY_KEY_HEADER} was already used with a different request (method, path or body); ` +
        'use a new key for a new request',
    });
  }
}

interface HttpRequest {
  method: string;
  originalUrl?: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
  principal?: Principal;
}

interface HttpResponse {
  statusCode: number;
  headersSent?: boolean;
  status(code: number): unknown;
  setHeader(name: string, value: string): unknown;
  getHeader(name: string): unknown;
  end(body: string): unknown;
}

interface StoredKey {
  fingerprint: string;
  state: 'in_progress' | 'completed';
  response_status: number | null;
  response_content_type: string | null;
  response_body: string | null;
  stale: boolean;
}

interface Scope {
  subject: string;
  key: string;
}

export interface IdempotencyOptions {
  /**
   * How long a claim may stay in progress before another request with the key may take it over. The
   * handler's effect and the stored answer are not one transaction, so a process that died in between
   * leaves a claim nobody will finish; without a lease that key would answer 409 forever.
   */
  staleClaimMs?: number;
}

/** JSON with object keys sorted, so `{"a":1,"b":2}` and `{"b":2,"a":1}` are the same request. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return '';
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

export function requestFingerprint(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method}\n${path}\n${canonicalJson(body)}`)
    .digest('hex');
}

/** Only what survives JSON can be stored and sent again exactly; files and streams cannot. */
function isReplayable(body: unknown): boolean {
  if (body === undefined || body === null) return true;
  if (['string', 'number', 'boolean'].includes(typeof body)) return true;
  if (Array.isArray(body)) return true;
  const proto = typeof body === 'object' ? (Object.getPrototypeOf(body) as unknown) : undefined;
  return proto === Object.prototype || proto === null;
}

/**
 * `Idempotency-Key` on every POST: the first request with a key claims it and its answer (success or a
 * 4xx) is stored; the same key with the same request gets that answer again, marked
 * `Idempotent-Replayed: true`, without running the handler; the same key with another request is
 * refused (422); while the first is still running, 409. Keys belong to the authenticated principal.
 * A 5xx or an unexpected error releases the claim, so the client can retry with the same key.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private readonly table: string;
  private readonly staleClaimMs: number;

  constructor(
    private readonly dataSource: DataSource,
    schema: string,
    options: IdempotencyOptions = {},
  ) {
    this.table = `${quoteIdent(schema)}.idempotency_keys`;
    this.staleClaimMs = options.staleClaimMs ?? 5 * 60_000;
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const http = context.switchToHttp();
    const request = http.getRequest<HttpRequest>();
    const response = http.getResponse<HttpResponse>();
    if (request.method !== 'POST') return next.handle();
    const header = request.headers['idempotency-key'];
    if (header === undefined) return next.handle();
    if (typeof header !== 'string' || !VALID_KEY.test(header)) {
      return throwError(
        () => new BadRequestException(`the ${IDEMPOTENCY_KEY_HEADER} header must be 1 to 200 visible ASCII characters`),
      );
    }
    // Every POST is authenticated (the guard ran before us); an anonymous caller has nobody to scope a
    // key to, and sharing one namespace would let a stranger replay someone else's answer.
    const subject = request.principal?.subject;
    if (subject === undefined) return next.handle();
    const scope: Scope = { subject, key: header };
    const path = request.originalUrl ?? request.url;
    const fingerprint = requestFingerprint(request.method, path, request.body);

    return defer(() => this.claim(scope, request.method, path, fingerprint)).pipe(
      mergeMap((stored) => {
        if (stored) return of(this.replay(response, stored));
        return next.handle().pipe(
          mergeMap(async (body: unknown) => {
            if (!isReplayable(body)) {
              await this.release(scope);
              return body;
            }
            const contentType = response.getHeader('content-type');
            await this.complete(
              scope,
              response.statusCode,
              typeof contentType === 'string' ? contentType : null,
              body === undefined ? null : JSON.stringify(body),
            );
            return body;
          }),
          catchError((error: unknown) =>
            from(this.fail(scope, path, error)).pipe(mergeMap(() => throwError(() => error))),
          ),
        );
      }),
    );
  }

  /** Claims the key for this request (null), or returns its stored answer; throws 422/409 otherwise. */
  private async claim(scope: Scope, method: string, path: string, fingerprint: string): Promise<StoredKey | null> {
    // A claim can vanish between our INSERT and SELECT (its request failed and released it): try again.
    for (let attempt = 0; attempt < 3; attempt++) {
      const claimed = (await this.dataSource.query(
        `INSERT INTO ${this.table} (subject, key, method, path, fingerprint) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (subject, key) DO NOTHING RETURNING key`,
        [scope.subject, scope.key, method, path, fingerprint],
      )) as unknown[];
      if (claimed.length > 0) return null;
      const [stored] = (await this.dataSource.query(
        `SELECT fingerprint, state, response_status, response_content_type, response_body,
                claimed_at < now() - ($3::int * interval '1 millisecond') AS stale
           FROM ${this.table} WHERE subject = $1 AND key = $2`,
        [scope.subject, scope.key, this.staleClaimMs],
      )) as StoredKey[];
      if (!stored) continue;
      if (stored.fingerprint !== fingerprint) throw new IdempotencyKeyReusedError();
      if (stored.state === 'completed') return stored;
      if (!stored.stale) {
        throw new ConflictException(
          `a request with this ${IDEMPOTENCY_KEY_HEADER} is still in progress; retry it later with the same key`,
        );
      }
      // WITH ... SELECT, so both drivers hand back plain rows (an UPDATE alone comes back as [rows, count]).
      const taken = (await this.dataSource.query(
        `WITH taken AS (
           UPDATE ${this.table} SET claimed_at = now()
            WHERE subject = $1 AND key = $2 AND state = 'in_progress'
              AND claimed_at < now() - ($3::int * interval '1 millisecond')
           RETURNING key)
         SELECT key FROM taken`,
        [scope.subject, scope.key, this.staleClaimMs],
      )) as unknown[];
      if (taken.length > 0) return null;
    }
    throw new ConflictException(`a request with this ${IDEMPOTENCY_KEY_HEADER} is in flux; retry it later`);
  }

  private replay(response: HttpResponse, stored: StoredKey): unknown {
    response.status(stored.response_status ?? 200);
    if (stored.response_content_type) response.setHeader('Content-Type', stored.response_content_type);
    response.setHeader(IDEMPOTENT_REPLAYED_HEADER, 'true');
    return stored.response_body === null ? undefined : (JSON.parse(stored.response_body) as unknown);
  }

  private async complete(scope: Scope, status: number, contentType: string | null, body: string | null) {
    await this.dataSource.query(
      `UPDATE ${this.table} SET state = 'completed', response_status = $3, response_content_type = $4, response_body = $5
        WHERE subject = $1 AND key = $2 AND state = 'in_progress'`,
      [scope.subject, scope.key, status, contentType, body],
    );
  }

  /**
   * A 4xx is the answer to this request (the same request gets it again); anything else may go away
   * on a retry, so the claim is released for it.
   */
  private async fail(scope: Scope, path: string, error: unknown): Promise<void> {
    if (error instanceof HttpException && error.getStatus() < 500) {
      const problem = toProblem(error, path);
      await this.complete(scope, problem.status, 'application/problem+json', JSON.stringify(problem));
    } else {
      await this.release(scope);
    }
  }

  private async release(scope: Scope): Promise<void> {
    await this.dataSource.query(`DELETE FROM ${this.table} WHERE subject = $1 AND key = $2 AND state = 'in_progress'`, [
      scope.subject,
      scope.key,
    ]);
  }
}

/** Lists the optional Idempotency-Key header (and its 409/422 answers) on every POST of the document. */
export function documentIdempotencyKey(document: OpenAPIObject): OpenAPIObject {
  for (const item of Object.values(document.paths)) {
    const post = item.post;
    if (!post) continue;
    post.parameters = [
      ...(post.parameters ?? []),
      {
        name: IDEMPOTENCY_KEY_HEADER,
        in: 'header',
        required: false,
        description:
          'Makes the POST safe to retry: the same key with the same request returns the first answer ' +
          `(with ${IDEMPOTENT_REPLAYED_HEADER}: true) without doing it again; the same key with a different ` +
          'request is refused (422). Keys are per shopper.',
        schema: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[\\x21-\\x7E]+$' },
      },
    ];
    post.responses = {
      ...post.responses,
      '409': post.responses?.['409'] ?? {
        description: 'A request with this Idempotency-Key is still in progress; retry later',
      },
      '422': post.responses?.['422'] ?? {
        description: 'This Idempotency-Key was already used with a different request',
      },
    };
  }
  return document;
}
