import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { SERVICES, ServiceName } from '@assent/contracts';
import { generateMandateKeyPair } from '@assent/mandates';
import { createPostgresDatabase, kafkaBrokers, TestDatabase, uniqueName } from './databases';
import { eventually } from './eventually';

export interface DistributedAssent {
  urlOf(service: ServiceName): string;
  /** The shared token secret, so tests can sign shoppers' tokens. */
  secret: Uint8Array;
  database: TestDatabase;
  close(): Promise<void>;
}

/**
 * The six services as separate processes from their build (`services/<name>/dist/main.js`), against
 * the real Kafka broker and a fresh database on the real PostgreSQL, with their own topic namespace.
 * Resolves when every service answers /health/ready.
 */
export async function startDistributed(root: string, env: Record<string, string> = {}): Promise<DistributedAssent> {
  const database = await createPostgresDatabase();
  const secret = randomBytes(32).toString('hex');
  const mandateKeys = await generateMandateKeyPair(uniqueName('test-key'));
  const namespace = uniqueName('assent');
  const base = 40000 + Math.floor(Math.random() * 2000) * 8;
  const ports = new Map<ServiceName, number>(SERVICES.map((s, i) => [s, base + i]));
  const processes: ChildProcess[] = [];
  const logs = new Map<ServiceName, string[]>();
  for (const service of SERVICES) {
    const child = spawn(process.execPath, [join(root, 'services', service, 'dist', 'main.js')], {
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        PORT: String(ports.get(service)),
        HOST: '127.0.0.1',
        DATABASE_URL: database.url,
        DATABASE_POOL_SIZE: '4',
        KAFKA_BROKERS: kafkaBrokers().join(','),
        ASSENT_JWT_SECRET: secret,
        ASSENT_MANDATE_SIGNING_KEY: JSON.stringify(mandateKeys.privateJwk),
        ASSENT_MANDATE_VERIFICATION_KEYS: JSON.stringify({ keys: [mandateKeys.publicJwk] }),
        ASSENT_TOPIC_NAMESPACE: namespace,
        OTEL_TRACES_EXPORTER: 'none',
        LOG_LEVEL: 'warn',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    logs.set(service, lines);
    const keep = (d: Buffer) => {
      lines.push(d.toString());
      if (lines.length > 200) lines.shift();
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    processes.push(child);
  }
  const assent: DistributedAssent = {
    urlOf: (service) => `http://127.0.0.1:${ports.get(service)}`,
    secret: new TextEncoder().encode(secret),
    database,
    close: async () => {
      await Promise.all(
        processes.map(
          (p) =>
            new Promise<void>((resolve) => {
              if (p.exitCode !== null || p.signalCode !== null) return resolve();
              p.once('exit', () => resolve());
              p.kill('SIGTERM');
            }),
        ),
      );
      await database.drop();
    },
  };
  try {
    for (const service of SERVICES) {
      await eventually(
        async () => {
          if (processes.some((p) => p.exitCode !== null)) {
            throw new Error(`a service exited:\n${[...logs].map(([s, l]) => `--- ${s}\n${l.join('')}`).join('\n')}`);
          }
          const response = await fetch(`${assent.urlOf(service)}/health/ready`);
          if (!response.ok) throw new Error(`${service} is not ready`);
        },
        90_000,
        250,
      );
    }
    return assent;
  } catch (error) {
    await assent.close().catch(() => undefined);
    throw error;
  }
}
