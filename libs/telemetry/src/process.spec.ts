import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ts from 'typescript';
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from './testing';

/**
 * End to end, in real Node processes (loopback only): the preload, the instrumentations, the
 * env-configured OTLP/HTTP exporter, and Nest (ESM-only since v12, which jest cannot load on
 * Node 20 but Node's require(esm) can). The library is transpiled to a temp dir so the test
 * does not depend on a prior build.
 */
const ROOT = resolve(__dirname, '../../..');
let lib: string;
let receiver: OtlpReceiver;

beforeAll(() => {
  lib = mkdtempSync(join(tmpdir(), 'assent-telemetry-'));
  for (const file of readdirSync(__dirname).filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))) {
    const { outputText } = ts.transpileModule(readFileSync(join(__dirname, file), 'utf8'), {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    });
    writeFileSync(join(lib, file.replace(/\.ts$/, '.js')), outputText);
  }
});
afterAll(() => rmSync(lib, { recursive: true, force: true }));
beforeEach(async () => {
  receiver = await startOtlpReceiver();
});
afterEach(() => receiver.close());

interface Child {
  /** Resolves with the first line the child prints. */
  firstLine: Promise<string>;
  exited: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** `node [-r register] -e script` with only the given OTEL_* variables. */
function node(script: string, env: Record<string, string>, preload = true): Child {
  const base = Object.fromEntries(
    // LOG_LEVEL too: these children must log at the default level whatever the caller's shell says.
    Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_') && k !== 'NODE_OPTIONS' && k !== 'LOG_LEVEL'),
  );
  const args = [...(preload ? ['-r', join(lib, 'register.js')] : []), '-e', script];
  const child = spawn(process.execPath, args, {
    cwd: lib,
    // The temp dir has no node_modules; resolve packages from the repository's.
    env: { ...base, NODE_PATH: join(ROOT, 'node_modules'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const firstLine = new Promise<string>((res, rej) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes('\n')) res(stdout.split('\n')[0]);
    });
    child.on('exit', () => rej(new Error(`child exited before printing a line: ${stderr}`)));
  });
  firstLine.catch(() => undefined); // only awaited by some tests
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((res) =>
    child.on('exit', (code) => res({ code, stdout, stderr })),
  );
  const timer = setTimeout(() => child.kill(), 20_000); // a stuck child must not hang the suite
  void exited.then(() => clearTimeout(timer));
  return { firstLine, exited };
}

const otlpEnv = (service: string) => ({
  OTEL_SERVICE_NAME: service,
  OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
});

it('two preloaded processes export one trace: HTTP client span in one, server span in the other', async () => {
  const server = node(
    `const http = require('http');
     const server = http.createServer((req, res) => {
       res.on('finish', () => { server.close(); server.closeAllConnections(); });
       res.end('ok');
     });
     server.listen(0, '127.0.0.1', () => console.log(server.address().port));`,
    otlpEnv('svc-b'),
  );
  const port = await server.firstLine;
  const client = node(
    `require('http').get('http://127.0.0.1:${port}/intents', (res) => res.resume());`,
    otlpEnv('svc-a'),
  );
  const results = await Promise.all([client.exited, server.exited]);
  for (const r of results) expect(r).toMatchObject({ code: 0, stderr: '' });

  const spans = await receiver.waitForSpans((all) => all.some(isServer) && all.some(isClient));
  const clientSpan = spans.find(isClient);
  const serverSpan = spans.find(isServer);
  expect(clientSpan?.serviceName).toBe('svc-a');
  expect(serverSpan?.serviceName).toBe('svc-b');
  expect(serverSpan?.traceId).toBe(clientSpan?.traceId);
  expect(serverSpan?.parentSpanId).toBe(clientSpan?.spanId);
});

it('an outbox event appended in one process is consumed in the same trace in another', async () => {
  // Process A: a span appends an event and stores its traceparent; a relay later publishes it.
  const producer = node(
    `const t = require('./index.js');
     const api = require('@opentelemetry/api');
     const stored = api.trace.getTracer('app').startActiveSpan('append', (span) => { span.end(); return t.currentTraceparent(); });
     t.withProducerSpan('send intents', stored, { topic: 'intents', key: 'i1' }, (span, headers) => headers)
       .then((headers) => console.log(JSON.stringify(headers)));`,
    otlpEnv('svc-a'),
  );
  const headers = await producer.firstLine;
  const consumer = node(
    `const t = require('./index.js');
     const headers = Object.fromEntries(Object.entries(${headers}).map(([k, v]) => [k, Buffer.from(v)]));
     t.withConsumerSpan('process intents', headers, { topic: 'intents', key: 'i1' }, () => undefined);`,
    otlpEnv('svc-b'),
  );
  for (const r of await Promise.all([producer.exited, consumer.exited])) expect(r.code).toBe(0);

  const spans = await receiver.waitForSpans((all) => all.length >= 3);
  const byName = (n: string) => spans.find((s) => s.name === n);
  expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
  expect(byName('send intents')).toMatchObject({
    serviceName: 'svc-a',
    kind: 4,
    parentSpanId: byName('append')?.spanId,
  });
  expect(byName('process intents')).toMatchObject({
    serviceName: 'svc-b',
    kind: 5,
    parentSpanId: byName('send intents')?.spanId,
    attributes: expect.objectContaining({ 'messaging.system': 'kafka', 'messaging.destination.name': 'intents' }),
  });
});

it('the preload patches http, pg and kafkajs before the application loads them', async () => {
  const { code, stdout, stderr } = await node(
    `const { isWrapped } = require('@opentelemetry/instrumentation');
     console.log(JSON.stringify({
       http: isWrapped(require('http').request),
       pg: isWrapped(require('pg').Client.prototype.query),
       kafkajs: isWrapped(require('kafkajs').Kafka.prototype.producer),
     }));`,
    { OTEL_TRACES_EXPORTER: 'none' },
  ).exited;
  expect(stderr).toBe('');
  expect(code).toBe(0);
  expect(JSON.parse(stdout)).toEqual({ http: true, pg: true, kafkajs: true });
});

it('Nest logs through PinoNestLogger as JSON lines', async () => {
  const { code, stdout, stderr } = await node(
    `require('reflect-metadata');
     const { Module } = require('@nestjs/common');
     const { NestFactory } = require('@nestjs/core');
     const { PinoNestLogger } = require('./index.js');
     class AppModule {}
     Module({})(AppModule);
     NestFactory.createApplicationContext(AppModule, { logger: new PinoNestLogger('intent') }).then((app) => app.close());`,
    {},
    false,
  ).exited;
  expect(stderr).toBe('');
  expect(code).toBe(0);
  const lines = stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(lines).toEqual(
    expect.arrayContaining([expect.objectContaining({ service: 'intent', level: 'info', context: 'NestFactory' })]),
  );
});

const isClient = (s: ReceivedSpan) => s.kind === 3;
const isServer = (s: ReceivedSpan) => s.kind === 2;
