import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBatch } from './batch';
import { EmbeddedAssent, startEmbedded } from './embedded';
import { scoreIntentCases } from '@assent/testing';

const ROOT = join(__dirname, '..', '..', '..');
const DATA = join(ROOT, 'libs', 'testing', 'data');

describe('batch mode on the embedded default', () => {
  let assent: EmbeddedAssent;
  const dir = mkdtempSync(join(tmpdir(), 'assent-batch-'));

  beforeAll(async () => {
    assent = await startEmbedded({ dataDir: null, secret: randomBytes(32) });
  }, 120_000);

  afterAll(() => assent?.close());

  it.each([
    ['intent-cases.dev.jsonl', 28],
    ['intent-cases.wide.jsonl', 148],
  ])(
    'plays %s through the services and every case scores',
    async (file, count) => {
      const output = join(dir, `${file}.turns`);
      const result = await runBatch({
        input: join(DATA, file),
        output,
        baseUrl: assent.url,
        secret: assent.secret,
        concurrency: 4,
      });
      expect(result).toEqual({ conversations: count, failed: 0 });
      const lines = readFileSync(output, 'utf8').trim().split('\n');
      const ids = readFileSync(join(DATA, file), 'utf8')
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { id: string }).id);
      // One line per conversation, in input order.
      expect(lines.map((l) => (JSON.parse(l) as { id: string }).id)).toEqual(ids);
      const scored = { output: scoreIntentCases(join(DATA, file), output) };
      expect(scored.output).toContain(`${count} passed, 0 failed`);
    },
    180_000,
  );

  it('keeps conversations apart and writes an error turn for a conversation that cannot run', async () => {
    const input = join(dir, 'mixed.jsonl');
    writeFileSync(
      input,
      [
        {
          id: 'a',
          user_id: 'yusuf_rossi_9620',
          turns: ['I want a french press coffee maker', 'add the first one', 'check out'],
        },
        { id: 'b', user_id: 'yusuf_rossi_9620', turns: ['yes'] },
        { id: 'c', turns: ['x'.repeat(30000)] },
      ]
        .map((c) => JSON.stringify(c))
        .join('\n'),
    );
    const output = join(dir, 'mixed.out');
    const result = await runBatch({ input, output, baseUrl: assent.url, secret: assent.secret, concurrency: 3 });
    expect(result).toEqual({ conversations: 3, failed: 1 });
    const [a, b, c] = readFileSync(output, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { turns: Array<{ kind: string; reply: string }> });
    expect(a.turns.map((t) => t.kind)).toEqual(['suggestions', 'info', 'confirmation_required']);
    // Same shopper, another conversation: a's pending confirmation is not b's to answer.
    expect(b.turns[0].kind).toBe('info');
    expect(c.turns).toEqual([expect.objectContaining({ kind: 'error', reply: expect.stringMatching(/400/) })]);
  }, 120_000);
});
