import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { ServiceName, SERVICES } from '@assent/contracts';
import { issueAccessToken } from '@assent/runtime';
import { eventually, startDistributed } from '@assent/testing';
import { ShopperClient, ShopperTurn } from './client';
import { startEmbedded } from './embedded';

/** A running Assent as the journey sees it: where each service answers and raw SQL on its database. */
interface Deployment {
  urlOf(service: ServiceName): string;
  secret: Uint8Array;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

async function embedded(): Promise<Deployment> {
  const secret = randomBytes(32);
  const assent = await startEmbedded({ dataDir: null, secret });
  const dataSource = assent.apps.get('intent')!.get(DataSource);
  return {
    urlOf: () => assent.url,
    secret,
    query: (sql, params) => dataSource.query(sql, params),
    close: () => assent.close(),
  };
}

/** The six services as separate processes from their build, against the real broker and PostgreSQL. */
async function distributed(): Promise<Deployment> {
  const assent = await startDistributed(join(__dirname, '..', '..', '..'));
  const client = new Client({ connectionString: assent.database.url });
  await client.connect();
  return {
    urlOf: assent.urlOf,
    secret: assent.secret,
    query: async (sql, params) => (await client.query(sql, params as unknown[])).rows,
    close: async () => {
      await client.end();
      await assent.close();
    },
  };
}

const SHOPPER = 'yusuf_rossi_9620';
const OTHER = 'mei_kovacs_8020';

describe.each([
  ['embedded', embedded],
  ['distributed', distributed],
])('the shopping journey (%s)', (_mode, deploy) => {
  let assent: Deployment;
  let shopper: ShopperClient;
  let other: ShopperClient;
  const token = (subject: string) => issueAccessToken({ subject, roles: ['shopper'] }, assent.secret);

  beforeAll(async () => {
    assent = await deploy();
    shopper = new ShopperClient(assent.urlOf('intent'), await token(SHOPPER));
    other = new ShopperClient(assent.urlOf('intent'), await token(OTHER));
    // The intent service learns the catalog's words and the cart its prices from catalog events.
    await eventually(async () => {
      const [{ n }] = await assent.query<{ n: number }>('SELECT count(*)::int AS n FROM intent.vocabulary');
      const [{ m }] = await assent.query<{ m: number }>('SELECT count(*)::int AS m FROM cart.price_list');
      if (n < 50 || m < 500) throw new Error(`vocabulary ${n}, price list ${m}`);
    }, 60_000);
  }, 180_000);

  afterAll(() => assent?.close());

  async function play(client: ShopperClient, turns: string[]): Promise<{ id: string; turns: ShopperTurn[] }> {
    const id = await client.startConversation();
    const answers: ShopperTurn[] = [];
    for (const text of turns) answers.push(await client.say(id, text));
    return { id, turns: answers };
  }

  async function eventsOf(conversationId: string) {
    const all: Array<{
      event_id: string;
      type: string;
      causation_id: string | null;
      stream_id: string;
      payload: Record<string, unknown>;
    }> = [];
    for (const schema of SERVICES) {
      all.push(
        ...(await assent.query<(typeof all)[number]>(
          `SELECT event_id, type, causation_id, stream_id, payload FROM ${schema}.events WHERE correlation_id = $1`,
          [conversationId],
        )),
      );
    }
    return all;
  }

  it('chat to buy: suggestion, cart, exact confirmation, yes, order, with its causal chain back to the words', async () => {
    const { id, turns } = await play(shopper, [
      'I want a french press coffee maker',
      'add the first one to my cart',
      'check out',
      'yes',
    ]);
    const [suggested, added, confirm, placed] = turns;
    expect(suggested.kind).toBe('suggestions');
    for (const s of suggested.suggestions as Array<{ name: string; options: Record<string, string> }>) {
      expect(s).toMatchObject({ name: 'Coffee Maker', options: { type: 'french press' } });
    }
    expect(added.kind).toBe('info');
    expect(confirm.kind).toBe('confirmation_required');
    const summary = confirm.summary as {
      lines: Array<{ item_id: string; unit_price: number; quantity: number }>;
      shipping: number;
      tax: number;
      total: number;
    };
    expect(summary.lines).toHaveLength(1);
    expect(summary.lines[0].item_id).toBe((suggested.suggestions[0] as { item_id: string }).item_id);
    const lines = summary.lines.reduce((sum, l) => sum + Math.round(l.unit_price * 100) * l.quantity, 0);
    expect(Math.round(summary.total * 100)).toBe(
      lines + Math.round(summary.shipping * 100) + Math.round(summary.tax * 100),
    );
    expect(placed.kind).toBe('order_placed');
    expect(placed.order_id).toMatch(/^#W\d{7}$/);

    // Why does this order exist? Walk causes and references back from OrderPlaced.
    const events = await eventsOf(id);
    const byId = new Map(events.map((e) => [e.event_id, e]));
    const order = events.find((e) => e.type === 'aftersales.OrderPlaced')!;
    expect(order.payload.orderId).toBe(placed.order_id);
    const reached = new Set<string>();
    const visit = (eventId: string | null | undefined) => {
      const e = eventId ? byId.get(eventId) : undefined;
      if (!e || reached.has(e.type + e.event_id)) return;
      reached.add(e.type + e.event_id);
      visit(e.causation_id);
      visit(e.payload.suggestionEventId as string | undefined);
      // A mandate answers a confirmation, which was asked for a checkout of a cart with these items.
      if (typeof e.payload.confirmationId === 'string') {
        events
          .filter((x) => x.stream_id === `confirmation-${e.payload.confirmationId}`)
          .forEach((x) => visit(x.event_id));
      }
      if (e.type === 'cart.CheckoutRequested') {
        events
          .filter((x) => x.stream_id === e.stream_id && x.type === 'cart.ItemAdded')
          .forEach((x) => visit(x.event_id));
      }
    };
    visit(order.event_id);
    const types = [...reached].map((r) => r.replace(/[0-9a-f-]{36}$/, ''));
    for (const type of [
      'payment.PaymentAuthorized',
      'consent.CartMandateGranted',
      'consent.ConfirmationRequested',
      'cart.CheckoutRequested',
      'cart.ItemAdded',
      'catalog.ProductsSuggested',
      'intent.IntentCaptured',
      'intent.UtteranceReceived',
    ]) {
      expect(types).toContain(type);
    }
    const utterances = [...reached]
      .filter((r) => r.startsWith('intent.UtteranceReceived'))
      .map((r) => byId.get(r.slice('intent.UtteranceReceived'.length))!.payload.text);
    expect(utterances).toEqual(expect.arrayContaining(['I want a french press coffee maker', 'check out', 'yes']));
  });

  it('without the final yes nothing is bought', async () => {
    const { id, turns } = await play(shopper, [
      'I want a french press coffee maker',
      'add the first one to my cart',
      'check out',
    ]);
    expect(turns.map((t) => t.kind)).toEqual(['suggestions', 'info', 'confirmation_required']);
    await new Promise((r) => setTimeout(r, 500));
    const events = await eventsOf(id);
    expect(events.filter((e) => /CartMandate|Payment|Order/.test(e.type))).toEqual([]);
  });

  it('a yes with nothing pending places nothing', async () => {
    const { id, turns } = await play(shopper, ['I want a yoga mat', 'yes']);
    expect(turns[1].kind).toBe('info');
    expect(turns[1].order_id).toBeNull();
    expect((await eventsOf(id)).filter((e) => /ConfirmationAnswered|CartMandate|Payment|Order/.test(e.type))).toEqual(
      [],
    );
  });

  it("a shopper cannot read or answer another shopper's conversation or confirmation", async () => {
    const { id, turns } = await play(shopper, ['I want a french press coffee maker', 'add the first one', 'check out']);
    const confirmation = turns[2].confirmation as { id: string; nonce: string };
    await expect(other.say(id, 'yes')).rejects.toThrow(/404/);
    const answer = await fetch(`${assent.urlOf('consent')}/v1/confirmations/${confirmation.id}/answer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await token(OTHER)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ nonce: confirmation.nonce, answer: 'yes' }),
    });
    expect(answer.status).toBe(404);
    expect(answer.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const anonymous = await fetch(`${assent.urlOf('intent')}/v1/conversations/${id}`);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { title: string }).title).toBe('Unauthorized');
    expect((await eventsOf(id)).filter((e) => /CartMandate|Payment|Order/.test(e.type))).toEqual([]);
  });
});
