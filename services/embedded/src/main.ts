// Without a collector configured the embedded default exports no traces rather than retrying a
// Jaeger that is not there; set OTEL_EXPORTER_OTLP_ENDPOINT to send them.
process.env.OTEL_TRACES_EXPORTER ??= process.env.OTEL_EXPORTER_OTLP_ENDPOINT ? 'otlp' : 'none';
process.env.OTEL_SERVICE_NAME ??= 'assent-embedded';
// eslint-disable-next-line @typescript-eslint/no-require-imports
require('@assent/telemetry/register');

import { resolve } from 'node:path';
import { createLogger, shutdownTelemetry } from '@assent/telemetry';
import { startEmbedded } from './embedded';

/**
 * The embedded default: all six services in one process, PostgreSQL in process (PGlite, kept in
 * ASSENT_DATA_DIR so a restart keeps conversations and orders), the embedded bus, the catalog seeded.
 */
async function main(): Promise<void> {
  const logger = createLogger('embedded');
  const dataDir = resolve(process.env.ASSENT_DATA_DIR ?? '.data/assent');
  const started = Date.now();
  const assent = await startEmbedded({
    dataDir,
    port: Number(process.env.PORT ?? 3000),
    host: process.env.HOST ?? '127.0.0.1',
  });
  // A plain line for the person who just typed npm start (stderr: stdout carries JSON log lines).
  process.stderr.write(
    `\nAssent is up on ${assent.url}\n  chat:   npm run chat\n  token:  npm run assent -- token <user_id>   (e.g. yusuf_rossi_9620)\n` +
      `  API:    ${assent.url}/docs/intent (and /docs/catalog, /docs/cart, ...)\n  data:   ${dataDir}\n\n`,
  );
  logger.info(
    { url: assent.url, dataDir, startupMs: Date.now() - started },
    `Assent is up on ${assent.url}: chat with "npm run chat" or POST ${assent.url}/v1/conversations ` +
      `(token: "npm run assent -- token <user_id>"); API docs at ${assent.url}/docs/intent; data in ${dataDir}`,
  );
  const stop = async () => {
    await assent.close();
    await shutdownTelemetry();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
