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
import { runBatch } from './batch';
import { ShopperClient } from './client';
import { startEmbedded } from './embedded';

const USAGE = `usage: npm run assent -- <command>

  batch --input <conversations.jsonl> --output <turns.jsonl> [--url <deployment>] [--concurrency N]
        plays each conversation (as its user_id) and writes one line per conversation;
        embedded (in memory, seeded) unless --url names a running Assent (signs tokens with ASSENT_JWT_SECRET)
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
      const { values } = parseArgs({
        args: rest,
        options: {
          input: { type: 'string' },
          output: { type: 'string', default: 'turns.jsonl' },
          url: { type: 'string' },
          concurrency: { type: 'string', default: '4' },
        },
      });
      if (!values.input) throw new UsageError('batch needs --input');
      const started = Date.now();
      const assent = await embeddedOrRemote(values.url, true);
      try {
        const result = await runBatch({
          input: values.input,
          output: values.output!,
          baseUrl: assent.url,
          secret: assent.secret,
          concurrency: Number(values.concurrency),
          onProgress: (done, total) => process.stderr.write(`batch: ${done}/${total} conversations\n`),
        });
        process.stderr.write(
          `batch: wrote ${result.conversations} conversations to ${values.output} in ${((Date.now() - started) / 1000).toFixed(1)} s` +
            (result.failed ? ` (${result.failed} failed)` : '') +
            '\n',
        );
        return result.failed ? 1 : 0;
      } finally {
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
