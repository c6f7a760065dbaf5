// Quiet by default: the command line prints its own output; set LOG_LEVEL to see the services' logs.
process.env.LOG_LEVEL ??= 'warn';
process.env.OTEL_TRACES_EXPORTER ??= process.env.OTEL_EXPORTER_OTLP_ENDPOINT ? 'otlp' : 'none';
process.env.OTEL_SERVICE_NAME ??= 'assent-cli';
// eslint-disable-next-line @typescript-eslint/no-require-imports
require('@assent/telemetry/register');

import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { generateMandateKeyPair } from '@assent/mandates';
import { accessTokenSecret, issueAccessToken, Role, ROLES } from '@assent/runtime';
import { shutdownTelemetry } from '@assent/telemetry';
import { DEFAULT_TIMEOUT_MS, MAX_CONCURRENCY, planBatch, progressReporter, runBatch } from './batch';
import { ShopperClient } from './client';
import { startEmbedded } from './embedded';

const USAGE = `usage: npm run assent -- <command>

  batch --input <conversations.jsonl> --output <turns.jsonl> [--url <deployment>] [--concurrency N]
        [--timeout-ms N] [--resume]
        plays each conversation (as its user_id) and writes one line per conversation, in input order;
        embedded (in memory, seeded) unless --url names a running Assent (signs tokens with ASSENT_JWT_SECRET).
        --concurrency 1..64 (default 4) conversations at a time; --timeout-ms per conversation (default
        120000): past it the remaining turns are written as error turns. Finished conversations are
        checkpointed to <output>.checkpoint.jsonl; --resume continues a killed run from it (the same input
        only), without --resume it is replaced. The output is written whole, at the end.
  chat [--url <deployment>] [--as <user_id>]
        a terminal chat; uses the Assent on PORT (default 3000) if one is running, else starts one in memory
  token <user_id> [--role shopper|agent|analyst|operator] [--ttl 12h]
        prints a development access token (signed with ASSENT_JWT_SECRET or the local development secret)
  mandate-keys [--kid <id>]
        prints a fresh Ed25519 key pair for signing cart mandates, as the two environment variables
        ASSENT_MANDATE_SIGNING_KEY (consent only) and ASSENT_MANDATE_VERIFICATION_KEYS (payment; add old
        public keys to the JWKS to rotate without refusing mandates in flight)`;

async function embeddedOrRemote(url: string | undefined, inMemory: boolean) {
  if (url) return { url, secret: accessTokenSecret(), close: async () => {} };
  return startEmbedded({ dataDir: inMemory ? null : (process.env.ASSENT_DATA_DIR ?? '.data/assent') });
}

