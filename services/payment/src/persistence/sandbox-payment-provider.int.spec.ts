import { DataSource } from 'typeorm';
import { openServiceDatabase } from '@assent/eventstore';
import { loadUsers, TauUser, toCents } from '@assent/taubench';
import { createPgliteDatabase, createPostgresDatabase, TestDatabase } from '@assent/testing';
import { paymentMigrations } from './payment.migrations';
import {
  IdempotencyKeyReusedError,
  InvalidPaymentRequestError,
  SandboxPaymentProvider,
} from './sandbox-payment-provider';

const user = (methods: TauUser['payment_methods']): TauUser => ({
  name: { first_name: 'T', last_name: 'T' },
  address: { address1: '1 Main St', address2: '', city: 'X', country: 'USA', state: 'CA', zip: '90001' },
  email: 't@example.com',
  payment_methods: methods,
  orders: [],
});

/** Two small shoppers of our own (the 500 τ-bench users are seeded in a separate schema below). */
const fixtureUsers: Record<string, TauUser> = {
  ava_1: user({
    gift_card_a: { id: 'gift_card_a', source: 'gift_card', balance: 100 },
    credit_card_a: { id: 'credit_card_a', source: 'credit_card', brand: 'visa', last_four: '4242' },
    paypal_a: { id: 'paypal_a', source: 'paypal' },
  }),
  bo_2: user({ gift_card_b: { id: 'gift_card_b', source: 'gift_card', balance: 50.25 } }),
};

