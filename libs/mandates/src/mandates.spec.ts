import {
  CartMandateContent,
  generateMandateKeyPair,
  mandateKeysFromJwks,
  signCartMandate,
  verifyCartMandate,
} from './index';

const content: CartMandateContent = {
  sub: 'ann',
  jti: 'mandate-1',
  cart: {
    id: 'cart-1',
    hash: 'a'.repeat(64),
    lineChanges: 1,
    lines: [{ itemId: 'i1', quantity: 1, unitPrice: 5000 }],
    subtotal: 5000,
    shipping: 599,
    tax: 0,
    total: 5599,
    currency: 'USD',
  },
  merchant: 'assent-retail',
  confirmation: { id: 'conf-1', nonce: 'n'.repeat(32) },
  conversationId: 'c1',
  intentMandates: ['im-t1'],
  ceiling: 25599,
};
const now = new Date('2026-11-25T10:00:00Z');
const later = new Date(now.getTime() + 600_000);

async function pair(kid: string) {
  const { privateJwk, publicJwk } = await generateMandateKeyPair(kid);
  return { privateJwk, publicJwk };
}

describe('cart mandates (Ed25519 JWS)', () => {
  it('verifies what consent signed, with its key id', async () => {
    const k = await pair('k1');
    const signer = await mandateKeysFromJwks(k.privateJwk, { keys: [k.publicJwk] });
    const verifier = await mandateKeysFromJwks(null, { keys: [k.publicJwk] });
    const jws = await signCartMandate(signer, content, now, later);
    const result = await verifyCartMandate(verifier, jws, now);
    expect(result).toMatchObject({
      ok: true,
      kid: 'k1',
      claims: { ...content, iss: 'assent-consent', aud: 'assent-payment' },
    });
  });

  it('keeps verifying mandates signed with the previous key after a rotation', async () => {
    const old = await pair('2026-10');
    const current = await pair('2026-11');
    const jws = await signCartMandate(
      await mandateKeysFromJwks(old.privateJwk, { keys: [old.publicJwk] }),
      content,
      now,
      later,
    );
    const rotated = await mandateKeysFromJwks(null, { keys: [current.publicJwk, old.publicJwk] });
    expect(await verifyCartMandate(rotated, jws, now)).toMatchObject({ ok: true, kid: '2026-10' });
    const retired = await mandateKeysFromJwks(null, { keys: [current.publicJwk] });
    expect(await verifyCartMandate(retired, jws, now)).toMatchObject({ ok: false, code: 'forged_mandate' });
  });

  it('refuses a signature by another key under a known key id, a tampered payload and an expired mandate', async () => {
    const real = await pair('k1');
    const forger = await pair('k1');
    const verifier = await mandateKeysFromJwks(null, { keys: [real.publicJwk] });
    const forged = await signCartMandate(
      await mandateKeysFromJwks(forger.privateJwk, { keys: [forger.publicJwk] }),
      content,
      now,
      later,
    );
    expect(await verifyCartMandate(verifier, forged, now)).toMatchObject({ ok: false, code: 'forged_mandate' });

    const genuine = await signCartMandate(
      await mandateKeysFromJwks(real.privateJwk, { keys: [real.publicJwk] }),
      content,
      now,
      later,
    );
    const [h, p, s] = genuine.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    claims.cart.total = 1;
    const tampered = [h, Buffer.from(JSON.stringify(claims)).toString('base64url'), s].join('.');
    expect(await verifyCartMandate(verifier, tampered, now)).toMatchObject({ ok: false, code: 'forged_mandate' });

    expect(await verifyCartMandate(verifier, genuine, new Date(later.getTime() + 1000))).toMatchObject({
      ok: false,
      code: 'expired_mandate',
    });
    expect(await verifyCartMandate(verifier, 'not.a.jws', now)).toMatchObject({ ok: false });
  });

  it('only a process with the signing key signs, and the signing key must be a known verification key', async () => {
    const k = await pair('k1');
    const other = await pair('k2');
    await expect(
      signCartMandate(await mandateKeysFromJwks(null, { keys: [k.publicJwk] }), content, now, later),
    ).rejects.toThrow(/no mandate signing key/);
    await expect(mandateKeysFromJwks(k.privateJwk, { keys: [other.publicJwk] })).rejects.toThrow(
      /not among the verification keys/,
    );
  });
});
