/**
 * Static checks of the deployment files: Dockerfile, .dockerignore, docker-compose.yml and the
 * Kubernetes manifests in infra/k8s. There is no Docker engine or cluster in CI, so this is what
 * keeps them honest: they parse, they agree with each other and with the code (service names,
 * health paths, env variables), and they keep the security settings.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { SERVICES } from '../libs/contracts/src/topics';

const ROOT = join(__dirname, '..');
const K8S_DIR = 'infra/k8s';

/** What every service process reads from its environment (besides secrets). */
const REQUIRED_ENV = [
  'ASSENT_SERVICE',
  'DATABASE_URL',
  'KAFKA_BROKERS',
  'ASSENT_TOPIC_NAMESPACE',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_SERVICE_NAME',
  'PORT',
  'LOG_LEVEL',
];
const LIVE_PATH = '/health/live';
const READY_PATH = '/health/ready';
const METRICS_PATH = '/metrics';
const SECRET_KEY = /(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE_KEY|API_KEY|CREDENTIAL)/i;
const DEV_PLACEHOLDER = /(dev|change-?me|example|placeholder|insecure|local)/i;

// ---------------------------------------------------------------------------------------------
// Small typed accessors over parsed YAML (unknown) that fail with the path that was wrong.

type Rec = Record<string, unknown>;

