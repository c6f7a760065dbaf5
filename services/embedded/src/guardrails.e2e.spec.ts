import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { EventStore } from '@assent/eventstore';
import { generateMandateKeyPair, mandateKeysFromJwks, signCartMandate } from '@assent/mandates';
import { issueAccessToken } from '@assent/runtime';
import { eventually } from '@assent/testing';
import { ShopperClient, ShopperTurn } from './client';
import { EmbeddedAssent, startEmbedded } from './embedded';

const SHOPPER = 'yusuf_rossi_9620';

interface Row {
  event_id: string;
  type: string;
  stream_id: string;
  payload: Record<string, unknown>;
}

describe('guardrails: nothing is bought that was not approved exactly', () => {
  let assent: EmbeddedAssent;
  let db: DataSource;
  const codes: Array<{ confirmationId: string; code: string }> = [];

  beforeAll(async () => {
    process.env.ASSENT_STEP_UP_THRESHOLD_CENTS = '100000';
    assent = await startEmbedded({
      dataDir: null,
      secret: randomBytes(32),
      codeSender: { send: async (_shopper, confirmationId, code) => void codes.push({ confirmationId, code }) },
    });
    db = assent.apps.get('intent')!.get(DataSource);
  }, 120_000);

  afterAll(async () => {
    delete process.env.ASSENT_STEP_UP_THRESHOLD_CENTS;
    await assent?.close();
  });

  const token = (subject: string, role: 'shopper' | 'operator' = 'shopper') =>
    issueAccessToken({ subject, roles: [role] }, assent.secret);

  async function conversation(subject = SHOPPER) {
    const client = new ShopperClient(assent.url, await token(subject));
    const id = await client.startConversation();
    return { id, say: (text: string) => client.say(id, text) };
  }

  async function events(conversationId: string): Promise<Row[]> {
    const rows: Row[] = [];
    for (const schema of ['intent', 'catalog', 'cart', 'consent', 'payment', 'aftersales']) {
      rows.push(
        ...((await db.query(
          `SELECT event_id, type, stream_id, payload FROM ${schema}.events WHERE correlation_id = $1 ORDER BY position`,
          [conversationId],
        )) as Row[]),
      );
    }
    return rows;
  }

  const count = (rows: Row[], type: string) => rows.filter((r) => r.type === type).length;

  async function reprice(itemId: string, priceCents: number) {
    const response = await fetch(`${assent.url}/v1/items/${itemId}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${await token('ops', 'operator')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ price: priceCents }),
    });
    expect(response.status).toBe(200);
    // Cart and payment learn the new price from the catalog's event.
    await eventually(async () => {
      const [{ n }] = (await db.query(
        `SELECT (SELECT count(*) FROM cart.price_list WHERE item_id = $1 AND price_cents = $2)::int
              + (SELECT count(*) FROM payment.price_list WHERE item_id = $1 AND price_cents = $2)::int AS n`,
        [itemId, priceCents],
      )) as Array<{ n: number }>;
      if (n !== 2) throw new Error('price not propagated yet');
    });
  }

  const cents = (dollars: number) => Math.round(dollars * 100);
  const firstItem = (turn: ShopperTurn) => turn.suggestions[0] as { item_id: string; price: number };
  const total = (turn: ShopperTurn) => cents((turn.summary as { total: number }).total);

  it('a price change after the confirmation is refused and the shopper is asked again with the new total', async () => {
    const c = await conversation();
    const found = await c.say('I want a french press coffee maker');
    const item = firstItem(found);
    await c.say('add the first one');
    const first = await c.say('check out');
    expect(first.kind).toBe('confirmation_required');
    await reprice(item.item_id, cents(item.price) + 500);
    const asked = await c.say('yes');
    expect(asked.kind).toBe('confirmation_required');
    expect(total(asked)).toBe(total(first) + 500);
    let rows = await events(c.id);
    expect(rows.find((r) => r.type === 'payment.PaymentRejected')?.payload).toMatchObject({
      code: 'cart_changed',
      reconfirm: true,
    });
    expect(count(rows, 'payment.PaymentAuthorized')).toBe(0);
    const placed = await c.say('yes');
    expect(placed.kind).toBe('order_placed');
    rows = await events(c.id);
    expect(rows.find((r) => r.type === 'payment.PaymentAuthorized')?.payload).toMatchObject({ amount: total(asked) });
    await reprice(item.item_id, cents(item.price));
  });

  it('an item added after the confirmation makes the old approval stale', async () => {
    const c = await conversation();
    await c.say('I want a yoga mat');
    await c.say('add the first one');
    expect((await c.say('check out')).kind).toBe('confirmation_required');
    expect((await c.say('add the second one')).kind).toBe('info');
    const asked = await c.say('yes');
    expect(asked.kind).toBe('confirmation_required');
    expect((asked.summary as { lines: unknown[] }).lines).toHaveLength(2);
    expect(count(await events(c.id), 'payment.PaymentAuthorized')).toBe(0);
  });

  it('a price that rises above what the shopper asked for is never put up for approval', async () => {
    const c = await conversation();
    const found = await c.say('a french press coffee maker under $250');
    const item = firstItem(found);
    await c.say('add the first one');
    await reprice(item.item_id, 30000);
    const refused = await c.say('check out');
    expect(refused.kind).toBe('info');
    expect(refused.reply).toMatch(/above the \$250\.00 asked for/);
    const rows = await events(c.id);
    expect(rows.find((r) => r.type === 'consent.ConsentRefused')?.payload).toMatchObject({ code: 'outside_intent' });
    expect(count(rows, 'consent.ConfirmationRequested')).toBe(0);
    await reprice(item.item_id, cents(item.price));
  });

  it('the intent mandate is recorded and shown back in plain words', async () => {
    const c = await conversation();
    const found = await c.say('a french press coffee maker under $250');
    expect(found.reply).toMatch(
      /only ever buy what you asked for: a Coffee Maker, type french press, at most \$250\.00 each/,
    );
    const mandate = (await events(c.id)).find((r) => r.type === 'consent.IntentMandateCreated');
    expect(mandate?.payload).toMatchObject({
      bounds: { productTypes: ['Coffee Maker'], requiredOptions: { type: ['french press'] }, maxPrice: 25000 },
      statement: 'a Coffee Maker, type french press, at most $250.00 each',
    });
  });

  describe('mandates that payment must refuse', () => {
    let granted: Row;
    let conversationId: string;
    const consentStore = () => assent.apps.get('consent')!.get(EventStore);
    const consentDb = () => assent.apps.get('consent')!.get(DataSource);

    beforeAll(async () => {
      const c = await conversation();
      await c.say('I want a french press coffee maker');
      await c.say('add the first one');
      await c.say('check out');
      expect((await c.say('yes')).kind).toBe('order_placed');
      conversationId = c.id;
      granted = (await events(c.id)).find((r) => r.type === 'consent.CartMandateGranted')!;
    });

    async function publish(payload: Record<string, unknown>) {
      await consentDb().transaction((m) =>
        consentStore().append(
          m,
          `test-${randomBytes(6).toString('hex')}`,
          0,
          [{ type: 'consent.CartMandateGranted', payload }],
          {
            correlationId: conversationId,
            causationId: null,
            actor: { kind: 'system', id: 'test' },
          },
        ),
      );
    }

    async function rejection(mandateId: string): Promise<Record<string, unknown>> {
      return eventually(async () => {
        const rows = (await events(conversationId)).filter(
          (r) => r.type === 'payment.PaymentRejected' && r.payload.mandateId === mandateId,
        );
        if (rows.length === 0) throw new Error('no rejection yet');
        return rows[rows.length - 1].payload;
      });
    }

    it('a replayed mandate charges nothing a second time', async () => {
      await publish(granted.payload);
      expect(await rejection(granted.payload.mandateId as string)).toMatchObject({ code: 'replayed_mandate' });
      const rows = await events(conversationId);
      expect(count(rows, 'payment.PaymentAuthorized')).toBe(1);
      const [{ n }] = (await db.query(
        `SELECT count(*)::int AS n FROM payment.sandbox_transactions WHERE idempotency_key = $1`,
        [`authorize:${granted.payload.mandateId as string}`],
      )) as Array<{ n: number }>;
      expect(n).toBe(1);
    });

    it('a mandate signed with a key consent does not hold is refused as forged', async () => {
      const forger = await generateMandateKeyPair('attacker');
      const keys = await mandateKeysFromJwks(forger.privateJwk, { keys: [forger.publicJwk] });
      const mandateId = `mandate-forged-${randomBytes(4).toString('hex')}`;
      const claims = (await import('jose')).decodeJwt(granted.payload.jws as string) as Record<string, never>;
      const jws = await signCartMandate(
        keys,
        { ...(claims as object), sub: SHOPPER, jti: mandateId } as never,
        new Date(),
        new Date(Date.now() + 600_000),
      );
      await publish({ ...granted.payload, mandateId, jws });
      expect(await rejection(mandateId)).toMatchObject({ code: 'forged_mandate' });
    });

    it('a tampered mandate (amount lowered after signing) is refused', async () => {
      const mandateId = `mandate-tampered-${randomBytes(4).toString('hex')}`;
      const [header, , signature] = (granted.payload.jws as string).split('.');
      const claims = JSON.parse(Buffer.from((granted.payload.jws as string).split('.')[1], 'base64url').toString());
      claims.jti = mandateId;
      claims.cart.total = 1;
      const jws = [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.');
      await publish({ ...granted.payload, mandateId, jws });
      expect(await rejection(mandateId)).toMatchObject({ code: 'forged_mandate' });
    });

    it("an event whose fields differ from the signed mandate's is refused", async () => {
      const mandateId = `mandate-mismatch-${randomBytes(4).toString('hex')}`;
      await publish({ ...granted.payload, mandateId });
      expect(await rejection(mandateId)).toMatchObject({ code: 'invalid_mandate' });
    });
  });

  it('many concurrent approvals of one confirmation give exactly one authorization', async () => {
    const c = await conversation();
    await c.say('I want a yoga mat');
    await c.say('add the first one');
    const confirm = await c.say('check out');
    const { id, nonce } = confirm.confirmation as { id: string; nonce: string };
    const auth = `Bearer ${await token(SHOPPER)}`;
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        fetch(`${assent.url}/v1/confirmations/${id}/answer`, {
          method: 'POST',
          headers: { authorization: auth, 'content-type': 'application/json' },
          body: JSON.stringify({ nonce, answer: 'yes' }),
        }).then(async (r) => ({ status: r.status, body: (await r.json()) as { status?: string } })),
      ),
    );
    expect(answers.filter((a) => a.body.status === 'granted')).toHaveLength(1);
    expect(answers.every((a) => a.status === 200 || a.status === 409)).toBe(true);
    await eventually(async () => {
      if (count(await events(c.id), 'aftersales.OrderPlaced') !== 1) throw new Error('no order yet');
    });
    const rows = await events(c.id);
    expect(count(rows, 'consent.CartMandateGranted')).toBe(1);
    expect(count(rows, 'payment.PaymentAuthorized')).toBe(1);
  });

  it('above the step-up threshold a yes needs the one-time code sent out of band', async () => {
    const c = await conversation();
    await c.say('the most expensive laptop you have');
    const found = await c.say('a laptop with an i9');
    expect(found.kind).toBe('suggestions');
    await c.say('add the first one');
    const confirm = await c.say('check out');
    expect(total(confirm)).toBeGreaterThan(100000);
    const asked = await c.say('yes');
    expect(asked.kind).toBe('info');
    expect(asked.reply).toMatch(/one-time code/);
    // Out of band: the code may land a moment after the chat reply, as an SMS would.
    const { code } = await eventually(async () => {
      const sent = codes.find((x) => x.confirmationId === (confirm.confirmation as { id: string }).id);
      if (!sent) throw new Error('no code sent yet');
      return sent;
    });
    const wrong = code === '000000' ? '111111' : '000000';
    expect((await c.say(wrong)).reply).toMatch(/not right/);
    expect(count(await events(c.id), 'consent.CartMandateGranted')).toBe(0);
    const placed = await c.say(code);
    expect(placed.kind).toBe('order_placed');
    // The code is stored only as a hash, and is gone once used.
    const [{ n }] = (await db.query('SELECT count(*)::int AS n FROM consent.step_up_codes')) as Array<{ n: number }>;
    expect(n).toBe(0);
  });

  it('a pending order can be undone within the window, refunded once; not by someone else', async () => {
    const c = await conversation();
    await c.say('I want a yoga mat');
    await c.say('add the first one');
    await c.say('check out');
    const placed = await c.say('yes');
    const orderId = encodeURIComponent(placed.order_id!);
    const cancel = async (subject: string) =>
      fetch(`${assent.url}/v1/orders/${orderId}/cancel`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await token(subject)}`, 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'ordered by mistake' }),
      });
    expect((await cancel('mei_kovacs_8020')).status).toBe(404);
    const response = await cancel(SHOPPER);
    expect(response.status).toBe(200);
    const order = (await response.json()) as {
      status: string;
      payment_history: Array<{ transaction_type: string; amount: number }>;
    };
    expect(order.status).toBe('cancelled');
    expect(order.payment_history.map((p) => p.transaction_type)).toEqual(['payment', 'refund']);
    expect(order.payment_history[1].amount).toBe(order.payment_history[0].amount);
    expect((await cancel(SHOPPER)).status).toBe(409);
    await eventually(async () => {
      if (count(await events(c.id), 'payment.RefundIssued') !== 1) throw new Error('no refund yet');
    });
  });
});
