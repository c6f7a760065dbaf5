import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

/** The intent case files and the agreed scorer, kept in libs/testing/data. */
export const INTENT_CASES = {
  dev: join(ROOT, 'libs', 'testing', 'data', 'intent-cases.dev.jsonl'),
  wide: join(ROOT, 'libs', 'testing', 'data', 'intent-cases.wide.jsonl'),
};

/**
 * Scores batch output with the agreed scorer (`score-intents.mjs`), which looks every suggested item
 * up in our copy of the catalog. Returns its report; the last line reads `N passed, M failed`.
 */
export function scoreIntentCases(cases: string, turns: string): string {
  try {
    return execFileSync(
      process.execPath,
      [
        join(ROOT, 'libs', 'testing', 'data', 'score-intents.mjs'),
        '--cases',
        cases,
        '--turns',
        turns,
        '--catalog',
        join(ROOT, 'libs', 'taubench', 'data', 'products.json'),
      ],
      { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } },
    );
  } catch (error) {
    // It exits 1 when a case fails; the report is what the caller asserts on.
    return (error as { stdout: string }).stdout;
  }
}
