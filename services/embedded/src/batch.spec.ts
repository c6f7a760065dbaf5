import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatProgress, planBatch, progressReporter, runBatch } from './batch';
import { CheckpointMismatchError, checkpointPath, entryLine, headerLine, sha256 } from './batch-checkpoint';
import { eventually } from '@assent/testing';

const dir = mkdtempSync(join(tmpdir(), 'assent-batch-unit-'));
const conversations = [
  { id: 'a', turns: ['hello'] },
  { id: 'b', turns: ['hello', 'again'] },
];
const inputText = conversations.map((c) => JSON.stringify(c)).join('\n') + '\n';
const input = join(dir, 'in.jsonl');
writeFileSync(input, inputText);
/** Nothing listens here: a run that needs no request must not make one. */
const NOWHERE = 'http://127.0.0.1:9';
const secret = randomBytes(32);

const done = (index: number) => ({
  index,
  id: conversations[index].id,
  failed: false,
  result: { id: conversations[index].id, turns: conversations[index].turns.map((t) => ({ kind: 'info', reply: t })) },
});

describe('runBatch without an Assent', () => {
  it('refuses concurrency outside 1..64', async () => {
    for (const concurrency of [0, 65, 1.5]) {
      await expect(runBatch({ input, output: join(dir, 'x'), baseUrl: NOWHERE, secret, concurrency })).rejects.toThrow(
        /concurrency must be a whole number from 1 to 64/,
      );
    }
  });

  it('refuses to resume a checkpoint of another input, and leaves it be', async () => {
    const output = join(dir, 'other.jsonl');
    const foreign = headerLine({ assent_batch_checkpoint: 1, input_sha256: sha256('other'), conversations: 2 });
    writeFileSync(checkpointPath(output), foreign);
    await expect(planBatch({ input, output, resume: true })).rejects.toThrow(CheckpointMismatchError);
    await expect(runBatch({ input, output, baseUrl: NOWHERE, secret, concurrency: 1, resume: true })).rejects.toThrow(
      /was written for a different input/,
    );
    expect(readFileSync(checkpointPath(output), 'utf8')).toBe(foreign);
    expect(existsSync(output)).toBe(false);
  });

  it('writes the output in input order from a complete checkpoint and removes the checkpoint', async () => {
    const output = join(dir, 'complete.jsonl');
    const header = { assent_batch_checkpoint: 1 as const, input_sha256: sha256(inputText), conversations: 2 };
    writeFileSync(checkpointPath(output), headerLine(header) + entryLine(done(1)) + entryLine(done(0)));
    const progress: number[] = [];
    const result = await runBatch({
      input,
      output,
      baseUrl: NOWHERE,
      secret,
      concurrency: 4,
      resume: true,
      onProgress: (p) => progress.push(p.done),
    });
    expect(result).toEqual({ conversations: 2, failed: 0 });
    expect(readFileSync(output, 'utf8')).toBe(`${JSON.stringify(done(0).result)}\n${JSON.stringify(done(1).result)}\n`);
    expect(existsSync(checkpointPath(output))).toBe(false);
    expect(progress).toEqual([2]);
  });
});

describe('the conversation deadline', () => {
  let server: Server;
  let url: string;
  const aborted: string[] = [];

  beforeAll(async () => {
    // Creates conversations at once and never answers a message: only the deadline ends one.
    server = createServer((req: IncomingMessage, res) => {
      if (req.url === '/v1/conversations') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ id: 'c1' }));
        return;
      }
      req.resume();
      res.on('close', () => aborted.push(req.url!));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('writes error turns naming the timeout for the rest of the conversation and aborts its request', async () => {
    const output = join(dir, 'timeout.jsonl');
    const started = Date.now();
    const result = await runBatch({ input, output, baseUrl: url, secret, concurrency: 2, timeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(result).toEqual({ conversations: 2, failed: 2 });
    const lines = readFileSync(output, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; turns: Array<{ kind: string; reply: string }> });
    expect(lines.map((l) => [l.id, l.turns.length])).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    for (const turn of lines.flatMap((l) => l.turns)) {
      expect(turn).toEqual(
        expect.objectContaining({ kind: 'error', reply: 'conversation timed out after 300 ms (--timeout-ms)' }),
      );
    }
    // The server saw both message requests go away at the deadline, not at the 60 s request limit
    // (the close reaches the server a moment later, longer on a busy machine).
    await eventually(
      () => expect(aborted).toEqual(['/v1/conversations/c1/messages', '/v1/conversations/c1/messages']),
      5000,
    );
  });
});

describe('progress', () => {
  const p = { done: 50, total: 148, failed: 2, resumed: 20, startedAt: 0 };

  it('reports done/total, rate over this run, ETA and failures', () => {
    expect(formatProgress(p, 10_000)).toBe('50/148 33% 3.0 conv/s ETA 33s, 2 failed (20 resumed)');
    expect(formatProgress({ ...p, done: 20 }, 10_000)).toBe('20/148 13% ? conv/s ETA ?, 2 failed (20 resumed)');
    expect(formatProgress({ ...p, done: 148, resumed: 0 }, 1_000_000)).toMatch(/^148\/148 100% .* ETA 0s/);
    expect(formatProgress({ ...p, done: 21, resumed: 20 }, 60_000)).toContain('ETA 2h07m');
  });

  it('redraws one line on a terminal, at most every 100 ms, and ends it', () => {
    const out: string[] = [];
    let now = 0;
    const reporter = progressReporter({ isTTY: true, columns: 200, write: (s) => out.push(s) }, () => now);
    reporter.update({ ...p, done: 20 });
    now = 50;
    reporter.update({ ...p, done: 21 });
    now = 150;
    reporter.update({ ...p, done: 22 });
    reporter.update({ ...p, done: 148 });
    reporter.finish();
    expect(out).toHaveLength(4);
    expect(out.slice(0, 3).every((s) => s.startsWith('\r') && s.endsWith('\x1b[K') && !s.includes('\n'))).toBe(true);
    expect(out[1]).toMatch(/^\rbatch \[#{4}-{20}\] 22\/148 /);
    expect(out[2]).toContain(`batch [${'#'.repeat(24)}] 148/148 100%`);
    expect(out[3]).toBe('\n');
  });

  it('writes plain lines elsewhere, one per whole percent', () => {
    const out: string[] = [];
    const reporter = progressReporter({ isTTY: false, write: (s) => out.push(s) }, () => 1000);
    for (let done = 0; done <= 300; done++) reporter.update({ ...p, done, total: 300, resumed: 0 });
    reporter.finish();
    expect(out).toHaveLength(101);
    expect(out.every((s) => /^batch: \d+\/300 \d+% /.test(s) && s.endsWith('\n'))).toBe(true);
  });
});