function isRec(value: unknown): value is Rec {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function rec(value: unknown, what: string): Rec {
  if (!isRec(value)) throw new Error(`${what}: expected a mapping, got ${JSON.stringify(value)}`);
  return value;
}

function arr(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${what}: expected a list, got ${JSON.stringify(value)}`);
  return value;
}

function str(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new Error(`${what}: expected a string, got ${JSON.stringify(value)}`);
  return value;
}

function readRepoFile(rel: string): string {
  const file = join(ROOT, rel);
  if (!existsSync(file)) throw new Error(`${rel} does not exist`);
  return readFileSync(file, 'utf8');
}

/** All documents of a YAML file; any syntax error (or duplicate key) fails with its position. */
function loadYaml(rel: string, options: { merge?: boolean } = {}): unknown[] {
  const docs = parseAllDocuments(readRepoFile(rel), { merge: options.merge ?? false, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [];
  for (const doc of list) {
    const problem = doc.errors[0];
    if (problem) throw new Error(`${rel}: ${problem.message}`);
  }
  return list.map((doc) => doc.toJS({ maxAliasCount: 1000 })).filter((doc) => doc !== null && doc !== undefined);
}

/** `name:tag@digest` → its tag ('' when untagged). */
function imageTag(image: string): string {
  const noDigest = image.split('@')[0];
  const lastSlash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > lastSlash ? noDigest.slice(colon + 1) : '';
}

function imageName(image: string): string {
  const noDigest = image.split('@')[0];
  const tag = imageTag(noDigest);
  return tag ? noDigest.slice(0, noDigest.length - tag.length - 1) : noDigest;
}

function expectPinnedImage(image: string, where: string): void {
  const tag = imageTag(image);
  const pinned = image.includes('@sha256:') || (tag !== '' && tag !== 'latest');
  if (!pinned) throw new Error(`${where}: image "${image}" must carry an explicit tag other than "latest"`);
}

// ---------------------------------------------------------------------------------------------
// Dockerfile

interface Instruction {
  keyword: string;
  args: string;
  line: number;
  heredocs: string[];
}

interface Stage {
  from: string;
  alias?: string;
  instructions: Instruction[];
}

/** Instructions with line continuations joined, comments dropped and heredoc bodies attached. */
function parseDockerfile(text: string): Instruction[] {
  const lines = text.split(/\r?\n/);
  const out: Instruction[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (/^\s*(#|$)/.test(lines[i])) continue;
    const line = i + 1;
    let joined = lines[i];
    while (/\\\s*$/.test(joined) && i + 1 < lines.length) {
      joined = joined.replace(/\\\s*$/, ' ');
      i++;
      while (i < lines.length && /^\s*#/.test(lines[i])) i++; // comments inside continuations
      if (i < lines.length) joined += lines[i];
    }
    const heredocs: string[] = [];
    for (const m of joined.matchAll(/<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g)) {
      const body: string[] = [];
      const strip = m[1] === '-';
      while (++i < lines.length && (strip ? lines[i].replace(/^\t+/, '') : lines[i]) !== m[3]) body.push(lines[i]);
      heredocs.push(body.join('\n'));
    }
    const parts = /^\s*([A-Za-z]+)\s*(.*)$/.exec(joined);
    if (!parts) throw new Error(`Dockerfile:${line}: cannot read instruction "${joined}"`);
    out.push({ keyword: parts[1].toUpperCase(), args: parts[2].trim(), line, heredocs });
  }
  return out;
}

function dockerStages(instructions: Instruction[]): Stage[] {
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const words = ins.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      const asAt = words.findIndex((w) => w.toUpperCase() === 'AS');
      stages.push({ from: words[0], alias: asAt >= 0 ? words[asAt + 1] : undefined, instructions: [] });
    } else if (stages.length > 0) {
      stages[stages.length - 1].instructions.push(ins);
    } else if (ins.keyword !== 'ARG') {
      throw new Error(`Dockerfile:${ins.line}: ${ins.keyword} before the first FROM`);
    }
  }
  return stages;
}

/** The external image a stage ultimately builds on (following `FROM <stage>`). */
function rootImage(stages: Stage[], stage: Stage): string {
  const seen = new Set<Stage>();
  let current = stage;
  for (;;) {
    const parent = stages.find((s) => s.alias !== undefined && s.alias === current.from);
    if (!parent || seen.has(parent)) return current.from;
    seen.add(parent);
    current = parent;
  }
}

/** ENV both as `K=V K2="V 2"` and the legacy `K V`. */
function envOf(ins: Instruction): Record<string, string> {
  const env: Record<string, string> = {};
  if (!ins.args.includes('=')) {
    const [key, ...rest] = ins.args.split(/\s+/);
    env[key] = rest.join(' ');
    return env;
  }
  for (const m of ins.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("([^"]*)"|'([^']*)'|(\S*))/g)) {
    env[m[1]] = m[3] ?? m[4] ?? m[5] ?? '';
  }
  return env;
}

/** A JSON-array (exec form) argument list, or the shell-form string as one element. */
function commandWords(args: string): string[] {
  const trimmed = args.trim();
  if (trimmed.startsWith('[')) {
    const parsed: unknown = JSON.parse(trimmed);
    return arr(parsed, 'exec form').map((w) => str(w, 'exec form word'));
  }
  return [trimmed];
}

describe('Dockerfile', () => {
  let stages: Stage[];
  let final: Stage;
  const runs = (stage: Stage) => stage.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);

  beforeAll(() => {
    stages = dockerStages(parseDockerfile(readRepoFile('Dockerfile')));
    if (stages.length === 0) throw new Error('Dockerfile has no FROM');
    final = stages[stages.length - 1];
  });

  it('is multi-stage and every stage builds on node:20-bookworm-slim', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) {
      expect(`${stage.alias ?? stage.from}: ${rootImage(stages, stage).split('@')[0]}`).toBe(
        `${stage.alias ?? stage.from}: node:20-bookworm-slim`,
      );
    }
  });

  it('installs with npm ci (never npm install), builds with npm run build, then drops dev dependencies', () => {
    const builder = stages.find((s) => runs(s).some((r) => /\bnpm ci\b/.test(r)));
    if (!builder) throw new Error('no stage runs `npm ci`');
    const commands = runs(builder);
    const ci = commands.findIndex((r) => /\bnpm ci\b/.test(r));
    const build = commands.findIndex((r) => /\bnpm run build\b/.test(r));
    const prune = commands.findIndex((r) => /\bnpm (prune|ci)\b.*(--omit[= ]dev|--production)/.test(r));
    expect(ci).toBeGreaterThanOrEqual(0);
    expect(build).toBeGreaterThan(ci);
    expect(prune).toBeGreaterThan(build);
    for (const stage of stages) {
      for (const r of runs(stage)) expect(r).not.toMatch(/\bnpm (install|i|add)\b/);
    }
  });

  it('keeps the build out of the final stage: it copies the built app from another stage', () => {
    expect(runs(final).some((r) => /\bnpm (ci|run build)\b/.test(r))).toBe(false);
    const fromOtherStage = final.instructions.filter((i) => i.keyword === 'COPY' && /--from=/.test(i.args));
    expect(fromOtherStage.length).toBeGreaterThan(0);
  });

  it('sets NODE_ENV=production in the final stage', () => {
    const env = Object.assign({}, ...final.instructions.filter((i) => i.keyword === 'ENV').map(envOf));
    expect(env.NODE_ENV).toBe('production');
  });

  it('runs as a non-root user (numeric, so Kubernetes can verify runAsNonRoot)', () => {
    const users = final.instructions.filter((i) => i.keyword === 'USER');
    if (users.length === 0) throw new Error('the final stage has no USER: the container would run as root');
    const [user, group] = users[users.length - 1].args.split(':');
    expect(user).toMatch(/^\d+$/);
    expect(Number(user)).toBeGreaterThan(0);
    if (group !== undefined) expect(group).not.toMatch(/^(0|root)$/);
    // Nothing after USER switches back.
    const last = final.instructions.lastIndexOf(users[users.length - 1]);
    expect(final.instructions.slice(last + 1).some((i) => i.keyword === 'USER')).toBe(false);
  });

  it(`has a HEALTHCHECK on ${LIVE_PATH}`, () => {
    const checks = final.instructions.filter((i) => i.keyword === 'HEALTHCHECK');
    expect(checks).toHaveLength(1);
    expect(checks[0].args).not.toMatch(/^NONE\b/i);
    expect(checks[0].args).toContain(LIVE_PATH);
  });

  it('starts node services/${ASSENT_SERVICE}/dist/main.js and knows every service', () => {
    const starts = final.instructions.filter((i) => i.keyword === 'CMD' || i.keyword === 'ENTRYPOINT');
    expect(starts.length).toBeGreaterThan(0);
    const words = starts.flatMap((i) => commandWords(i.args));
    // An entry script written by a heredoc COPY counts as part of the command.
    const scripts = final.instructions
      .filter((i) => i.keyword === 'COPY' && i.heredocs.length > 0)
      .filter((i) => words.some((w) => posix.basename(i.args.split(/\s+/).pop() ?? '') === posix.basename(w)))
      .flatMap((i) => i.heredocs);
    const text = [...words, ...scripts].join('\n');
    expect(text).toMatch(/node\s+"?services\/\$\{?ASSENT_SERVICE\}?\/dist\/main\.js/);
    // A `case "$ASSENT_SERVICE" in a | b | ...)` allowlist must name every service and the embedded mode.
    const allowlist = /case\s+"?\$\{?ASSENT_SERVICE[^\n]*\bin\s*\n\s*([^)\n]+)\)/.exec(text);
    if (allowlist) {
      const allowed = allowlist[1].split('|').map((s) => s.trim());
      expect(allowed).toEqual(expect.arrayContaining([...SERVICES, 'embedded']));
    }
  });
});

// ---------------------------------------------------------------------------------------------
// .dockerignore

function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*' && pattern[i + 1] === '*') {
      i++;
      if (pattern[i + 1] === '/') {
        i++;
        re += '(?:.*/)?';
      } else {
        re += '.*';
      }
    } else if (c === '*') {
      re += '[^/]*';
    } else if (c === '?') {
      re += '[^/]';
    } else {
      re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`);
}

