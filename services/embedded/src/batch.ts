import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { issueAccessToken } from '@assent/runtime';
import {
  CheckpointEntry,
  checkpointPath,
  CheckpointWriter,
  parseCheckpoint,
  readCheckpoint,
  resumableEntries,
  sha256,
  writeFileAtomic,
} from './batch-checkpoint';
import { ShopperClient, type ShopperTurn } from './client';

export const MAX_CONCURRENCY = 64;
export const DEFAULT_TIMEOUT_MS = 120_000;
/** Per request and for a pending turn, as ShopperClient: a conversation deadline does not lift them. */
const REQUEST_TIMEOUT_MS = 60_000;
const PENDING_DEADLINE_MS = 30_000;

const Conversation = z.object({
  id: z.string().min(1),
  user_id: z.string().min(1).optional(),
  turns: z.array(z.string()),
});
type Conversation = z.infer<typeof Conversation>;

export interface BatchProgress {
  /** Conversations finished, including those kept from the checkpoint. */
  done: number;
  total: number;
  failed: number;
  /** Of `done`, how many came from the checkpoint (they do not count towards the rate). */
  resumed: number;
  /** When this run started playing, in ms since the epoch. */
  startedAt: number;
}

export interface BatchOptions {
  input: string;
  output: string;
  baseUrl: string;
  secret: Uint8Array;
  concurrency: number;
  /** Per conversation: past it the remaining turns are error turns and the conversation's requests are aborted. */
  timeoutMs?: number;
  /** Keep the conversations a killed run already finished (its checkpoint); otherwise the checkpoint is replaced. */
  resume?: boolean;
  /** From planBatch, when the caller wanted the input and the checkpoint checked before starting Assent. */
  plan?: BatchPlan;
  onProgress?: (progress: BatchProgress) => void;
}

export interface BatchPlan {
  checkpoint: string;
  conversations: Conversation[];
  inputSha256: string;
  /** Finished conversations kept from the checkpoint, by input index. */
  kept: Map<number, CheckpointEntry>;
  /** What a resume found: null when not resuming or there was no checkpoint to resume from. */
  resumed: { torn: boolean; unreadable: number } | null;
}

/** The turn as the batch format of ../shared/intents/README.md lists it. */
function batchTurn(turn: ShopperTurn) {
  if (turn.kind === 'pending') return errorTurn('no answer in time');
  const { turn_id: _id, confirmation: _c, ...rest } = turn as ShopperTurn & { position?: number };
  void _id;
  void _c;
  delete (rest as { position?: number }).position;
  return rest;
}

function errorTurn(reply: string) {
  return { kind: 'error', reply, suggestions: [], alternatives: [], summary: null, order_id: null };
}

function parseConversations(path: string, text: string): Conversation[] {
  const conversations: Conversation[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (error) {
      throw new Error(`${path}:${i + 1}: ${(error as Error).message}`);
    }
    const parsed = Conversation.safeParse(json);
    if (!parsed.success) throw new Error(`${path}:${i + 1}: ${parsed.error.issues.map((x) => x.message).join('; ')}`);
    conversations.push(parsed.data);
  });
  return conversations;
}

/**
 * Reads the input and, on a resume, the checkpoint, before anything is played: a resume against a
 * different input fails here (CheckpointMismatchError), before the caller starts an Assent.
 */
export async function planBatch(options: { input: string; output: string; resume?: boolean }): Promise<BatchPlan> {
  const bytes = await readFile(options.input);
  const conversations = parseConversations(options.input, bytes.toString('utf8'));
  const inputSha256 = sha256(bytes);
  const checkpoint = checkpointPath(options.output);
  const plan: BatchPlan = { checkpoint, conversations, inputSha256, kept: new Map(), resumed: null };
  if (!options.resume) return plan;
  const text = await readCheckpoint(checkpoint);
  if (text === null) return plan;
  const parsed = parseCheckpoint(text);
  plan.kept = resumableEntries(
    parsed,
    { path: options.input, sha256: inputSha256, ids: conversations.map((c) => c.id) },
    checkpoint,
  );
  plan.resumed = { torn: parsed.torn, unreadable: parsed.unreadable };
  return plan;
}

async function playConversation(
  c: Conversation,
  index: number,
  options: Pick<BatchOptions, 'baseUrl' | 'secret'> & { timeoutMs: number },
): Promise<CheckpointEntry> {
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const turns: unknown[] = [];
  let failed = false;
  try {
    const shopper = c.user_id ?? `guest-${index + 1}`;
    const token = await issueAccessToken({ subject: shopper, roles: ['shopper'] }, options.secret);
    const api = new ShopperClient(options.baseUrl, token, REQUEST_TIMEOUT_MS, deadline);
    const conversationId = await api.startConversation();
    for (const text of c.turns) {
      deadline.throwIfAborted();
      turns.push(batchTurn(await api.say(conversationId, text, PENDING_DEADLINE_MS)));
    }
  } catch (error) {
    failed = true;
    const reply = deadline.aborted
      ? `conversation timed out after ${options.timeoutMs} ms (--timeout-ms)`
      : String(error);
    while (turns.length < c.turns.length) turns.push(errorTurn(reply));
  }
  return { index, id: c.id, failed, result: { id: c.id, turns } };
}

