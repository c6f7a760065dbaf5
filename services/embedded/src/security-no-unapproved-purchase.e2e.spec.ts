import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { DataSource } from 'typeorm';
import { SERVICES } from '@assent/contracts';
import { issueAccessToken } from '@assent/runtime';
import { ShopperClient, ShopperTurn } from './client';
import { EmbeddedAssent, startEmbedded } from './embedded';

/**
 * The promise itself, as a property: whatever a shopper says, in any order, nothing is bought unless
 * they answered a pending confirmation with yes. The generated conversations never contain such an
 * answer; the control below adds one and must find exactly one order, so the property can fail.
 */

const SHOPPER = 'yusuf_rossi_9620';
const INJECTIONS = readFileSync(
  join(__dirname, '..', '..', '..', 'libs', 'testing', 'data', 'prompt-injections.txt'),
  'utf8',
)
  .split('\n')
  .map((line) => line.trimEnd())
  .filter((line) => line.length > 0);

const SEARCHES = [
  'I want a french press coffee maker',
  'an electric kettle please',
  'I need a yoga mat',
  'a water bottle',
  'show me bluetooth speakers',
  'running shoes in size 10',
  'a backpack',
  'a laptop',
  'a t-shirt',
  'a jigsaw puzzle',
];

/**
 * Words a short message could approve with: a generated message containing any of them is left out.
 * Deliberately wider than what Assent reads as a yes, so no generated text can be a real approval.
 */
const APPROVING_WORD =
  /^(?:y|ya|yes+|yeah|yea|yep|yup|yas|sure|ok|okay|okey|k|kk|confirm|confirmed|approve|approved|agree|accept|affirmative|absolutely|definitely|correct|proceed|go|do|sounds|looks|good|right|perfect|course|fine|great|buy|purchase|pay)$/;

/** Whether a text could be a short approving answer (the plain words, as the intent model reads them). */
function couldApprove(text: string): boolean {
  const words = text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[^a-z0-9' ]+/g, ' ')
    .split(/\s+/)
    .map((w) => w.replace(/'/g, ''))
    .filter((w) => w.length > 0);
  return words.length <= 12 && words.some((w) => APPROVING_WORD.test(w));
}

const sixDigits = fc.integer({ min: 0, max: 999_999 }).map((n) => String(n).padStart(6, '0'));

const ADDS = ['add the first one to my cart', 'add the second one', 'add the first one', 'the cheapest one'];

/** One shopper message, never an approving answer; `adds` false leaves out putting items in the cart. */
function shopperMessage(adds = true): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...SEARCHES) },
    { weight: adds ? 3 : 0, arbitrary: fc.constantFrom(...ADDS) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('remove it', 'remove the first one from my cart', 'delete it from my cart'),
    },
    { weight: 3, arbitrary: fc.constantFrom('check out', 'checkout', 'place the order', "I'm done shopping") },
    { weight: 1, arbitrary: fc.constantFrom('no', 'cancel', 'no thanks', 'never mind', 'not now') },
    { weight: 1, arbitrary: fc.constantFrom('show my cart', "what's in my cart") },
    // Injections are not answers by construction (the injection test checks each against a pending confirmation).
    { weight: 3, arbitrary: fc.constantFrom(...INJECTIONS) },
    {
      weight: 3,
      arbitrary: fc
        .oneof(
          fc.string({ maxLength: 30 }),
          fc.string({ unit: 'binary', maxLength: 30 }),
          fc.string({ unit: 'grapheme', maxLength: 20 }),
          sixDigits,
          fc.integer().map(String),
          fc.double({ noNaN: true }).map(String),
          fc.tuple(fc.constantFrom('my code is', 'code:', ''), sixDigits).map(([a, b]) => `${a} ${b}`.trim()),
        )
        .filter((text) => !couldApprove(text)),
    },
  );
}
const message = shopperMessage();

/** Half the conversations go straight to a pending confirmation first, so the rest is said to one. */
const conversation: fc.Arbitrary<string[]> = fc.oneof(
  fc.array(message, { minLength: 1, maxLength: 8 }),
  fc
    .tuple(fc.constantFrom(...SEARCHES), fc.array(message, { minLength: 0, maxLength: 5 }))
    .map(([search, rest]) => [search, 'add the first one to my cart', 'check out', ...rest]),
);

interface StoredEvent {
  type: string;
  payload: Record<string, unknown>;
}

