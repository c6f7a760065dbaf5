import { resolve } from 'node:path';
import { DatabaseTarget, PgliteHost } from '@assent/eventstore';
import { BusTransport, EmbeddedTransport, KafkaTransport } from '@assent/bus';

/**
 * Where the process keeps its data and how it talks, read from the environment:
 * `DATABASE_URL` selects a PostgreSQL server (else PGlite in `ASSENT_DATA_DIR`), `KAFKA_BROKERS`
 * selects Kafka (else the embedded transport, which needs every service in this process).
 */
export interface RuntimeEnvironment {
  database: DatabaseTarget;
  transport: BusTransport;
  describe: string;
  close(): Promise<void>;
}

export async function runtimeFromEnvironment(clientId: string, env = process.env): Promise<RuntimeEnvironment> {
  let host: PgliteHost | null = null;
  let database: DatabaseTarget;
  let where: string;
  if (env.DATABASE_URL) {
    database = { kind: 'postgres', url: env.DATABASE_URL, poolSize: Number(env.DATABASE_POOL_SIZE ?? 10) };
    where = 'PostgreSQL (DATABASE_URL)';
  } else {
    const dataDir = resolve(env.ASSENT_DATA_DIR ?? '.data/assent');
    host = await PgliteHost.open(dataDir);
    database = { kind: 'pglite', host };
    where = `PGlite in ${dataDir}`;
  }
  const transport: BusTransport = env.KAFKA_BROKERS
    ? new KafkaTransport({ brokers: env.KAFKA_BROKERS.split(','), clientId })
    : new EmbeddedTransport();
  return {
    database,
    transport,
    describe: `${where}, ${transport.kind === 'kafka' ? `Kafka at ${env.KAFKA_BROKERS}` : 'embedded bus'}`,
    close: async () => {
      await transport.close();
      await host?.close();
    },
  };
}