async function isUp(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/health/live`, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'batch': {
      let values;
      try {
        ({ values } = parseArgs({
          args: rest,
          options: {
            input: { type: 'string' },
            output: { type: 'string', default: 'turns.jsonl' },
            url: { type: 'string' },
            concurrency: { type: 'string', default: '4' },
            'timeout-ms': { type: 'string', default: String(DEFAULT_TIMEOUT_MS) },
            resume: { type: 'boolean', default: false },
          },
        }));
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
      if (!values.input) throw new UsageError('batch needs --input');
      const whole = (flag: string, text: string, max: number) => {
        const n = Number(text);
        if (!/^\d+$/.test(text) || n < 1 || n > max)
          throw new UsageError(`${flag} must be a whole number, 1 to ${max}`);
        return n;
      };
      const concurrency = whole('--concurrency', values.concurrency!, MAX_CONCURRENCY);
      const timeoutMs = whole('--timeout-ms', values['timeout-ms']!, 2 ** 31 - 1);
      const output = values.output!;
      const started = Date.now();
      // Input and checkpoint first: a resume against another input is refused before Assent boots.
      const plan = await planBatch({ input: values.input, output, resume: values.resume });
      if (plan.resumed) {
        process.stderr.write(
          `batch: resuming from ${plan.checkpoint}: ${plan.kept.size} of ${plan.conversations.length} conversations done` +
            (plan.resumed.torn ? '; its last line was cut short and is replayed' : '') +
            (plan.resumed.unreadable ? `; ${plan.resumed.unreadable} unreadable lines are replayed` : '') +
            '\n',
        );
      } else if (values.resume) {
        process.stderr.write(`batch: no checkpoint at ${plan.checkpoint}, starting from the beginning\n`);
      }
      // Everything done already (killed after the last checkpoint line): no Assent needed to write it.
      const remaining = plan.conversations.length - plan.kept.size;
      const assent = remaining
        ? await embeddedOrRemote(values.url, true)
        : { url: 'http://127.0.0.1:0', secret: new Uint8Array(32), close: async () => {} };
      const progress = progressReporter(process.stderr);
      try {
        const result = await runBatch({
          input: values.input,
          output,
          baseUrl: assent.url,
          secret: assent.secret,
          concurrency,
          timeoutMs,
          plan,
          onProgress: (p) => progress.update(p),
        });
        progress.finish();
        process.stderr.write(
          `batch: wrote ${result.conversations} conversations to ${output} in ${((Date.now() - started) / 1000).toFixed(1)} s` +
            (result.failed ? ` (${result.failed} failed)` : '') +
            '\n',
        );
        return result.failed ? 1 : 0;
      } finally {
        progress.finish();
        await assent.close();
      }
    }
    case 'token': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { role: { type: 'string', default: 'shopper' }, ttl: { type: 'string', default: '12h' } },
      });
      const role = values.role as Role;
      if (!positionals[0] || !ROLES.includes(role)) throw new UsageError('token <user_id> [--role ...]');
      process.stdout.write(
        `${await issueAccessToken({ subject: positionals[0], roles: [role] }, accessTokenSecret(), values.ttl)}\n`,
      );
      return 0;
    }
    case 'mandate-keys': {
      const { values } = parseArgs({ args: rest, options: { kid: { type: 'string' } } });
      const kid = values.kid ?? `mandate-${new Date().toISOString().slice(0, 10)}`;
      const { privateJwk, publicJwk } = await generateMandateKeyPair(kid);
      process.stdout.write(
        `ASSENT_MANDATE_SIGNING_KEY='${JSON.stringify(privateJwk)}'\n` +
          `ASSENT_MANDATE_VERIFICATION_KEYS='${JSON.stringify({ keys: [publicJwk] })}'\n`,
      );
      return 0;
    }
    case 'chat': {
      const { values } = parseArgs({
        args: rest,
        options: { url: { type: 'string' }, as: { type: 'string', default: 'yusuf_rossi_9620' } },
      });
      const local = `http://127.0.0.1:${process.env.PORT ?? 3000}`;
      const url = values.url ?? ((await isUp(local)) ? local : undefined);
      const assent = await embeddedOrRemote(url, false);
      const token = await issueAccessToken({ subject: values.as!, roles: ['shopper'] }, assent.secret);
      const client = new ShopperClient(assent.url, token);
      const conversationId = await client.startConversation();
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      process.stdout.write(`Assent (${assent.url}), shopping as ${values.as}. Say what you want; "quit" to leave.\n`);
      try {
        for (;;) {
          const text = await rl.question('you> ').catch(() => 'quit');
          if (/^\s*(quit|exit)\s*$/i.test(text)) break;
          const turn = await client.say(conversationId, text);
          process.stdout.write(`assent [${turn.kind}]> ${turn.reply}\n`);
        }
      } finally {
        rl.close();
        await assent.close();
      }
      return 0;
    }
    default:
      throw new UsageError(command ? `unknown command ${command}` : 'no command');
  }
}

class UsageError extends Error {}

main(process.argv.slice(2))
  .then(async (code) => {
    await shutdownTelemetry();
    process.exit(code);
  })
  .catch(async (error: unknown) => {
    process.stderr.write(error instanceof UsageError ? `${error.message}\n\n${USAGE}\n` : `${String(error)}\n`);
    await shutdownTelemetry().catch(() => undefined);
    process.exit(2);
  });