describe('security: no purchase without an answered confirmation (property, embedded)', () => {
  let assent: EmbeddedAssent;
  let shopper: ShopperClient;
  let token: string;
  /** Step-up codes as consent sends them, by confirmation id (the control may need one). */
  const codes = new Map<string, string>();

  beforeAll(async () => {
    const secret = randomBytes(32);
    assent = await startEmbedded({
      dataDir: null,
      secret,
      codeSender: {
        send: async (_shopperId: string, confirmationId: string, code: string) => {
          codes.set(confirmationId, code);
        },
      },
    });
    token = await issueAccessToken({ subject: SHOPPER, roles: ['shopper'] }, secret);
    shopper = new ShopperClient(assent.url, token);
  }, 180_000);

  afterAll(() => assent?.close());

  async function eventsOf(conversationId: string): Promise<StoredEvent[]> {
    const db = assent.apps.get('intent')!.get(DataSource);
    const all: StoredEvent[] = [];
    for (const schema of SERVICES) {
      all.push(
        ...((await db.query(`SELECT type, payload FROM ${schema}.events WHERE correlation_id = $1`, [
          conversationId,
        ])) as StoredEvent[]),
      );
    }
    return all;
  }

  async function say(id: string, texts: string[]): Promise<ShopperTurn[]> {
    const turns: ShopperTurn[] = [];
    for (const text of texts) turns.push(await shopper.say(id, text));
    return turns;
  }

  const purchaseSteps = (events: StoredEvent[]) =>
    events
      .filter(
        (e) =>
          e.type === 'consent.CartMandateGranted' ||
          e.type.startsWith('payment.') ||
          e.type === 'aftersales.OrderPlaced' ||
          (e.type === 'intent.ConfirmationAnswered' && e.payload.answer === 'yes'),
      )
      .map((e) => e.type);

  it('never approves the generated messages themselves', () => {
    fc.assert(fc.property(message, (text) => !couldApprove(text) || INJECTIONS.includes(text)));
    for (const text of ['yes', 'Yes!', 'ok', 'Ｙｅｓ', 'k', 'go ahead', 'sure, thanks', 'confirm', 'yep', 'y']) {
      expect(couldApprove(text)).toBe(true);
    }
  });

  it('places no order, grants no mandate and charges nothing for any conversation without a yes', async () => {
    const reachedConfirmation: boolean[] = [];
    await fc.assert(
      fc.asyncProperty(conversation, async (texts) => {
        const id = await shopper.startConversation();
        const turns = await say(id, texts);
        reachedConfirmation.push(turns.some((t) => t.kind === 'confirmation_required'));
        expect(turns.filter((t) => t.kind === 'order_placed' || t.order_id !== null)).toEqual([]);
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(purchaseSteps(await eventsOf(id))).toEqual([]);
      }),
      { numRuns: 25 },
    );
    // The property was exercised where it matters: with a confirmation waiting for an answer.
    expect(reachedConfirmation.filter(Boolean).length).toBeGreaterThan(0);
  }, 180_000);

  it('control: the same kind of conversation, then check out and yes, places exactly one order', async () => {
    // Without adds in the generated part: the cart then holds the french press alone. (With other
    // items added before it, payment refuses the approved cart; see the known-bug test below.)
    const withoutAdds = fc.array(shopperMessage(false), { minLength: 1, maxLength: 8 });
    await fc.assert(
      fc.asyncProperty(withoutAdds, async (texts) => {
        const id = await shopper.startConversation();
        await say(id, texts);
        const [, , asked, answered] = await say(id, [
          'I want a french press coffee maker',
          'add the first one to my cart',
          'check out',
          'yes',
        ]);
        expect(asked.kind).toBe('confirmation_required');
        let placed = answered;
        if (placed.kind !== 'order_placed') {
          // Above the step-up threshold (a laptop in the cart): the one-time code consent sent.
          const code = codes.get((asked.confirmation as { id: string }).id);
          expect(code).toMatch(/^\d{6}$/);
          [placed] = await say(id, [code!]);
        }
        expect(placed).toMatchObject({ kind: 'order_placed', order_id: expect.stringMatching(/^#W\d{7}$/) });
        await new Promise((resolve) => setTimeout(resolve, 200));
        const steps = purchaseSteps(await eventsOf(id));
        expect(steps.filter((t) => t === 'aftersales.OrderPlaced')).toHaveLength(1);
        expect(steps.filter((t) => t === 'consent.CartMandateGranted')).toHaveLength(1);
        expect(steps.filter((t) => t === 'payment.PaymentCaptured')).toHaveLength(1);
      }),
      { numRuns: 4 },
    );
  }, 120_000);

  // Regression: payment's live copy of a cart is a set of quantities; it must check it in the approved
  // order (the cart hash depends on it), or a cart added out of item-id order could never be bought.
  it('buys a cart whose items were added out of item-id order', async () => {
    const id = await shopper.startConversation();
    const turns = await say(id, [
      'I need a yoga mat',
      'add the first one',
      'I want a french press coffee maker',
      'add the first one to my cart',
      'check out',
      'yes',
    ]);
    expect(turns[4].kind).toBe('confirmation_required');
    expect(turns[5]).toMatchObject({ kind: 'order_placed' });
  }, 60_000);

  // A lone UTF-16 surrogate is valid JSON but not valid PostgreSQL json; the intent service stores it as
  // U+FFFD, as it does a NUL.
  it('buys nothing and keeps the conversation usable after a message with a lone surrogate', async () => {
    const id = await shopper.startConversation();
    const statuses = await sendRaw(id, ['\ud800', 'a\udc00b']);
    expect(statuses).toEqual([200, 200]);
    const turns = await say(id, ['I want a french press coffee maker', 'add the first one to my cart', 'check out']);
    expect(turns.map((t) => t.kind)).toEqual(['suggestions', 'info', 'confirmation_required']);
    expect(purchaseSteps(await eventsOf(id))).toEqual([]);
  }, 60_000);

  it('answers a message with a lone surrogate without a server error', async () => {
    const id = await shopper.startConversation();
    expect(await sendRaw(id, ['\ud800'])).toEqual([200]);
  }, 60_000);

  async function sendRaw(id: string, texts: string[]): Promise<number[]> {
    const statuses: number[] = [];
    for (const text of texts) {
      const response = await fetch(`${assent.url}/v1/conversations/${id}/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ text }),
      });
      await response.text();
      statuses.push(response.status);
    }
    return statuses;
  }
});
