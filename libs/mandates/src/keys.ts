import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, JWK } from 'jose';
import { z } from 'zod';

type Key = Awaited<ReturnType<typeof importJWK>>;

/** The consent service's signing key and everyone's verification keys, by key id (also a DI token). */
export class MandateKeys {
  constructor(
    readonly signing: { kid: string; key: Key } | null,
    readonly verification: Map<string, Key>,
  ) {}
}

const OkpPublic = z.object({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: z.string(), kid: z.string().min(1) });
const OkpPrivate = OkpPublic.extend({ d: z.string() });
const Jwks = z.object({ keys: z.array(OkpPublic.passthrough()).min(1) });

/** A fresh Ed25519 key pair as JWKs with a key id (for configuration, tests and the dev default). */
export async function generateMandateKeyPair(kid: string): Promise<{ privateJwk: JWK; publicJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'EdDSA' };
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA' };
  return { privateJwk, publicJwk };
}

export async function mandateKeysFromJwks(privateJwk: unknown | null, publicJwks: unknown): Promise<MandateKeys> {
  const verification = new Map<string, Key>();
  for (const jwk of Jwks.parse(publicJwks).keys) verification.set(jwk.kid, await importJWK(jwk, 'EdDSA'));
  if (privateJwk === null) return new MandateKeys(null, verification);
  const parsed = OkpPrivate.parse(privateJwk);
  // The signing key must be one the verifiers know, or every mandate would be refused.
  if (!verification.has(parsed.kid))
    throw new Error(`the signing key ${parsed.kid} is not among the verification keys`);
  return new MandateKeys({ kid: parsed.kid, key: await importJWK(parsed, 'EdDSA') }, verification);
}

/**
 * Keys from the environment: ASSENT_MANDATE_SIGNING_KEY (the consent service's private Ed25519 JWK with
 * a `kid`) and ASSENT_MANDATE_VERIFICATION_KEYS (a JWKS of public keys: the current one and any still
 * valid older ones, so keys rotate without refusing mandates in flight). Without them the embedded
 * default makes a development pair beside its data; deployments (PostgreSQL or Kafka) must set them.
 */
export async function mandateKeysFromEnvironment(env = process.env, role: 'signer' | 'verifier'): Promise<MandateKeys> {
  const signing = env.ASSENT_MANDATE_SIGNING_KEY;
  const verification = env.ASSENT_MANDATE_VERIFICATION_KEYS;
  if (verification) {
    if (role === 'signer' && !signing) throw new Error('ASSENT_MANDATE_SIGNING_KEY is required by the consent service');
    return mandateKeysFromJwks(role === 'signer' ? JSON.parse(signing!) : null, JSON.parse(verification));
  }
  if (env.DATABASE_URL || env.KAFKA_BROKERS) {
    throw new Error('ASSENT_MANDATE_VERIFICATION_KEYS (and for consent ASSENT_MANDATE_SIGNING_KEY) must be set');
  }
  const file = join(resolve(env.ASSENT_DATA_DIR ?? '.data/assent'), '..', 'dev-mandate-keys.json');
  if (!existsSync(file)) {
    const pair = await generateMandateKeyPair(`dev-${Date.now().toString(36)}`);
    mkdirSync(dirname(file), { recursive: true });
    try {
      writeFileSync(file, JSON.stringify(pair), { mode: 0o600, flag: 'wx' });
    } catch (error) {
      // Another service of the same process made it first.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  const pair = JSON.parse(readFileSync(file, 'utf8')) as { privateJwk: JWK; publicJwk: JWK };
  return mandateKeysFromJwks(role === 'signer' ? pair.privateJwk : null, { keys: [pair.publicJwk] });
}
