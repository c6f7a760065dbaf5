import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkpointPath, headerLine, parseCheckpoint, sha256 } from './batch-checkpoint';
import { scoreIntentCases } from '@assent/testing';

const ROOT = join(__dirname, '..', '..', '..');
const DATA = join(ROOT, 'libs', 'testing', 'data');
const WIDE = join(DATA, 'intent-cases.wide.jsonl');
const CLI = join(ROOT, 'services', 'embedded', 'dist', 'cli.js');
const inputLines = readFileSync(WIDE, 'utf8').trim().split('\n');
const IDS = inputLines.map((l) => (JSON.parse(l) as { id: string }).id);
const TURNS = inputLines.map((l) => (JSON.parse(l) as { turns: string[] }).turns.length);

interface Run {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The built command line, as a user runs it (the test checks the build is not older than the sources). */
function cli(...args: string[]): Run {
  const child = spawn(process.execPath, [CLI, 'batch', ...args], {
    cwd: ROOT,
    env: { ...process.env, NODE_OPTIONS: '', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, stderr: () => stderr, exited };
}

/** Conversations in the checkpoint (0 while it does not exist yet). */
function checkpointed(output: string): number {
  const path = checkpointPath(output);
  return existsSync(path) ? parseCheckpoint(readFileSync(path, 'utf8')).entries.size : 0;
}

const random = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the run has checkpointed `count` conversations, then SIGKILLs it a random moment later. */
async function killWhenCheckpointed(run: Run, output: string, count: number): Promise<void> {
  let exited = false;
  void run.exited.then(() => (exited = true));
  while (checkpointed(output) < count) {
    if (exited) throw new Error(`the run ended before it was killed:\n${run.stderr()}`);
    await sleep(10);
  }
  await sleep(random(0, 150));
  run.child.kill('SIGKILL');
  expect(await run.exited).toEqual({ code: null, signal: 'SIGKILL' });
}

describe('batch from the command line, killed and resumed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'assent-batch-resume-'));
  const runs: Run[] = [];
  const start = (...args: string[]) => {
    const run = cli(...args);
    runs.push(run);
    return run;
  };

  beforeAll(() => {
    for (const name of ['cli', 'batch', 'batch-checkpoint']) {
      const built = join(ROOT, 'services', 'embedded', 'dist', `${name}.js`);
      const source = join(__dirname, `${name}.ts`);
      if (!existsSync(built) || statSync(built).mtimeMs < statSync(source).mtimeMs) {
        throw new Error(`${built} is missing or older than its source: run npm run build first`);
      }
    }
  });

  afterAll(() => {
    for (const run of runs) if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
  });

  it('writes every conversation exactly once, in input order, after two SIGKILLs, and every case scores', async () => {
    const output = join(dir, 'wide.turns.jsonl');
    const args = ['--input', WIDE, '--output', output, '--concurrency', '4'];
    // A checkpoint of another run is replaced, not resumed, without --resume.
    writeFileSync(
      checkpointPath(output),
      headerLine({ assent_batch_checkpoint: 1, input_sha256: sha256('x'), conversations: 1 }),
    );

    const first = start(...args);
    await killWhenCheckpointed(first, output, random(5, 40));
    const afterFirst = checkpointed(output);
    // The output appears only once everything is done.
    expect(existsSync(output)).toBe(false);

    const second = start(...args, '--resume');
    await killWhenCheckpointed(second, output, afterFirst + random(5, 40));
    const afterSecond = checkpointed(output);
    expect(second.stderr()).toContain(`${afterFirst} of 148 conversations done`);
    expect(existsSync(output)).toBe(false);

    const third = start(...args, '--resume');
    expect(await third.exited).toEqual({ code: 0, signal: null });
    expect(third.stderr()).toContain(`${afterSecond} of 148 conversations done`);
    expect(third.stderr()).toMatch(/wrote 148 conversations/);

    const lines = readFileSync(output, 'utf8').trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { id: string }).id)).toEqual(IDS);
    expect(existsSync(checkpointPath(output))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(scoreIntentCases(WIDE, output)).toContain('148 passed, 0 failed');
  }, 240_000);

  it('refuses to resume against another input, before starting Assent', async () => {
    const output = join(dir, 'other.turns.jsonl');
    const foreign = headerLine({ assent_batch_checkpoint: 1, input_sha256: sha256('x'), conversations: 148 });
    writeFileSync(checkpointPath(output), foreign);
    const run = start('--input', WIDE, '--output', output, '--resume');
    expect(await run.exited).toEqual({ code: 2, signal: null });
    expect(run.stderr()).toMatch(/cannot resume: .* was written for a different input/);
    expect(run.stderr()).toContain('run without --resume to start over');
    expect(readFileSync(checkpointPath(output), 'utf8')).toBe(foreign);
  }, 60_000);

  it.each([
    [['--concurrency', '0'], '--concurrency must be a whole number, 1 to 64'],
    [['--concurrency', '65'], '--concurrency must be a whole number, 1 to 64'],
    [['--timeout-ms', '1.5'], '--timeout-ms must be a whole number'],
  ])(
    'refuses %j with the usage',
    async (flags, message) => {
      const run = start('--input', WIDE, '--output', join(dir, 'never.jsonl'), ...flags);
      expect(await run.exited).toEqual({ code: 2, signal: null });
      expect(run.stderr()).toContain(message);
      expect(run.stderr()).toContain('usage: npm run assent');
    },
    60_000,
  );

  it('with a 1 ms timeout, writes every conversation with error turns and completes', async () => {
    const output = join(dir, 'timeout.turns.jsonl');
    const run = start('--input', WIDE, '--output', output, '--concurrency', '4', '--timeout-ms', '1');
    expect(await run.exited).toEqual({ code: 1, signal: null });
    expect(run.stderr()).toMatch(/wrote 148 conversations .* \(148 failed\)/);
    const lines = readFileSync(output, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; turns: Array<{ kind: string; reply: string }> });
    expect(lines.map((l) => l.id)).toEqual(IDS);
    expect(lines.map((l) => l.turns.length)).toEqual(TURNS);
    for (const turn of lines.flatMap((l) => l.turns)) {
      expect(turn).toMatchObject({ kind: 'error', reply: 'conversation timed out after 1 ms (--timeout-ms)' });
    }
  }, 120_000);
});
