import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { issueAccessToken } from '@assent/runtime';
import { ShopperClient } from './client';
import { EmbeddedAssent, startEmbedded } from './embedded';

const SHOPPER = 'yusuf_rossi_9620';
const DEADLINE_MS = 1500;

describe('a turn nobody answers in time is answered with an error, not left pending', () => {
  let assent: EmbeddedAssent;
  let db: DataSource;
  let client: ShopperClient;

  beforeAll(async () => {
    process.env.ASSENT_TURN_TIMEOUT_MS = '300';
    process.env.ASSENT_TURN_DEADLINE_MS = String(DEADLINE_MS);
    assent = await startEmbedded({ dataDir: null, secret: randomBytes(32) });
    db = assent.apps.get('intent')!.get(DataSource);
    client = new ShopperClient(
      assent.url,
      await issueAccessToken({ subject: SHOPPER, roles: ['shopper'] }, assent.secret),
    );
  }, 120_000);

  afterAll(async () => {
    delete process.env.ASSENT_TURN_TIMEOUT_MS;
    delete process.env.ASSENT_TURN_DEADLINE_MS;
    await assent?.close();
  });

  it('answers a search the catalog cannot serve with an error after the deadline, and buys nothing', async () => {
    const conversationId = await client.startConversation();
    // The catalog's search fails on every attempt (its table is gone) until its request is
    // dead-lettered: nothing would ever answer the turn.
    await db.query('ALTER TABLE catalog.products RENAME TO products_away');
    let turn;
    const said = Date.now();
    try {
      turn = await client.say(conversationId, 'I want a french press coffee maker', 15_000);
    } finally {
      await db.query('ALTER TABLE catalog.products_away RENAME TO products');
    }
    const waited = Date.now() - said;

    expect(turn.kind).toBe('error');
    expect(turn.reply).toMatch(/stopped waiting/);
    expect(turn.suggestions).toEqual([]);
    // Answered by the sweep (every 375 ms here): after the deadline, and well before the client
    // gives up (the margin is for a loaded CI machine).
    expect(waited).toBeGreaterThanOrEqual(DEADLINE_MS);
    expect(waited).toBeLessThan(DEADLINE_MS + 8000);

    const answers = (await db.query(
      `SELECT payload, actor FROM intent.events WHERE correlation_id = $1 AND type = 'intent.TurnAnswered'`,
      [conversationId],
    )) as Array<{ payload: { turnId: string; answer: { kind: string } }; actor: { kind: string; id: string } }>;
    expect(answers).toHaveLength(1);
    expect(answers[0].payload.turnId).toBe(turn.turn_id);
    expect(answers[0].payload.answer.kind).toBe('error');
    expect(answers[0].actor).toEqual({ kind: 'system', id: 'intent' });
    const [{ orders }] = (await db.query(
      `SELECT count(*)::int AS orders FROM payment.events WHERE correlation_id = $1 AND type = 'payment.PaymentAuthorized'`,
      [conversationId],
    )) as Array<{ orders: number }>;
    expect(orders).toBe(0);
  }, 60_000);

  it('leaves turns answered in time alone, and the shopper can go on once the catalog is back', async () => {
    const conversationId = await client.startConversation();
    const turn = await client.say(conversationId, 'I want a french press coffee maker');
    expect(turn.kind).toBe('suggestions');
    await new Promise((r) => setTimeout(r, DEADLINE_MS + 1000));
    const [view] = (await db.query(`SELECT answer FROM intent.turns WHERE turn_id = $1`, [turn.turn_id])) as Array<{
      answer: { kind: string };
    }>;
    expect(view.answer.kind).toBe('suggestions');
  }, 60_000);
});