describe.each([
  ['PostgreSQL', createPostgresDatabase],
  ['PGlite', () => createPgliteDatabase()],
])('sandbox payment provider on %s', (_name, createDatabase) => {
  let db: TestDatabase;
  let dataSource: DataSource;
  const provider = new SandboxPaymentProvider('payment');

  const balance = async (id: string): Promise<number | null> =>
    (await provider.getMethod(dataSource.manager, id))?.balance ?? null;
  const rows = async (key: string): Promise<number> => {
    const [{ n }] = await dataSource.query(
      `SELECT count(*)::int AS n FROM payment.sandbox_transactions WHERE idempotency_key = $1`,
      [key],
    );
    return n;
  };

  beforeAll(async () => {
    db = await createDatabase();
    dataSource = await openServiceDatabase({ schema: 'payment', target: db.target, migrations: paymentMigrations });
    expect(await provider.seedPaymentMethodsIfEmpty(dataSource.manager, fixtureUsers)).toBe(4);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  it('seeds once and lists a shopper methods with gift card balances in cents', async () => {
    expect(await provider.seedPaymentMethodsIfEmpty(dataSource.manager, fixtureUsers)).toBe(0);
    expect(await provider.listMethods(dataSource.manager, 'bo_2')).toEqual([
      { id: 'gift_card_b', shopperId: 'bo_2', source: 'gift_card', brand: null, lastFour: null, balance: 5_025 },
    ]);
    expect((await provider.listMethods(dataSource.manager, 'ava_1')).map((m) => m.id)).toEqual([
      'credit_card_a',
      'gift_card_a',
      'paypal_a',
    ]);
    expect(await provider.listMethods(dataSource.manager, 'nobody')).toEqual([]);
  });

  it('returns the stored answer for a repeated request and has no second effect', async () => {
    const request = {
      idempotencyKey: 'auth-repeat',
      paymentMethodId: 'gift_card_a',
      shopperId: 'ava_1',
      amount: 1_000,
    };
    const first = await provider.authorize(dataSource.manager, request);
    expect(first).toEqual({ reference: expect.stringMatching(/^sbx_/), outcome: 'approved' });
    const again = await dataSource.transaction((m) => provider.authorize(m, { ...request }));
    expect(again).toEqual(first);
    expect(await balance('gift_card_a')).toBe(9_000);
    expect(await rows('auth-repeat')).toBe(1);
  });

  it('refuses the same key with a different request with a typed error, changing nothing', async () => {
    const request = { idempotencyKey: 'auth-reuse', paymentMethodId: 'credit_card_a', shopperId: 'ava_1', amount: 500 };
    await provider.authorize(dataSource.manager, request);
    await expect(provider.authorize(dataSource.manager, { ...request, amount: 501 })).rejects.toBeInstanceOf(
      IdempotencyKeyReusedError,
    );
    await expect(provider.refund(dataSource.manager, request)).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
    expect(await rows('auth-reuse')).toBe(1);
  });

  it('debits exactly once when ten identical authorizations race', async () => {
    const before = (await balance('gift_card_a'))!;
    const request = { idempotencyKey: 'auth-race', paymentMethodId: 'gift_card_a', shopperId: 'ava_1', amount: 700 };
    const results = await Promise.all(
      Array.from({ length: 10 }, () => dataSource.transaction((m) => provider.authorize(m, request))),
    );
    expect(new Set(results.map((r) => r.reference)).size).toBe(1);
    expect(results.every((r) => r.outcome === 'approved')).toBe(true);
    expect(await balance('gift_card_a')).toBe(before - 700);
    expect(await rows('auth-race')).toBe(1);
  });

  it('never takes a gift card below zero, even when different purchases race for the last dollars', async () => {
    // bo_2 has $50.25: of ten concurrent $10 purchases exactly five fit.
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        dataSource.transaction((m) =>
          provider.authorize(m, {
            idempotencyKey: `auth-drain-${i}`,
            paymentMethodId: 'gift_card_b',
            shopperId: 'bo_2',
            amount: 1_000,
          }),
        ),
      ),
    );
    expect(results.filter((r) => r.outcome === 'approved')).toHaveLength(5);
    expect(results.filter((r) => r.outcome === 'declined').map((r) => r.reason)).toEqual(
      Array(5).fill('insufficient gift card balance'),
    );
    expect(await balance('gift_card_b')).toBe(25);
    // The database refuses a negative balance even to a writer that skips the check.
    await expect(
      dataSource.query(`UPDATE payment.payment_methods SET balance_cents = -1 WHERE id = 'gift_card_b'`),
    ).rejects.toThrow();
    // A decline is remembered too: a retry is declined again though the card could pay now.
    await provider.refund(dataSource.manager, {
      idempotencyKey: 'refund-topup',
      paymentMethodId: 'gift_card_b',
      shopperId: 'bo_2',
      amount: 5_000,
    });
    const declinedKey = results.findIndex((r) => r.outcome === 'declined');
    const retry = await provider.authorize(dataSource.manager, {
      idempotencyKey: `auth-drain-${declinedKey}`,
      paymentMethodId: 'gift_card_b',
      shopperId: 'bo_2',
      amount: 1_000,
    });
    expect(retry).toEqual(results[declinedKey]);
    expect(await balance('gift_card_b')).toBe(5_025);
  });

  it('declines a method of another shopper and an unknown method', async () => {
    const foreign = await provider.authorize(dataSource.manager, {
      idempotencyKey: 'auth-foreign',
      paymentMethodId: 'gift_card_b',
      shopperId: 'ava_1',
      amount: 1,
    });
    expect(foreign).toMatchObject({ outcome: 'declined', reason: 'the payment method belongs to another shopper' });
    const unknown = await provider.authorize(dataSource.manager, {
      idempotencyKey: 'auth-unknown',
      paymentMethodId: 'credit_card_zzz',
      shopperId: 'ava_1',
      amount: 1,
    });
    expect(unknown).toMatchObject({ outcome: 'declined', reason: 'unknown payment method credit_card_zzz' });
    const refund = await provider.refund(dataSource.manager, {
      idempotencyKey: 'refund-foreign',
      paymentMethodId: 'gift_card_b',
      shopperId: 'ava_1',
      amount: 100,
    });
    expect(refund.outcome).toBe('declined');
  });

  it('refunds credit a gift card back, once per key', async () => {
    const before = (await balance('gift_card_a'))!;
    const request = { idempotencyKey: 'refund-1', paymentMethodId: 'gift_card_a', shopperId: 'ava_1', amount: 1_234 };
    const [a, b] = await Promise.all([
      dataSource.transaction((m) => provider.refund(m, request)),
      dataSource.transaction((m) => provider.refund(m, request)),
    ]);
    expect(a).toEqual(b);
    expect(a.outcome).toBe('approved');
    expect(await balance('gift_card_a')).toBe(before + 1_234);
    const paypal = await provider.refund(dataSource.manager, {
      ...request,
      idempotencyKey: 'refund-2',
      paymentMethodId: 'paypal_a',
    });
    expect(paypal.outcome).toBe('approved');
  });

  it('captures an approved authorization once, for at most its amount', async () => {
    const auth = await provider.authorize(dataSource.manager, {
      idempotencyKey: 'auth-cap',
      paymentMethodId: 'credit_card_a',
      shopperId: 'ava_1',
      amount: 2_000,
    });
    const capture = {
      idempotencyKey: 'cap-1',
      authorizationReference: auth.reference,
      shopperId: 'ava_1',
      amount: 2_000,
    };
    expect(
      await provider.capture(dataSource.manager, { ...capture, idempotencyKey: 'cap-too-much', amount: 2_001 }),
    ).toMatchObject({
      outcome: 'declined',
      reason: 'capture exceeds the authorized amount',
    });
    const [c1, c2] = await Promise.all([
      dataSource.transaction((m) => provider.capture(m, capture)),
      dataSource.transaction((m) => provider.capture(m, { ...capture, idempotencyKey: 'cap-2' })),
    ]);
    expect([c1.outcome, c2.outcome].sort()).toEqual(['approved', 'declined']);
    expect(await provider.capture(dataSource.manager, capture)).toEqual(c1);
    expect(
      await provider.capture(dataSource.manager, {
        ...capture,
        idempotencyKey: 'cap-unknown',
        authorizationReference: 'sbx_nope',
      }),
    ).toMatchObject({ outcome: 'declined', reason: 'unknown authorization sbx_nope' });
    expect(
      await provider.capture(dataSource.manager, { ...capture, idempotencyKey: 'cap-foreign', shopperId: 'bo_2' }),
    ).toMatchObject({ outcome: 'declined', reason: 'the authorization belongs to another shopper' });
  });

  it('rolls the claim and the debit back with the caller transaction', async () => {
    const before = (await balance('gift_card_a'))!;
    const request = {
      idempotencyKey: 'auth-rollback',
      paymentMethodId: 'gift_card_a',
      shopperId: 'ava_1',
      amount: 100,
    };
    await expect(
      dataSource.transaction(async (m) => {
        await provider.authorize(m, request);
        throw new Error('the handler failed after charging');
      }),
    ).rejects.toThrow('handler failed');
    expect(await balance('gift_card_a')).toBe(before);
    expect(await rows('auth-rollback')).toBe(0);
    expect((await provider.authorize(dataSource.manager, request)).outcome).toBe('approved');
  });

  it('refuses malformed requests before recording anything', async () => {
    const base = { idempotencyKey: 'bad', paymentMethodId: 'credit_card_a', shopperId: 'ava_1', amount: 100 };
    for (const bad of [{ amount: 0 }, { amount: -5 }, { amount: 1.5 }, { idempotencyKey: '' }]) {
      await expect(provider.authorize(dataSource.manager, { ...base, ...bad })).rejects.toBeInstanceOf(
        InvalidPaymentRequestError,
      );
    }
    expect(await rows('bad')).toBe(0);
  });

  it('seeds every payment method of all 500 τ-bench users', async () => {
    const all = await openServiceDatabase({ schema: 'payment_seed', target: db.target, migrations: paymentMigrations });
    try {
      const seeded = new SandboxPaymentProvider('payment_seed');
      const users = loadUsers();
      const expected = Object.values(users).flatMap((u) => Object.values(u.payment_methods));
      expect(Object.keys(users)).toHaveLength(500);
      expect(await seeded.seedPaymentMethodsIfEmpty(all.manager)).toBe(expected.length);
      expect(await seeded.seedPaymentMethodsIfEmpty(all.manager)).toBe(0);
      const [userId, sample] = Object.entries(users).find(([, u]) => Object.keys(u.payment_methods).length > 1)!;
      const listed = await seeded.listMethods(all.manager, userId);
      expect(listed.map((m) => m.id)).toEqual(Object.keys(sample.payment_methods).sort());
      const [{ gift, total }] = await all.query(
        `SELECT count(*)::int AS total, coalesce(sum(balance_cents), 0)::int AS gift FROM payment_seed.payment_methods`,
      );
      expect(total).toBe(expected.length);
      expect(gift).toBe(
        expected.filter((m) => m.source === 'gift_card').reduce((sum, m) => sum + toCents(m.balance ?? 0), 0),
      );
    } finally {
      await all.destroy();
    }
  });
});