function checkRange(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be a whole number from ${min} to ${max}, not ${value}`);
  }
}

/**
 * Plays each conversation as its own shopper (its user_id) in its own conversation, and writes one
 * line per conversation in input order. A failing or timed-out conversation is written with error
 * turns; it does not stop the others. Each finished conversation is checkpointed at once, so a
 * killed run resumes (resume: true) where it stopped; the output appears, whole, only at the end.
 */
export async function runBatch(options: BatchOptions): Promise<{ conversations: number; failed: number }> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  checkRange('concurrency', options.concurrency, 1, MAX_CONCURRENCY);
  checkRange('timeout', timeoutMs, 1, 2 ** 31 - 1);
  const plan = options.plan ?? (await planBatch(options));
  const total = plan.conversations.length;
  const results = new Map(plan.kept);
  let failed = [...results.values()].filter((e) => e.failed).length;
  const kept = [...plan.kept.values()].sort((a, b) => a.index - b.index);
  const checkpoint = await CheckpointWriter.create(
    plan.checkpoint,
    { assent_batch_checkpoint: 1, input_sha256: plan.inputSha256, conversations: total },
    kept,
  );
  const startedAt = Date.now();
  const progress = () =>
    options.onProgress?.({ done: results.size, total, failed, resumed: plan.kept.size, startedAt });
  try {
    progress();
    const todo = plan.conversations.map((_, i) => i).filter((i) => !results.has(i));
    let next = 0;
    let stop = false;
    const worker = async () => {
      while (next < todo.length && !stop) {
        const index = todo[next++];
        const entry = await playConversation(plan.conversations[index], index, { ...options, timeoutMs });
        try {
          await checkpoint.append(entry);
        } catch (error) {
          // Without its checkpoint a run cannot promise a resume; stop taking conversations.
          stop = true;
          throw error;
        }
        results.set(index, entry);
        if (entry.failed) failed++;
        progress();
      }
    };
    // allSettled: every worker is done with the checkpoint before it is closed, even on a failure.
    const settled = await Promise.allSettled(
      Array.from({ length: Math.min(options.concurrency, todo.length) }, worker),
    );
    const rejected = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (rejected) throw rejected.reason;
    let text = '';
    for (let i = 0; i < total; i++) text += `${JSON.stringify(results.get(i)!.result)}\n`;
    await writeFileAtomic(options.output, text);
  } catch (error) {
    await checkpoint.close();
    throw error;
  }
  // After the output is in place: a kill before this leaves a complete checkpoint, and the resume
  // rewrites the same output.
  await checkpoint.remove();
  return { conversations: total, failed };
}

export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(chunk: string): unknown;
}

function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** done/total, percentage, rate and ETA (over the conversations this run played), failures. */
export function formatProgress(p: BatchProgress, now: number): string {
  const percent = p.total ? Math.floor((p.done * 100) / p.total) : 100;
  const played = p.done - p.resumed;
  const seconds = (now - p.startedAt) / 1000;
  const rate = played > 0 && seconds > 0 ? played / seconds : 0;
  const eta = p.done >= p.total ? '0s' : rate ? duration((p.total - p.done) / rate) : '?';
  return (
    `${p.done}/${p.total} ${percent}% ${rate ? rate.toFixed(1) : '?'} conv/s ETA ${eta}, ${p.failed} failed` +
    (p.resumed ? ` (${p.resumed} resumed)` : '')
  );
}

/**
 * Progress on stderr: on a terminal one line redrawn in place (at most every 100 ms); otherwise
 * (a log, CI) a plain line each time another whole percent is done, so a log stays short.
 */
export function progressReporter(stream: ProgressStream, now: () => number = Date.now) {
  let drawn = false;
  let lastDraw = 0;
  let lastPercent = -1;
  return {
    update(p: BatchProgress): void {
      const finished = p.done >= p.total;
      if (stream.isTTY) {
        const t = now();
        if (!finished && drawn && t - lastDraw < 100) return;
        const width = 24;
        const filled = p.total ? Math.round((p.done / p.total) * width) : width;
        const line = `batch [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${formatProgress(p, t)}`;
        // \r and erase-to-end-of-line redraw the line; cut to the width so it never wraps (a pty may report 0 columns).
        stream.write(`\r${line.slice(0, Math.max(20, (stream.columns || 80) - 1))}\x1b[K`);
        drawn = true;
        lastDraw = t;
        return;
      }
      const percent = p.total ? Math.floor((p.done * 100) / p.total) : 100;
      if (percent === lastPercent) return;
      lastPercent = percent;
      stream.write(`batch: ${formatProgress(p, now())}\n`);
    },
    /** Ends the redrawn line so what follows starts on its own. */
    finish(): void {
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}