/** Docker's rules: last matching pattern wins, `!` re-includes, a matched directory hides its contents. */
function dockerIgnores(patterns: string[], path: string): boolean {
  let ignored = false;
  const prefixes = path.split('/').map((_, k, parts) => parts.slice(0, k + 1).join('/'));
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const pattern = posix.normalize((negate ? raw.slice(1) : raw).trim()).replace(/^\/+|\/+$/g, '');
    const re = globToRegExp(pattern);
    if (prefixes.some((p) => re.test(p))) ignored = !negate;
  }
  return ignored;
}

describe('.dockerignore', () => {
  let patterns: string[];
  beforeAll(() => {
    patterns = readRepoFile('.dockerignore')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
  });

  it.each([
    'node_modules/typescript/package.json',
    'libs/bus/node_modules/x/index.js',
    'libs/contracts/dist/index.js',
    'services/intent/dist/main.js',
    '.kafka/data/meta.properties',
    '.data/assent/base',
    'infra/kafka/target/lib/kafka_2.13.jar',
    '.git/HEAD',
    '.env',
  ])('keeps %s out of the build context', (path) => {
    expect(dockerIgnores(patterns, path)).toBe(true);
  });

  it.each([
    'package.json',
    'package-lock.json',
    'tsconfig.base.json',
    'tsconfig.build.json',
    'libs/contracts/package.json',
    'libs/contracts/src/topics.ts',
    'libs/contracts/tsconfig.json',
    'services/intent/package.json',
    'services/intent/src/main.ts',
  ])('keeps %s in the build context', (path) => {
    expect(dockerIgnores(patterns, path)).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// docker-compose.yml

/** Compose's `${VAR:-default}` / `${VAR-default}` / `${VAR}` / `$$` with the variables unset. */
function withComposeDefaults(value: string): string {
  return value
    .split('$$')
    .map((part) =>
      part.replace(
        /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-?+]([^}]*))?\}/g,
        (_m, _name, def: string | undefined) => def ?? '',
      ),
    )
    .join('$');
}

/** The password part of `scheme://user:password@host`, where user and password may be `${...}`. */
function urlPassword(value: string): string | undefined {
  const part = String.raw`(?:\$\{[^}]*\}|[^:@/$])*`;
  const m = new RegExp(String.raw`^[a-z][a-z0-9+.-]*://${part}:(${part})@`, 'i').exec(value);
  return m?.[1];
}

/** `${VAR}` or `${VAR:-default}` covering the whole value. */
function interpolation(value: string): { name: string; default?: string } | undefined {
  const m = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}$/.exec(value);
  return m ? { name: m[1], default: m[2] } : undefined;
}

function composeEnv(service: Rec, name: string): Record<string, string> {
  const env = service.environment;
  if (env === undefined) return {};
  const out: Record<string, string> = {};
  if (Array.isArray(env)) {
    for (const entry of env) {
      const text = str(entry, `${name}.environment[]`);
      const eq = text.indexOf('=');
      out[eq < 0 ? text : text.slice(0, eq)] = eq < 0 ? '' : text.slice(eq + 1);
    }
  } else {
    for (const [key, value] of Object.entries(rec(env, `${name}.environment`))) {
      out[key] = value === null ? '' : String(value);
    }
  }
  return out;
}

interface PortMapping {
  host?: number;
  container: number;
}

function composePorts(service: Rec, name: string): PortMapping[] {
  if (service.ports === undefined) return [];
  return arr(service.ports, `${name}.ports`).map((entry) => {
    if (isRec(entry)) {
      const published =
        entry.published === undefined ? undefined : Number(withComposeDefaults(String(entry.published)));
      return { host: published, container: Number(entry.target) };
    }
    // [ip:][host:]container[/proto], with the IP possibly in brackets.
    const text = withComposeDefaults(String(entry)).replace(/\/(tcp|udp)$/, '');
    const parts = text.replace(/^\[[^\]]*\]:/, '').split(':');
    const container = Number(parts[parts.length - 1]);
    const host = parts.length >= 2 ? Number(parts[parts.length - 2]) : undefined;
    return { host, container };
  });
}

function healthcheckCommand(service: Rec, name: string): string {
  const check = rec(service.healthcheck, `${name}.healthcheck`);
  expect(check.disable).not.toBe(true);
  const test = check.test;
  return Array.isArray(test) ? test.map(String).join(' ') : str(test, `${name}.healthcheck.test`);
}

