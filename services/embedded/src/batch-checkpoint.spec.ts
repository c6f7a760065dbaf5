import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CheckpointEntry,
  CheckpointMismatchError,
  CheckpointWriter,
  entryLine,
  headerLine,
  parseCheckpoint,
  readCheckpoint,
  resumableEntries,
  sha256,
  writeFileAtomic,
} from './batch-checkpoint';

const HASH = sha256('the input');
const IDS = ['a', 'b', 'c'];
const header = { assent_batch_checkpoint: 1 as const, input_sha256: HASH, conversations: IDS.length };
const entry = (index: number, failed = false): CheckpointEntry => ({
  index,
  id: IDS[index],
  failed,
  result: { id: IDS[index], turns: [{ kind: 'info', reply: `reply ${index}` }] },
});
const input = { path: 'in.jsonl', sha256: HASH, ids: IDS };

describe('parseCheckpoint', () => {
  it('reads the header and one entry per line, by input index', () => {
    const parsed = parseCheckpoint(headerLine(header) + entryLine(entry(2)) + entryLine(entry(0, true)));
    expect(parsed.header).toEqual(header);
    expect([...parsed.entries.keys()]).toEqual([2, 0]);
    expect(parsed.entries.get(0)).toEqual(entry(0, true));
    expect(parsed).toMatchObject({ torn: false, unreadable: 0 });
  });

  it('ignores a last line cut short by a kill, so that conversation is replayed', () => {
    const whole = headerLine(header) + entryLine(entry(0));
    const last = entryLine(entry(1));
    // Every cut inside the last line, including the one that leaves all but its newline.
    for (let cut = 1; cut < last.length; cut++) {
      const parsed = parseCheckpoint(whole + last.slice(0, cut));
      expect([...parsed.entries.keys()]).toEqual([0]);
      expect(parsed.torn).toBe(true);
    }
    expect(parseCheckpoint(whole + last).entries.has(1)).toBe(true);
  });

  it('has nothing to resume from an empty file or a torn or foreign header', () => {
    expect(parseCheckpoint('')).toMatchObject({ header: null, torn: false, unreadable: 0 });
    const torn = parseCheckpoint(headerLine(header).slice(0, 20));
    expect(torn).toMatchObject({ header: null, torn: true });
    const foreign = parseCheckpoint('{"hello":"world"}\n' + entryLine(entry(0)));
    expect(foreign).toMatchObject({ header: null, unreadable: 1 });
    expect(foreign.entries.size).toBe(0);
  });

  it('skips unreadable and blank lines and keeps the first line for an index', () => {
    const parsed = parseCheckpoint(
      headerLine(header) + entryLine(entry(0)) + 'garbage\n\n{"index":1}\n' + entryLine({ ...entry(0), failed: true }),
    );
    expect(parsed.unreadable).toBe(2);
    expect([...parsed.entries.values()]).toEqual([entry(0)]);
  });
});

describe('resumableEntries', () => {
  it('keeps the entries of a checkpoint written for this input', () => {
    const parsed = parseCheckpoint(headerLine(header) + entryLine(entry(1)));
    expect([...resumableEntries(parsed, input, 'out.checkpoint.jsonl').keys()]).toEqual([1]);
  });

  it('refuses a checkpoint written for another input, naming both hashes', () => {
    const parsed = parseCheckpoint(headerLine({ ...header, input_sha256: sha256('another input') }));
    expect(() => resumableEntries(parsed, input, 'out.checkpoint.jsonl')).toThrow(CheckpointMismatchError);
    expect(() => resumableEntries(parsed, input, 'out.checkpoint.jsonl')).toThrow(
      new RegExp(`different input .*${sha256('another input').slice(0, 12)}.*in\\.jsonl has ${HASH.slice(0, 12)}`),
    );
  });

  it('refuses a checkpoint whose count or ids do not fit the input', () => {
    const count = parseCheckpoint(headerLine({ ...header, conversations: 4 }));
    expect(() => resumableEntries(count, input, 'cp')).toThrow(/counts 4 conversations, in\.jsonl has 3/);
    const misplaced = parseCheckpoint(headerLine(header) + entryLine({ ...entry(0), index: 2 }));
    expect(() => resumableEntries(misplaced, input, 'cp')).toThrow(CheckpointMismatchError);
  });

  it('starts over, without complaint, when there was no header', () => {
    expect(resumableEntries(parseCheckpoint(''), input, 'cp').size).toBe(0);
  });
});

describe('the checkpoint on disk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'assent-checkpoint-'));

  it('replaces an older checkpoint, appends one line per entry and is gone once removed', async () => {
    const path = join(dir, 'out.checkpoint.jsonl');
    writeFileSync(path, 'an older run\n');
    const writer = await CheckpointWriter.create(path, header);
    await Promise.all([writer.append(entry(2)), writer.append(entry(0)), writer.append(entry(1))]);
    const parsed = parseCheckpoint((await readCheckpoint(path))!);
    expect(parsed.header).toEqual(header);
    expect([...parsed.entries.keys()]).toEqual([2, 0, 1]);
    await writer.remove();
    expect(await readCheckpoint(path)).toBeNull();
  });

  it('rewrites a resumed checkpoint without its torn line, so the next line is not glued to it', async () => {
    const path = join(dir, 'torn.checkpoint.jsonl');
    writeFileSync(path, headerLine(header) + entryLine(entry(0)) + entryLine(entry(1)).slice(0, 15));
    const kept = parseCheckpoint((await readCheckpoint(path))!).entries.values();
    const writer = await CheckpointWriter.create(path, header, kept);
    await writer.append(entry(1));
    await writer.close();
    const parsed = parseCheckpoint(readFileSync(path, 'utf8'));
    expect(parsed).toMatchObject({ torn: false, unreadable: 0 });
    expect([...parsed.entries.keys()]).toEqual([0, 1]);
  });

  it('writes a file atomically and leaves no temporary file behind', async () => {
    const path = join(dir, 'atomic.jsonl');
    writeFileSync(path, 'old\n');
    await writeFileAtomic(path, 'new\n');
    expect(readFileSync(path, 'utf8')).toBe('new\n');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
