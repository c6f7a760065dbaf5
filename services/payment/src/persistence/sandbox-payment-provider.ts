import { createHash, randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { quoteIdent } from '@assent/eventstore';
import { loadUsers, TauUser, toCents } from '@assent/taubench';
import { PaymentMethodView } from '../domain/payment-method-choice';
import { ProviderResult } from '../domain/provider-result';

export interface AuthorizeRequest {
  idempotencyKey: string;
  paymentMethodId: string;
  shopperId: string;
  /** Cents. */
  amount: number;
}

export interface CaptureRequest {
  idempotencyKey: string;
  /** The `reference` an approved authorization returned. */
  authorizationReference: string;
  shopperId: string;
  /** Cents; at most the authorized amount. */
  amount: number;
}

export interface RefundRequest {
  idempotencyKey: string;
  /** Where the money goes back to: the original method or, as τ-bench allows, a gift card. */
  paymentMethodId: string;
  shopperId: string;
  /** Cents. */
  amount: number;
}

type Kind = 'authorize' | 'capture' | 'refund';

/** The same idempotency key came back with a different request: answering either would be wrong. */
export class IdempotencyKeyReusedError extends Error {
  constructor(
    readonly idempotencyKey: string,
    readonly kind: Kind,
  ) {
    super(`idempotency key ${idempotencyKey} was already used for a different request (now: ${kind})`);
    this.name = 'IdempotencyKeyReusedError';
  }
}

/** A request the sandbox cannot even record (no key, a fractional or non-positive amount). */
export class InvalidPaymentRequestError extends Error {
  constructor(reason: string) {
    super(`invalid payment request: ${reason}`);
    this.name = 'InvalidPaymentRequestError';
  }
}

interface MethodRow {
  id: string;
  shopper_id: string;
  source: PaymentMethodView['source'];
  brand: string | null;
  last_four: string | null;
  balance_cents: number | null;
}

interface TransactionRow {
  id: string;
  fingerprint: string;
  outcome: 'pending' | 'approved' | 'declined';
  reason: string | null;
}

interface Decision {
  outcome: 'approved' | 'declined';
  reason?: string;
}

const declined = (reason: string): Decision => ({ outcome: 'declined', reason });
const APPROVED: Decision = { outcome: 'approved' };

function toView(row: MethodRow): PaymentMethodView {
  return {
    id: row.id,
    shopperId: row.shopper_id,
    source: row.source,
    brand: row.brand,
    lastFour: row.last_four,
    balance: row.balance_cents === null ? null : Number(row.balance_cents),
  };
}

function validate(request: { idempotencyKey: string; shopperId: string; amount: number }, ids: string[]): void {
  if (!request.idempotencyKey) throw new InvalidPaymentRequestError('an idempotency key is required');
  if (!request.shopperId || ids.some((id) => !id)) throw new InvalidPaymentRequestError('ids must not be empty');
  if (!Number.isSafeInteger(request.amount) || request.amount <= 0) {
    throw new InvalidPaymentRequestError(`amount must be a positive number of cents, got ${request.amount}`);
  }
}

function fingerprint(kind: Kind, fields: Array<string | number>): string {
  return createHash('sha256')
    .update(JSON.stringify([kind, ...fields]))
    .digest('hex');
}

/**
 * The built-in payment provider: a persistent sandbox with real balances for gift cards, used by
 * the embedded default and by tests. Every request carries an idempotency key; the first request
 * with a key claims it by inserting its row, so concurrent duplicates wait on the unique index and
 * then read the stored answer instead of charging again. Each call runs in its own transaction (a
 * savepoint inside the caller's), so a claim and its effect commit or vanish together.
 */
export class SandboxPaymentProvider {
  private readonly s: string;

  constructor(schema = 'payment') {
    this.s = quoteIdent(schema);
  }

  /** Gift cards are debited here (the sandbox treats the hold as the charge); cards and PayPal always approve. */
  async authorize(manager: EntityManager, request: AuthorizeRequest): Promise<ProviderResult> {
    validate(request, [request.paymentMethodId]);
    const { paymentMethodId, shopperId, amount } = request;
    return this.once(
      manager,
      'authorize',
      request.idempotencyKey,
      fingerprint('authorize', [paymentMethodId, shopperId, amount]),
      { paymentMethodId, shopperId, amount, parentId: null },
      async (m) => {
        const method = await this.ownedMethod(m, paymentMethodId, shopperId);
        if ('outcome' in method) return method;
        if (method.source !== 'gift_card') return APPROVED;
        // The balance check and the debit are one statement, so two purchases can never both spend it.
        // (In a CTE because TypeORM answers a bare UPDATE with [rows, count] rather than rows.)
        const debited = (await m.query(
          `WITH debit AS (
             UPDATE ${this.s}.payment_methods SET balance_cents = balance_cents - $2
             WHERE id = $1 AND balance_cents >= $2 RETURNING id
           ) SELECT id FROM debit`,
          [paymentMethodId, amount],
        )) as unknown[];
        return debited.length === 1 ? APPROVED : declined('insufficient gift card balance');
      },
    );
  }

  /** Settles an approved authorization of this shopper, once, for at most the authorized amount. */
  async capture(manager: EntityManager, request: CaptureRequest): Promise<ProviderResult> {
    validate(request, [request.authorizationReference]);
    const { authorizationReference, shopperId, amount } = request;
    return manager.transaction(async (m) => {
      // Locking the authorization serializes captures of it that carry different keys.
      const [auth] = (await m.query(
        `SELECT id, payment_method_id, shopper_id, amount_cents, outcome FROM ${this.s}.sandbox_transactions
         WHERE id = $1 AND kind = 'authorize' FOR UPDATE`,
        [authorizationReference],
      )) as Array<{ id: string; payment_method_id: string; shopper_id: string; amount_cents: number; outcome: string }>;
      return this.once(
        m,
        'capture',
        request.idempotencyKey,
        fingerprint('capture', [authorizationReference, shopperId, amount]),
        { paymentMethodId: auth?.payment_method_id ?? '', shopperId, amount, parentId: auth?.id ?? null },
        async (tx) => {
          if (!auth) return declined(`unknown authorization ${authorizationReference}`);
          if (auth.shopper_id !== shopperId) return declined('the authorization belongs to another shopper');
          if (auth.outcome !== 'approved') return declined('the authorization was declined');
          if (amount > Number(auth.amount_cents)) return declined('capture exceeds the authorized amount');
          const [done] = (await tx.query(
            `SELECT id FROM ${this.s}.sandbox_transactions
             WHERE parent_id = $1 AND kind = 'capture' AND outcome = 'approved'`,
            [auth.id],
          )) as unknown[];
          return done ? declined('the authorization was already captured') : APPROVED;
        },
      );
    });
  }

  /** Money back to one of the shopper's methods; a gift card's balance grows at once. */
  async refund(manager: EntityManager, request: RefundRequest): Promise<ProviderResult> {
    validate(request, [request.paymentMethodId]);
    const { paymentMethodId, shopperId, amount } = request;
    return this.once(
      manager,
      'refund',
      request.idempotencyKey,
      fingerprint('refund', [paymentMethodId, shopperId, amount]),
      { paymentMethodId, shopperId, amount, parentId: null },
      async (m) => {
        const method = await this.ownedMethod(m, paymentMethodId, shopperId);
        if ('outcome' in method) return method;
        if (method.source === 'gift_card') {
          await m.query(`UPDATE ${this.s}.payment_methods SET balance_cents = balance_cents + $2 WHERE id = $1`, [
            paymentMethodId,
            amount,
          ]);
        }
        return APPROVED;
      },
    );
  }

  /** Loads every τ-bench user's payment methods, once: a database that has any methods is left alone. */
  async seedPaymentMethodsIfEmpty(
    manager: EntityManager,
    users: Record<string, TauUser> = loadUsers(),
  ): Promise<number> {
    const [{ any }] = (await manager.query(`SELECT EXISTS (SELECT 1 FROM ${this.s}.payment_methods) AS any`)) as Array<{
      any: boolean;
    }>;
    if (any) return 0;
    const rows = Object.entries(users).flatMap(([userId, user]) =>
      Object.values(user.payment_methods).map((m) => ({
        id: m.id,
        shopperId: userId,
        source: m.source,
        brand: m.brand ?? null,
        lastFour: m.last_four ?? null,
        balance: m.source === 'gift_card' ? toCents(m.balance ?? 0) : null,
      })),
    );
    // ON CONFLICT: two instances seeding at once both finish without duplicates.
    const [{ inserted }] = (await manager.query(
      `WITH ins AS (
         INSERT INTO ${this.s}.payment_methods (id, shopper_id, source, brand, last_four, balance_cents)
         SELECT m->>'id', m->>'shopperId', m->>'source', m->>'brand', m->>'lastFour', (m->>'balance')::integer
         FROM jsonb_array_elements($1::jsonb) AS m
         ON CONFLICT (id) DO NOTHING
         RETURNING 1
       ) SELECT count(*)::int AS inserted FROM ins`,
      [JSON.stringify(rows)],
    )) as Array<{ inserted: number }>;
    return inserted;
  }

  async listMethods(manager: EntityManager, shopperId: string): Promise<PaymentMethodView[]> {
    const rows = (await manager.query(
      `SELECT id, shopper_id, source, brand, last_four, balance_cents FROM ${this.s}.payment_methods
       WHERE shopper_id = $1 ORDER BY id`,
      [shopperId],
    )) as MethodRow[];
    return rows.map(toView);
  }

  async getMethod(manager: EntityManager, paymentMethodId: string): Promise<PaymentMethodView | null> {
    const [row] = (await manager.query(
      `SELECT id, shopper_id, source, brand, last_four, balance_cents FROM ${this.s}.payment_methods WHERE id = $1`,
      [paymentMethodId],
    )) as MethodRow[];
    return row ? toView(row) : null;
  }

  private async ownedMethod(
    manager: EntityManager,
    paymentMethodId: string,
    shopperId: string,
  ): Promise<PaymentMethodView | Decision> {
    const method = await this.getMethod(manager, paymentMethodId);
    if (!method) return declined(`unknown payment method ${paymentMethodId}`);
    if (method.shopperId !== shopperId) return declined('the payment method belongs to another shopper');
    return method;
  }

  /**
   * Claims the key, runs the effect and stores its outcome, all in one transaction; a key that is
   * already claimed returns its stored answer (after its claimant commits) and has no effect.
   */
  private once(
    manager: EntityManager,
    kind: Kind,
    idempotencyKey: string,
    requestFingerprint: string,
    row: { paymentMethodId: string; shopperId: string; amount: number; parentId: string | null },
    effect: (manager: EntityManager) => Promise<Decision>,
  ): Promise<ProviderResult> {
    return manager.transaction(async (m) => {
      const reference = `sbx_${randomUUID()}`;
      const claimed = (await m.query(
        `INSERT INTO ${this.s}.sandbox_transactions
           (id, idempotency_key, fingerprint, kind, payment_method_id, shopper_id, amount_cents, parent_id, outcome)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending')
         ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`,
        [
          reference,
          idempotencyKey,
          requestFingerprint,
          kind,
          row.paymentMethodId,
          row.shopperId,
          row.amount,
          row.parentId,
        ],
      )) as unknown[];
      if (claimed.length === 0) {
        const [stored] = (await m.query(
          `SELECT id, fingerprint, outcome, reason FROM ${this.s}.sandbox_transactions WHERE idempotency_key = $1`,
          [idempotencyKey],
        )) as TransactionRow[];
        if (!stored || stored.outcome === 'pending') {
          // Only possible under an isolation level that hides the claimant's commit: retry later.
          throw new Error(`idempotency key ${idempotencyKey} is being processed by another request`);
        }
        if (stored.fingerprint !== requestFingerprint) throw new IdempotencyKeyReusedError(idempotencyKey, kind);
        return stored.reason === null
          ? { reference: stored.id, outcome: stored.outcome }
          : { reference: stored.id, outcome: stored.outcome, reason: stored.reason };
      }
      const decision = await effect(m);
      await m.query(`UPDATE ${this.s}.sandbox_transactions SET outcome = $2, reason = $3 WHERE id = $1`, [
        reference,
        decision.outcome,
        decision.reason ?? null,
      ]);
      return decision.reason === undefined
        ? { reference, outcome: decision.outcome }
        : { reference, outcome: decision.outcome, reason: decision.reason };
    });
  }
}
