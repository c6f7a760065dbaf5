import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { startFakeLlmServer, type FakeLlmServer } from '@assent/testing';

/**
 * Corporate TLS interception: the model's endpoint presents a certificate from a private CA. Node's
 * fetch trusts it exactly when NODE_EXTRA_CA_CERTS names the CA, and Node reads that variable only at
 * start-up, so each case runs the built client in a child process.
 */
const run = promisify(execFile);
const ROOT = resolve(__dirname, '../../../../..');
const SOURCE = join(__dirname, 'openai-compatible-client.ts');
const BUILT = join(ROOT, 'services/intent/dist/domain/language-model/openai-compatible-client.js');

let dir: string;
let server: FakeLlmServer;

async function openssl(...args: string[]): Promise<void> {
  await run('openssl', args, { cwd: dir });
}

beforeAll(async () => {
  // The child runs the compiled client: build it when it is missing or older than its source.
  if (!existsSync(BUILT) || statSync(BUILT).mtimeMs < statSync(SOURCE).mtimeMs) {
    await run(
      process.execPath,
      [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', 'services/intent/tsconfig.json'],
      {
        cwd: ROOT,
      },
    );
  }
  dir = mkdtempSync(join(tmpdir(), 'assent-tls-'));
  await openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '1',
    '-subj',
    '/CN=Assent Throwaway Test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  await openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=localhost',
  );
  writeFileSync(
    join(dir, 'server.ext'),
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n',
  );
  await openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '1',
    '-extfile',
    'server.ext',
  );
  server = await startFakeLlmServer({
    tls: { cert: readFileSync(join(dir, 'server.pem')), key: readFileSync(join(dir, 'server.key')) },
    fallback: { kind: 'answer', content: '{"ok":true}' },
  });
  writeFileSync(
    join(dir, 'call.js'),
    `const { OpenAiCompatibleClient } = require(${JSON.stringify(BUILT)});
const client = new OpenAiCompatibleClient({ baseUrl: process.argv[2], apiKey: 'k', model: 'qwen-test' });
client
  .complete({ messages: [{ role: 'user', content: 'hi' }], schema: { name: 'x', schema: { type: 'object' } } })
  .then((c) => console.log(JSON.stringify({ ok: true, content: c.content })))
  .catch((e) => console.log(JSON.stringify({ ok: false, kind: e.kind, code: e.code, message: e.message })));
`,
  );
}, 120_000);

afterAll(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function callInChild(
  extraCa: string | null,
): Promise<{ ok: boolean; kind?: string; code?: string; content?: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  delete env.NODE_TLS_REJECT_UNAUTHORIZED;
  delete env.NODE_OPTIONS;
  if (extraCa) env.NODE_EXTRA_CA_CERTS = extraCa;
  const { stdout } = await run(process.execPath, [join(dir, 'call.js'), server.baseUrl], { env, timeout: 20_000 });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
}

describe('OpenAiCompatibleClient over TLS from a private CA', () => {
  it('refuses the endpoint without NODE_EXTRA_CA_CERTS', async () => {
    const result = await callInChild(null);
    expect(result.ok).toBe(false);
    expect(result.kind).toBe('transport');
    expect([
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'SELF_SIGNED_CERT_IN_CHAIN',
      'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
    ]).toContain(result.code);
    // The handshake failed: nothing reached the server's handler.
    expect(server.requests).toHaveLength(0);
  });

  it('trusts the endpoint with NODE_EXTRA_CA_CERTS naming the CA', async () => {
    const result = await callInChild(join(dir, 'ca.pem'));
    expect(result).toEqual({ ok: true, content: '{"ok":true}' });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0].headers.authorization).toBe('Bearer k');
  });
});
