/**
 * The batch checkpoint: a sidecar JSONL file beside the output (`<output>.checkpoint.jsonl`). Its
 * first line names the input by its SHA-256, so a resume against another input is refused rather
 * than mixing two batches; each further line is one finished conversation, appended and fsync'd as
 * soon as it finishes, so a run killed at any moment loses at most the conversations in flight.
 */
import { createHash } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';

const Header = z.object({
  assent_batch_checkpoint: z.literal(1),
  input_sha256: z.string().regex(/^[0-9a-f]{64}$/),
  conversations: z.number().int().nonnegative(),
});
export type CheckpointHeader = z.infer<typeof Header>;

const Entry = z.object({
  index: z.number().int().nonnegative(),
  id: z.string(),
  failed: z.boolean(),
  result: z.object({ id: z.string(), turns: z.array(z.unknown()) }),
});
export type CheckpointEntry = z.infer<typeof Entry>;

export interface ParsedCheckpoint {
  /** Null when the file is empty or its header unreadable: there is nothing to resume from. */
  header: CheckpointHeader | null;
  /** Finished conversations by input index; the first line for an index wins. */
  entries: Map<number, CheckpointEntry>;
  /** The last line was cut short (the run was killed mid-write); it was ignored, so it is replayed. */
  torn: boolean;
  /** Complete lines that could not be read, ignored likewise (their conversations are replayed). */
  unreadable: number;
}

export class CheckpointMismatchError extends Error {}

export function checkpointPath(output: string): string {
  return `${output}.checkpoint.jsonl`;
}

export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function headerLine(header: CheckpointHeader): string {
  return `${JSON.stringify(header)}\n`;
}

export function entryLine(entry: CheckpointEntry): string {
  return `${JSON.stringify(entry)}\n`;
}

function parseLine<T>(schema: z.ZodType<T>, line: string): T | null {
  try {
    const parsed = schema.safeParse(JSON.parse(line));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Reads a checkpoint's text. Pure, and lenient where a kill can leave damage: it never throws. */
export function parseCheckpoint(text: string): ParsedCheckpoint {
  const lines = text.split('\n');
  // Every line is written with its newline in one write, so text after the last newline is a line
  // the writer was killed in the middle of.
  const tail = lines.pop() ?? '';
  const parsed: ParsedCheckpoint = { header: null, entries: new Map(), torn: tail.trim() !== '', unreadable: 0 };
  const [first, ...rest] = lines;
  parsed.header = first === undefined ? null : parseLine(Header, first);
  if (!parsed.header) {
    // Without the header nothing can be trusted to belong to this input: nothing to resume.
    if (first !== undefined && first.trim() !== '') parsed.unreadable++;
    return parsed;
  }
  for (const line of rest) {
    if (!line.trim()) continue;
    const entry = parseLine(Entry, line);
    if (!entry) parsed.unreadable++;
    else if (!parsed.entries.has(entry.index)) parsed.entries.set(entry.index, entry);
  }
  return parsed;
}

/**
 * The finished conversations a resume may keep. Refuses (CheckpointMismatchError) a checkpoint
 * written for another input: its results would be written under this input's ids.
 */
export function resumableEntries(
  parsed: ParsedCheckpoint,
  input: { path: string; sha256: string; ids: readonly string[] },
  checkpoint: string,
): Map<number, CheckpointEntry> {
  if (!parsed.header) return new Map();
  const refuse = (why: string) =>
    new CheckpointMismatchError(
      `cannot resume: ${checkpoint} ${why}; run without --resume to start over (that replaces the checkpoint)`,
    );
  if (parsed.header.input_sha256 !== input.sha256) {
    throw refuse(
      `was written for a different input (sha256 ${parsed.header.input_sha256.slice(0, 12)}…, ` +
        `${input.path} has ${input.sha256.slice(0, 12)}…)`,
    );
  }
  if (parsed.header.conversations !== input.ids.length) {
    throw refuse(`counts ${parsed.header.conversations} conversations, ${input.path} has ${input.ids.length}`);
  }
  for (const [index, entry] of parsed.entries) {
    if (input.ids[index] !== entry.id || entry.result.id !== entry.id) {
      throw refuse(`has conversation ${JSON.stringify(entry.id)} at line ${index + 1} of the input, which is not it`);
    }
  }
  return parsed.entries;
}

export async function readCheckpoint(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** A rename only survives a crash once the directory holding the new name is on disk too. */
async function syncDirectory(path: string): Promise<void> {
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } catch {
    // Some file systems refuse fsync on a directory; the rename is still atomic there.
  } finally {
    await dir.close();
  }
}

/** Writes a file so that readers see the old content or all of the new, never a part of it. */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  const file = await open(temporary, 'w');
  try {
    await file.writeFile(data, 'utf8');
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temporary, path);
  await syncDirectory(path);
}

/** Appends finished conversations to the checkpoint, one durable line each, one at a time. */
export class CheckpointWriter {
  private queue: Promise<void> = Promise.resolve();

  private constructor(
    readonly path: string,
    private readonly file: Awaited<ReturnType<typeof open>>,
  ) {}

  /**
   * Starts the checkpoint afresh with the header and the entries kept from a resume. Rewriting it
   * (rather than appending to the old file) drops a torn last line, which would otherwise end up
   * glued to the next entry, and replaces any older checkpoint in one rename.
   */
  static async create(
    path: string,
    header: CheckpointHeader,
    kept: Iterable<CheckpointEntry> = [],
  ): Promise<CheckpointWriter> {
    let text = headerLine(header);
    for (const entry of kept) text += entryLine(entry);
    await writeFileAtomic(path, text);
    return new CheckpointWriter(path, await open(path, 'a'));
  }

  append(entry: CheckpointEntry): Promise<void> {
    const line = entryLine(entry);
    const write = this.queue.then(async () => {
      // One write per line, so a kill leaves at most the last line torn.
      await this.file.write(line);
      await this.file.datasync();
    });
    // A failed append fails its caller; later appends still run.
    this.queue = write.catch(() => undefined);
    return write;
  }

  async close(): Promise<void> {
    await this.queue;
    await this.file.close();
  }

  async remove(): Promise<void> {
    await this.close();
    await unlink(this.path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
}