/** `NAME://host:port` entries of a Kafka listener list. */
function kafkaListeners(value: string | undefined): { name: string; host: string; port: number }[] {
  return (value ?? '')
    .split(',')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const m = /^([A-Za-z0-9_]+):\/\/(.*):(\d+)$/.exec(l);
      if (!m) throw new Error(`cannot read Kafka listener "${l}"`);
      return { name: m[1], host: m[2], port: Number(m[3]) };
    });
}

function pomKafkaVersion(): string {
  const m = /<kafka\.version>\s*([^<\s]+)\s*<\/kafka\.version>/.exec(readRepoFile('infra/kafka/pom.xml'));
  if (!m) throw new Error('infra/kafka/pom.xml has no <kafka.version>');
  return m[1];
}

describe('docker-compose.yml', () => {
  let services: Rec;
  const svc = (name: string): Rec => rec(services[name], `compose service "${name}"`);

  beforeAll(() => {
    const docs = loadYaml('docker-compose.yml', { merge: true });
    expect(docs).toHaveLength(1);
    services = rec(rec(docs[0], 'docker-compose.yml').services, 'docker-compose.yml services');
  });

  it('has kafka, postgres, jaeger and the six services', () => {
    expect(Object.keys(services).sort()).toEqual(expect.arrayContaining(['kafka', 'postgres', 'jaeger', ...SERVICES]));
  });

  it('pins every image to a tag other than latest', () => {
    for (const [name, service] of Object.entries(services)) {
      const s = rec(service, name);
      if (s.image === undefined) continue;
      expectPinnedImage(withComposeDefaults(str(s.image, `${name}.image`)), `compose ${name}`);
    }
  });

  describe('kafka', () => {
    let env: Record<string, string>;
    beforeAll(() => {
      env = composeEnv(svc('kafka'), 'kafka');
    });

    it('is the official Apache image at the version scripts/kafka.sh runs', () => {
      const image = str(svc('kafka').image, 'kafka.image');
      expect(imageName(image)).toMatch(/^(docker\.io\/)?apache\/kafka(-native)?$/);
      expect(imageTag(image)).toBe(pomKafkaVersion());
    });

    it('runs KRaft as a single combined broker + controller', () => {
      expect(
        env.KAFKA_PROCESS_ROLES.split(',')
          .map((r) => r.trim())
          .sort(),
      ).toEqual(['broker', 'controller']);
      expect(env.KAFKA_NODE_ID).toMatch(/^\d+$/);
      expect(env.CLUSTER_ID).toMatch(/^[A-Za-z0-9_-]{22}$/);
      const controllerName = env.KAFKA_CONTROLLER_LISTENER_NAMES;
      const controller = kafkaListeners(env.KAFKA_LISTENERS).find((l) => l.name === controllerName);
      if (!controller) throw new Error(`KAFKA_LISTENERS has no ${controllerName} listener`);
      expect(env.KAFKA_CONTROLLER_QUORUM_VOTERS).toBe(`${env.KAFKA_NODE_ID}@kafka:${controller.port}`);
      expect(Object.keys(env).filter((k) => /ZOOKEEPER/.test(k))).toEqual([]);
    });

    it('fits every internal topic on one replica (RF 1, min ISR 1)', () => {
      expect(env.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR).toBe('1');
      expect(env.KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR).toBe('1');
      expect(env.KAFKA_TRANSACTION_STATE_LOG_MIN_ISR).toBe('1');
      expect(env.KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR).toBe('1');
      expect(env.KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR).toBe('1');
      for (const key of ['KAFKA_DEFAULT_REPLICATION_FACTOR', 'KAFKA_MIN_INSYNC_REPLICAS']) {
        if (env[key] !== undefined) expect(`${key}=${env[key]}`).toBe(`${key}=1`);
      }
    });

    it('advertises a plaintext listener for clients on the compose network, behind a healthcheck', () => {
      const advertised = kafkaListeners(withComposeDefaults(env.KAFKA_ADVERTISED_LISTENERS));
      const internal = advertised.find((l) => l.host === 'kafka');
      if (!internal) throw new Error('KAFKA_ADVERTISED_LISTENERS has no listener on host "kafka"');
      expect(kafkaListeners(env.KAFKA_LISTENERS).map((l) => `${l.name}:${l.port}`)).toContain(
        `${internal.name}:${internal.port}`,
      );
      expect(env.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP.split(',')).toContain(`${internal.name}:PLAINTEXT`);
      expect(healthcheckCommand(svc('kafka'), 'kafka')).toMatch(/kafka-(broker-api-versions|topics|cluster)\.sh/);
    });
  });

  it('runs PostgreSQL 15 with a pg_isready healthcheck and the password from the environment', () => {
    const pg = svc('postgres');
    expect(str(pg.image, 'postgres.image')).toMatch(/^(docker\.io\/(library\/)?)?postgres:15(\b|$)/);
    expect(healthcheckCommand(pg, 'postgres')).toContain('pg_isready');
    const password = composeEnv(pg, 'postgres').POSTGRES_PASSWORD;
    expect(interpolation(password)?.name).toBe('POSTGRES_PASSWORD');
  });

  it('runs Jaeger with OTLP gRPC 4317, OTLP HTTP 4318 and the UI on 16686', () => {
    const jaeger = svc('jaeger');
    expect(imageName(str(jaeger.image, 'jaeger.image'))).toMatch(/^jaegertracing\/(all-in-one|jaeger)$/);
    const ports = composePorts(jaeger, 'jaeger').map((p) => p.container);
    expect(ports).toEqual(expect.arrayContaining([4317, 4318, 16686]));
  });

  it('publishes the six services on distinct host ports 3001-3006', () => {
    const hostPorts = SERVICES.flatMap((s) => composePorts(svc(s), s).map((p) => p.host));
    expect([...hostPorts].sort()).toEqual([3001, 3002, 3003, 3004, 3005, 3006]);
    const all = Object.entries(services).flatMap(([name, s]) => composePorts(rec(s, name), name).map((p) => p.host));
    const published = all.filter((p): p is number => p !== undefined);
    expect(new Set(published).size).toBe(published.length);
  });

  describe.each(SERVICES)('service %s', (name) => {
    let service: Rec;
    let env: Record<string, string>;
    beforeAll(() => {
      service = svc(name);
      env = composeEnv(service, name);
    });

    it('is built from the repository Dockerfile', () => {
      const build = service.build;
      const context = isRec(build) ? build.context : build;
      expect(posix.normalize(str(context, `${name}.build.context`))).toBe('.');
      if (isRec(build) && build.dockerfile !== undefined) expect(build.dockerfile).toBe('Dockerfile');
    });

    it(`sets ASSENT_SERVICE=${name} and the rest of the service environment`, () => {
      expect(env.ASSENT_SERVICE).toBe(name);
      expect(env.OTEL_SERVICE_NAME).toBe(name);
      for (const key of REQUIRED_ENV) expect(`${key}=${env[key] ?? '<unset>'}`).not.toBe(`${key}=<unset>`);
    });

    it('reaches PostgreSQL, Kafka and Jaeger by their compose names', () => {
      const db = new URL(withComposeDefaults(env.DATABASE_URL));
      expect(db.protocol).toMatch(/^postgres(ql)?:$/);
      expect(db.hostname).toBe('postgres');
      expect(interpolation(urlPassword(env.DATABASE_URL) ?? '')?.name).toBe('POSTGRES_PASSWORD');

      const advertised = kafkaListeners(
        withComposeDefaults(composeEnv(svc('kafka'), 'kafka').KAFKA_ADVERTISED_LISTENERS),
      );
      for (const broker of env.KAFKA_BROKERS.split(',')) {
        expect(advertised.map((l) => `${l.host}:${l.port}`)).toContain(broker.trim());
      }

      const otlp = new URL(env.OTEL_EXPORTER_OTLP_ENDPOINT);
      expect(otlp.hostname).toBe('jaeger');
      expect(['4317', '4318']).toContain(otlp.port);
    });

    it('listens on PORT inside the container', () => {
      const ports = composePorts(service, name);
      expect(ports).toHaveLength(1);
      expect(String(ports[0].container)).toBe(env.PORT);
    });

    it('has a healthcheck on its health endpoint', () => {
      expect(healthcheckCommand(service, name)).toMatch(/\/health\/(ready|live)/);
    });

    it('waits for healthy postgres and kafka', () => {
      const dependsOn = rec(service.depends_on, `${name}.depends_on (with conditions)`);
      for (const dep of ['postgres', 'kafka']) {
        expect(rec(dependsOn[dep], `${name}.depends_on.${dep}`).condition).toBe('service_healthy');
        expect(svc(dep).healthcheck).toBeDefined();
      }
    });
  });

  it('holds no literal secrets: they come from ${VAR} with at most an obvious dev placeholder', () => {
    const problems: string[] = [];
    for (const [name, service] of Object.entries(services)) {
      for (const [key, value] of Object.entries(composeEnv(rec(service, name), name))) {
        const candidates: string[] = [];
        if (SECRET_KEY.test(key)) candidates.push(value);
        const password = urlPassword(value);
        if (password !== undefined) candidates.push(password);
        for (const candidate of candidates) {
          const ref = interpolation(candidate);
          if (!ref) problems.push(`${name}.${key}: "${candidate}" is a literal, use \${VAR}`);
          else if (ref.default !== undefined && !DEV_PLACEHOLDER.test(ref.default)) {
            problems.push(`${name}.${key}: default "${ref.default}" does not look like a dev placeholder`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
    expect(readRepoFile('docker-compose.yml')).not.toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----/);
    expect(readRepoFile('.gitignore').split(/\r?\n/)).toContain('.env');
  });
});

// ---------------------------------------------------------------------------------------------
// infra/k8s

interface K8sObject extends Rec {
  apiVersion: string;
  kind: string;
  metadata: Rec & { name: string };
}

function asK8s(doc: unknown, file: string): K8sObject {
  const o = rec(doc, file);
  str(o.apiVersion, `${file}: apiVersion`);
  str(o.kind, `${file}: kind`);
  str(rec(o.metadata, `${file}: metadata`).name, `${file}: metadata.name`);
  return o as K8sObject;
}

function labelsSelect(selector: Rec, labels: Rec): boolean {
  return Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** CPU in millicores, memory in bytes. */
function quantity(value: unknown, what: string): number {
  const text = String(value);
  const m = /^(\d+(?:\.\d+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(text);
  if (!m) throw new Error(`${what}: cannot read quantity "${text}"`);
  const factor: Record<string, number> = {
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    Ki: 1024,
    Mi: 1024 ** 2,
    Gi: 1024 ** 3,
    Ti: 1024 ** 4,
  };
  return Number(m[1]) * (m[2] ? factor[m[2]] : 1);
}

describe('infra/k8s', () => {
  let kustomization: Rec;
  let resources: string[];
  let objects: K8sObject[];
  let deployments: K8sObject[];
  const ofKind = (kind: string) => objects.filter((o) => o.kind === kind);
  const podSpec = (d: K8sObject) => rec(rec(rec(d.spec, 'spec').template, 'template').spec, 'template.spec');
  const podLabels = (d: K8sObject) =>
    rec(rec(rec(d.spec, 'spec').template, 'template').metadata, 'template.metadata').labels;
  const containersOf = (d: K8sObject) =>
    arr(podSpec(d).containers, `${d.metadata.name}.containers`).map((c) => rec(c, 'container'));

  beforeAll(() => {
    const [doc] = loadYaml(`${K8S_DIR}/kustomization.yaml`);
    kustomization = rec(doc, 'kustomization.yaml');
    resources = arr(kustomization.resources, 'kustomization.yaml resources').map((r) => str(r, 'resource'));
    objects = resources.flatMap((file) => loadYaml(`${K8S_DIR}/${file}`).map((d) => asK8s(d, file)));
    deployments = objects.filter((o) => o.kind === 'Deployment');
  });

  it('is a kustomization for namespace assent whose resources all exist and parse', () => {
    expect(kustomization.kind).toBe('Kustomization');
    expect(kustomization.namespace).toBe('assent');
    for (const file of resources) expect(existsSync(join(ROOT, K8S_DIR, file))).toBe(true);
    const ids = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(new Set(ids).size).toBe(ids.length);
    for (const o of objects) expect([undefined, 'assent']).toContain(o.metadata.namespace);
    expect(ofKind('Namespace').map((n) => n.metadata.name)).toEqual(['assent']);
  });

  it('applies no Secret; secret.example.yaml documents assent-secrets with placeholders only', () => {
    expect(ofKind('Secret')).toEqual([]);
    expect(resources).not.toContain('secret.example.yaml');
    const [secret] = loadYaml(`${K8S_DIR}/secret.example.yaml`).map((d) => asK8s(d, 'secret.example.yaml'));
    expect(secret.kind).toBe('Secret');
    expect(secret.metadata.name).toBe('assent-secrets');
    expect(secret.data).toBeUndefined(); // base64 would hide what is in it
    for (const [key, value] of Object.entries(rec(secret.stringData, 'secret.example.yaml stringData'))) {
      if (SECRET_KEY.test(key)) expect(`${key}=${String(value)}`).toMatch(DEV_PLACEHOLDER);
    }
  });

  it('has exactly one Deployment per service', () => {
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual([...SERVICES].sort());
  });

  it('pins every image (after the kustomize image overrides) to a tag other than latest', () => {
    const overrides =
      kustomization.images === undefined ? [] : arr(kustomization.images, 'images').map((i) => rec(i, 'image'));
    for (const o of overrides) {
      if (o.newTag !== undefined) expect(String(o.newTag)).not.toBe('latest');
    }
    for (const d of deployments) {
      const spec = podSpec(d);
      const all = [
        ...arr(spec.containers, 'containers'),
        ...(Array.isArray(spec.initContainers) ? spec.initContainers : []),
      ];
      for (const c of all) {
        const image = str(rec(c, 'container').image, `${d.metadata.name} image`);
        expectPinnedImage(image, d.metadata.name);
        const override = overrides.find((o) => o.name === imageName(image));
        const tag = override?.newTag !== undefined ? String(override.newTag) : imageTag(image);
        expectPinnedImage(`${String(override?.newName ?? imageName(image))}:${tag}`, `${d.metadata.name} (kustomized)`);
      }
    }
  });

  it('keeps label, annotation and ConfigMap values strings (the API server rejects numbers and booleans)', () => {
    const problems: string[] = [];
    const check = (map: unknown, where: string) => {
      if (!isRec(map)) return;
      for (const [k, v] of Object.entries(map)) if (typeof v !== 'string') problems.push(`${where}.${k}`);
    };
    for (const o of objects) {
      check(o.metadata.labels, `${o.kind}/${o.metadata.name} labels`);
      check(o.metadata.annotations, `${o.kind}/${o.metadata.name} annotations`);
      if (o.kind === 'ConfigMap') check(o.data, `ConfigMap/${o.metadata.name} data`);
      if (o.kind === 'Deployment') {
        const template = rec(rec(o.spec, 'spec').template, 'template');
        check(rec(template.metadata, 'template.metadata').labels, `${o.metadata.name} pod labels`);
        check(rec(template.metadata, 'template.metadata').annotations, `${o.metadata.name} pod annotations`);
        for (const c of containersOf(o)) {
          for (const e of Array.isArray(c.env) ? c.env : []) {
            const entry = rec(e, 'env');
            if (entry.value !== undefined && typeof entry.value !== 'string')
              problems.push(`${o.metadata.name} env ${String(entry.name)}`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('keeps secrets out of the ConfigMaps; the OTLP endpoint points at a Jaeger collector', () => {
    const configMaps = ofKind('ConfigMap');
    expect(configMaps.length).toBeGreaterThan(0);
    for (const cm of configMaps) {
      for (const [key, value] of Object.entries(rec(cm.data ?? {}, 'data'))) {
        expect(`${key}`).not.toMatch(SECRET_KEY);
        expect(String(value)).not.toMatch(/:\/\/[^/:@]+:[^@/]+@/);
      }
    }
    const otlp = configMaps.map((cm) => rec(cm.data ?? {}, 'data').OTEL_EXPORTER_OTLP_ENDPOINT).find(Boolean);
    const url = new URL(str(otlp, 'OTEL_EXPORTER_OTLP_ENDPOINT in a ConfigMap'));
    expect(url.hostname).toMatch(/jaeger[a-z0-9-]*-collector(\.|$)/);
    expect(['4317', '4318']).toContain(url.port);
  });

  it('documents that Kafka and PostgreSQL come from the platform', () => {
    const readme = readRepoFile(`${K8S_DIR}/README.md`);
    expect(readme).toMatch(/Strimzi/);
    expect(readme).toMatch(/PostgreSQL/);
    expect(readme).toMatch(/managed/i);
    expect(readme).toContain('assent-secrets');
  });

  describe.each(SERVICES)('%s', (name) => {
    let deployment: K8sObject;
    let container: Rec;
    let ports: Rec[];
    let pod: Rec;

    beforeAll(() => {
      const found = deployments.find((d) => d.metadata.name === name);
      if (!found) throw new Error(`no Deployment "${name}" in infra/k8s`);
      deployment = found;
      pod = podSpec(deployment);
      const containers = containersOf(deployment);
      container = containers.find((c) => c.name === name) ?? containers[0];
      ports = arr(container.ports, `${name} container ports`).map((p) => rec(p, 'port'));
    });

    /** A probe or Service targetPort names or numbers one of the container's ports. */
    const resolvesToContainerPort = (port: unknown) =>
      ports.some((p) => (typeof port === 'string' ? p.name === port : p.containerPort === port));

    it('selects its own pods', () => {
      const spec = rec(deployment.spec, 'spec');
      expect(spec.replicas === undefined || (typeof spec.replicas === 'number' && spec.replicas >= 1)).toBe(true);
      const selector = rec(rec(spec.selector, 'selector').matchLabels, 'selector.matchLabels');
      expect(labelsSelect(selector, rec(podLabels(deployment), 'pod labels'))).toBe(true);
      for (const other of deployments.filter((d) => d !== deployment)) {
        expect(labelsSelect(selector, rec(podLabels(other), 'pod labels'))).toBe(false);
      }
    });

    it(`runs ASSENT_SERVICE=${name} with the whole service environment`, () => {
      const env = arr(container.env, `${name} env`).map((e) => rec(e, 'env'));
      const fromEnv = new Map(env.map((e) => [str(e.name, 'env name'), e]));
      expect(fromEnv.get('ASSENT_SERVICE')?.value).toBe(name);
      expect(fromEnv.get('OTEL_SERVICE_NAME')?.value).toBe(name);

      // Names available from envFrom: ConfigMaps of this kustomization and the documented Secret.
      const available = new Set<string>();
      const [example] = loadYaml(`${K8S_DIR}/secret.example.yaml`).map((d) => asK8s(d, 'secret.example.yaml'));
      const envFrom = arr(container.envFrom, `${name} envFrom`).map((e) => rec(e, 'envFrom'));
      for (const source of envFrom) {
        if (source.configMapRef !== undefined) {
          const ref = str(rec(source.configMapRef, 'configMapRef').name, 'configMapRef.name');
          const cm = ofKind('ConfigMap').find((c) => c.metadata.name === ref);
          if (!cm) throw new Error(`${name} reads ConfigMap ${ref}, which infra/k8s does not define`);
          Object.keys(rec(cm.data ?? {}, 'data')).forEach((k) => available.add(k));
        }
        if (source.secretRef !== undefined) {
          const ref = str(rec(source.secretRef, 'secretRef').name, 'secretRef.name');
          expect(ref).toBe('assent-secrets');
          Object.keys(rec(example.stringData, 'stringData')).forEach((k) => available.add(k));
        }
      }
      expect(envFrom.some((s) => isRec(s.secretRef) && s.secretRef.name === 'assent-secrets')).toBe(true);

      // $(VAR) references must be defined before use (envFrom first, then env in order).
      for (const e of env) {
        for (const m of String(e.value ?? '').matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)) {
          expect(`${String(e.name)} uses $(${m[1]}): ${available.has(m[1]) ? 'defined' : 'undefined'}`).toMatch(
            / defined$/,
          );
        }
        available.add(String(e.name));
      }
      for (const key of REQUIRED_ENV) expect(`${key}: ${available.has(key) ? 'set' : 'missing'}`).toBe(`${key}: set`);
      expect(String(fromEnv.get('DATABASE_URL')?.value ?? '')).toMatch(/^postgres(ql)?:\/\//);
    });

    it('listens on the PORT the ConfigMap gives it', () => {
      const port = ofKind('ConfigMap')
        .map((cm) => rec(cm.data ?? {}, 'data').PORT)
        .find((p) => p !== undefined);
      expect(ports.map((p) => String(p.containerPort))).toContain(String(port ?? '3000'));
    });

    it(`probes readiness on ${READY_PATH} and liveness on ${LIVE_PATH}`, () => {
      const readiness = rec(rec(container.readinessProbe, `${name} readinessProbe`).httpGet, 'readinessProbe.httpGet');
      const liveness = rec(rec(container.livenessProbe, `${name} livenessProbe`).httpGet, 'livenessProbe.httpGet');
      expect(readiness.path).toBe(READY_PATH);
      expect(liveness.path).toBe(LIVE_PATH);
      expect(resolvesToContainerPort(readiness.port)).toBe(true);
      expect(resolvesToContainerPort(liveness.port)).toBe(true);
      if (container.startupProbe !== undefined) {
        const startup = rec(rec(container.startupProbe, 'startupProbe').httpGet, 'startupProbe.httpGet');
        expect(startup.path).toBe(LIVE_PATH);
        expect(resolvesToContainerPort(startup.port)).toBe(true);
      }
    });

    it('requests and limits CPU and memory (requests within limits)', () => {
      const resources = rec(container.resources, `${name} resources`);
      const requests = rec(resources.requests, `${name} resources.requests`);
      const limits = rec(resources.limits, `${name} resources.limits`);
      for (const r of ['cpu', 'memory']) {
        expect(quantity(requests[r], `${name} requests.${r}`)).toBeLessThanOrEqual(
          quantity(limits[r], `${name} limits.${r}`),
        );
      }
    });

    it('runs non-root, read-only, without privilege escalation or capabilities', () => {
      const podSecurity = rec(pod.securityContext ?? {}, 'pod securityContext');
      const security = rec(container.securityContext, `${name} securityContext`);
      const effective = (key: string) => (security[key] !== undefined ? security[key] : podSecurity[key]);
      expect(effective('runAsNonRoot')).toBe(true);
      expect(effective('runAsUser')).not.toBe(0);
      expect(security.readOnlyRootFilesystem).toBe(true);
      expect(security.allowPrivilegeEscalation).toBe(false);
      expect(security.privileged).not.toBe(true);
      expect(arr(rec(security.capabilities, 'capabilities').drop, 'capabilities.drop')).toContain('ALL');
      expect(rec(effective('seccompProfile') ?? {}, 'seccompProfile').type).toBe('RuntimeDefault');
      // A read-only root still needs a writable /tmp.
      const tmp = arr(container.volumeMounts ?? [], 'volumeMounts')
        .map((m) => rec(m, 'volumeMount'))
        .find((m) => m.mountPath === '/tmp');
      const volume = arr(pod.volumes ?? [], 'volumes')
        .map((v) => rec(v, 'volume'))
        .find((v) => v.name === tmp?.name);
      expect(volume?.emptyDir).toBeDefined();
    });

    it(`is annotated for Prometheus to scrape ${METRICS_PATH}`, () => {
      const template = rec(rec(deployment.spec, 'spec').template, 'template');
      const annotations = rec(rec(template.metadata, 'template.metadata').annotations, `${name} pod annotations`);
      expect(annotations['prometheus.io/scrape']).toBe('true');
      expect(annotations['prometheus.io/path']).toBe(METRICS_PATH);
      expect(ports.map((p) => String(p.containerPort))).toContain(annotations['prometheus.io/port']);
    });

    it('has a Service selecting exactly its pods, targeting a container port', () => {
      const service = ofKind('Service').find((s) => s.metadata.name === name);
      if (!service) throw new Error(`no Service "${name}"`);
      const selector = rec(rec(service.spec, 'spec').selector, `Service ${name} selector`);
      expect(labelsSelect(selector, rec(podLabels(deployment), 'pod labels'))).toBe(true);
      for (const other of deployments.filter((d) => d !== deployment)) {
        expect(labelsSelect(selector, rec(podLabels(other), 'pod labels'))).toBe(false);
      }
      const servicePorts = arr(rec(service.spec, 'spec').ports, `Service ${name} ports`).map((p) => rec(p, 'port'));
      expect(servicePorts.length).toBeGreaterThan(0);
      for (const p of servicePorts) expect(resolvesToContainerPort(p.targetPort ?? p.port)).toBe(true);
    });

    it('has a PodDisruptionBudget selecting exactly its pods that still allows a drain', () => {
      const pdb = ofKind('PodDisruptionBudget').find((p) =>
        labelsSelect(
          rec(rec(rec(p.spec, 'spec').selector, 'PDB selector').matchLabels, 'PDB matchLabels'),
          rec(podLabels(deployment), 'pod labels'),
        ),
      );
      if (!pdb) throw new Error(`no PodDisruptionBudget selects the pods of ${name}`);
      expect(pdb.apiVersion).toBe('policy/v1');
      const spec = rec(pdb.spec, 'spec');
      const selector = rec(rec(spec.selector, 'selector').matchLabels, 'matchLabels');
      for (const other of deployments.filter((d) => d !== deployment)) {
        expect(labelsSelect(selector, rec(podLabels(other), 'pod labels'))).toBe(false);
      }
      const replicas = Number(rec(deployment.spec, 'spec').replicas ?? 1);
      if (spec.maxUnavailable !== undefined) {
        expect(parseInt(String(spec.maxUnavailable), 10)).toBeGreaterThan(0);
      } else {
        expect(typeof spec.minAvailable).toBe('number');
        expect(Number(spec.minAvailable)).toBeLessThan(replicas);
      }
    });
  });
});
