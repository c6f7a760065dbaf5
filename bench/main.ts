/**
 * Entry point of `npm run bench -- <group> [options]` (scripts/bench.sh builds, then runs this).
 * Each group prints `BENCH <name> value=<n> unit=<u> baseline=<n> ratio=<value/baseline>` lines
 * on stdout; progress and diagnostics go to stderr. Exit code 0 only when every figure was measured.
 *
 * To add a group: write bench/<group>.ts exporting `run(ctx: BenchContext)` and add it below.
 */
import { BenchGroup } from './lib/group';

const groups: Record<string, () => Promise<BenchGroup>> = {
  backbone: () => import('./backbone'),
  journey: () => import('./journey'),
  model: () => import('./model'),
};

async function main(): Promise<number> {
  const [name, ...args] = process.argv.slice(2);
  if (name === '--list') {
    process.stdout.write(`${Object.keys(groups).join('\n')}\n`);
    return 0;
  }
  const load =
    name === undefined ? undefined : Object.prototype.hasOwnProperty.call(groups, name) ? groups[name] : undefined;
  if (!load) {
    process.stderr.write(
      `bench: ${name === undefined ? 'no figure group given' : `unknown figure group "${name}"`}; ` +
        `usage: npm run bench -- <group> [options], groups: ${Object.keys(groups).join(', ')}\n`,
    );
    return 2;
  }
  const group = await load();
  await group.run({ args });
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
