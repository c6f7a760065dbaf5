import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { DynamicModule, INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EmbeddedTransport } from '@assent/bus';
import { ServiceName } from '@assent/contracts';
import { PgliteHost } from '@assent/eventstore';
import { accessTokenSecret, createServiceApp, ServiceRuntime } from '@assent/runtime';
import { AftersalesModule } from '@assent/aftersales';
import { CartModule } from '@assent/cart';
import { CatalogModule } from '@assent/catalog';
import { ConsentModule, OneTimeCodeSender } from '@assent/consent';
import { generateMandateKeyPair, MandateKeys, mandateKeysFromJwks } from '@assent/mandates';
import { IntentModule } from '@assent/intent';
import { PaymentModule } from '@assent/payment';

/** Which service answers a path: the shopper sees one API, each service keeps its own routes. */
const ROUTES: Array<[RegExp, ServiceName]> = [
  [/^\/v1\/conversations(\/|\?|$)/, 'intent'],
  [/^\/v1\/(products|items)(\/|\?|$)/, 'catalog'],
  [/^\/v1\/carts(\/|\?|$)/, 'cart'],
  [/^\/v1\/(confirmations|mandates)(\/|\?|$)/, 'consent'],
  [/^\/v1\/(payment-methods|payments)(\/|\?|$)/, 'payment'],
  [/^\/v1\/orders(\/|\?|$)/, 'aftersales'],
];

/**
 * On a first start the catalog announces its products through the bus; the intent service's
 * vocabulary and the cart's price list fill from those events. Serve shoppers once they have.
 */
async function untilCatalogPropagated(db: DataSource, timeoutMs = 60000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = (await db.query(
      `SELECT (SELECT count(*) FROM catalog.products)::int AS products,
              (SELECT count(*) FROM catalog.items)::int AS items,
              (SELECT count(*) FROM intent.vocabulary)::int AS vocabulary,
              (SELECT count(*) FROM cart.price_list)::int AS prices`,
    )) as Array<{ products: number; items: number; vocabulary: number; prices: number }>;
    if (row.products > 0 && row.vocabulary >= row.products && row.prices >= row.items) return;
    if (Date.now() > deadline)
      throw new Error(`the catalog did not reach intent and cart in time: ${JSON.stringify(row)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface EmbeddedOptions {
  /** Where PGlite keeps its files; null keeps everything in memory (batch runs, tests). */
  dataDir: string | null;
  port?: number;
  host?: string;
  /** Token signing secret; by default from ASSENT_JWT_SECRET or the development secret file. */
  secret?: Uint8Array;
  /** Where step-up codes go (tests capture them); the default logs them. */
  codeSender?: OneTimeCodeSender;
}

export interface EmbeddedAssent {
  url: string;
  secret: Uint8Array;
  apps: Map<ServiceName, INestApplication>;
  close(): Promise<void>;
}

function modules(
  keys: { signer: MandateKeys; verifier: MandateKeys } | null,
  codeSender?: OneTimeCodeSender,
): Record<ServiceName, (runtime: ServiceRuntime) => DynamicModule> {
  return {
    catalog: (r) => CatalogModule.register(r),
    intent: (r) => IntentModule.register(r),
    cart: (r) => CartModule.register(r),
    consent: (r) => ConsentModule.register(r, { keys: keys?.signer, codeSender }),
    payment: (r) => PaymentModule.register(r, { keys: keys?.verifier }),
    aftersales: (r) => AftersalesModule.register(r),
  };
}

/** A throwaway mandate key pair for an in-memory run: nothing it signs outlives the process. */
async function ephemeralMandateKeys(): Promise<{ signer: MandateKeys; verifier: MandateKeys }> {
  const { privateJwk, publicJwk } = await generateMandateKeyPair(`ephemeral-${randomBytes(4).toString('hex')}`);
  return {
    signer: await mandateKeysFromJwks(privateJwk, { keys: [publicJwk] }),
    verifier: await mandateKeysFromJwks(null, { keys: [publicJwk] }),
  };
}

/**
 * All six services in this process: one PGlite database (a schema each), the embedded bus delivering
 * from their outbox tables, and one HTTP listener that routes each path to its service.
 */
export async function startEmbedded(options: EmbeddedOptions): Promise<EmbeddedAssent> {
  if (options.dataDir !== null) mkdirSync(options.dataDir, { recursive: true });
  const host = await PgliteHost.open(options.dataDir ?? undefined);
  const transport = new EmbeddedTransport();
  const runtime: ServiceRuntime = { database: { kind: 'pglite', host }, transport };
  const secret =
    options.secret ??
    (options.dataDir === null && !process.env.ASSENT_JWT_SECRET ? randomBytes(32) : accessTokenSecret());
  const apps = new Map<ServiceName, INestApplication>();
  let server: Server | null = null;
  const close = async () => {
    if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
    for (const app of [...apps.values()].reverse()) await app.close();
    await transport.close();
    await host.close();
  };
  try {
    const inMemoryKeys =
      options.dataDir === null && !process.env.ASSENT_MANDATE_VERIFICATION_KEYS ? await ephemeralMandateKeys() : null;
    const services = modules(inMemoryKeys, options.codeSender);
    for (const [service, moduleFor] of Object.entries(services) as Array<
      [ServiceName, (typeof services)[ServiceName]]
    >) {
      const { app } = await createServiceApp(service, moduleFor(runtime), {
        secret,
        docsPath: `docs/${service}`,
        logAs: 'embedded',
      });
      await app.init();
      await app.startAllMicroservices();
      apps.set(service, app);
    }
    await untilCatalogPropagated(apps.get('intent')!.get(DataSource));
    const handlers = new Map(
      [...apps].map(([service, app]) => [
        service,
        app.getHttpAdapter().getInstance() as (req: IncomingMessage, res: ServerResponse) => void,
      ]),
    );
    server = createServer((req, res) => {
      const url = req.url ?? '/';
      const docs = /^\/docs\/(\w+)/.exec(url)?.[1] as ServiceName | undefined;
      const service = (docs && handlers.has(docs) ? docs : ROUTES.find(([re]) => re.test(url))?.[1]) ?? 'intent';
      handlers.get(service)!(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
    });
    const address = server.address() as AddressInfo;
    return { url: `http://${address.address}:${address.port}`, secret, apps, close };
  } catch (error) {
    await close();
    throw error;
  }
}
