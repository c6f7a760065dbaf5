import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { issueAccessToken } from '@assent/runtime';
import { ShopperClient, ShopperTurn } from './client';

const Conversation = z.object({
  id: z.string().min(1),
  user_id: z.string().min(1).optional(),
  turns: z.array(z.string()),
});
type Conversation = z.infer<typeof Conversation>;

export interface BatchOptions {
  input: string;
  output: string;
  baseUrl: string;
  secret: Uint8Array;
  concurrency: number;
  onProgress?: (done: number, total: number) => void;
}

/** The turn as the batch format of ../shared/intents/README.md lists it. */
function batchTurn(turn: ShopperTurn) {
  if (turn.kind === 'pending') {
    return {
      kind: 'error',
      reply: 'no answer in time',
      suggestions: [],
      alternatives: [],
      summary: null,
      order_id: null,
    };
  }
  const { turn_id: _id, confirmation: _c, ...rest } = turn as ShopperTurn & { position?: number };
  void _id;
  void _c;
  delete (rest as { position?: number }).position;
  return rest;
}

async function readConversations(path: string): Promise<Conversation[]> {
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  const conversations: Conversation[] = [];
  let n = 0;
  for await (const line of lines) {
    n++;
    if (!line.trim()) continue;
    const parsed = Conversation.safeParse(JSON.parse(line));
    if (!parsed.success) throw new Error(`${path}:${n}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    conversations.push(parsed.data);
  }
  return conversations;
}

/**
 * Plays each conversation as its own shopper (its user_id) in its own conversation, and writes one
 * line per conversation in input order. A failing conversation is written with an error turn; it
 * does not stop the others.
 */
export async function runBatch(options: BatchOptions): Promise<{ conversations: number; failed: number }> {
  const conversations = await readConversations(options.input);
  const results: string[] = new Array(conversations.length);
  let next = 0;
  let done = 0;
  let failed = 0;
  const play = async (c: Conversation, index: number) => {
    const shopper = c.user_id ?? `guest-${index + 1}`;
    const client = new ShopperClient(
      options.baseUrl,
      await issueAccessToken({ subject: shopper, roles: ['shopper'] }, options.secret),
    );
    const turns: unknown[] = [];
    try {
      const conversationId = await client.startConversation();
      for (const text of c.turns) turns.push(batchTurn(await client.say(conversationId, text)));
    } catch (error) {
      failed++;
      while (turns.length < c.turns.length) {
        turns.push({
          kind: 'error',
          reply: String(error),
          suggestions: [],
          alternatives: [],
          summary: null,
          order_id: null,
        });
      }
    }
    results[index] = JSON.stringify({ id: c.id, turns });
  };
  const worker = async () => {
    while (next < conversations.length) {
      const index = next++;
      await play(conversations[index], index);
      options.onProgress?.(++done, conversations.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  const out = createWriteStream(options.output, 'utf8');
  for (const line of results) out.write(`${line}\n`);
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  return { conversations: conversations.length, failed };
}
