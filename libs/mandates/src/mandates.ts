import { errors, jwtVerify, SignJWT } from 'jose';
import { CartMandateClaims, MANDATE_AUDIENCE, MANDATE_ISSUER } from './claims';
import { MandateKeys } from './keys';

export type CartMandateContent = Omit<CartMandateClaims, 'iss' | 'aud' | 'iat' | 'exp'>;

/** Only the consent service holds a signing key. */
export async function signCartMandate(
  keys: MandateKeys,
  content: CartMandateContent,
  now: Date,
  expiresAt: Date,
): Promise<string> {
  if (!keys.signing) throw new Error('this process holds no mandate signing key');
  const { sub, jti, ...rest } = content;
  return new SignJWT(rest)
    .setProtectedHeader({ alg: 'EdDSA', kid: keys.signing.kid, typ: 'cart-mandate+jwt' })
    .setIssuer(MANDATE_ISSUER)
    .setAudience(MANDATE_AUDIENCE)
    .setSubject(sub)
    .setJti(jti)
    .setIssuedAt(Math.floor(now.getTime() / 1000))
    .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
    .sign(keys.signing.key);
}

export type MandateVerification =
  | { ok: true; claims: CartMandateClaims; kid: string }
  | { ok: false; code: 'forged_mandate' | 'expired_mandate' | 'invalid_mandate'; reason: string };

/** Signature by a known key id, issuer, audience, expiry (at `now`) and the claims' shape. */
export async function verifyCartMandate(keys: MandateKeys, jws: string, now: Date): Promise<MandateVerification> {
  let kid = '';
  try {
    const { payload, protectedHeader } = await jwtVerify(
      jws,
      (header) => {
        kid = header.kid ?? '';
        const key = keys.verification.get(kid);
        if (!key) throw new errors.JWKSNoMatchingKey();
        return key;
      },
      { issuer: MANDATE_ISSUER, audience: MANDATE_AUDIENCE, algorithms: ['EdDSA'], currentDate: now },
    );
    const claims = CartMandateClaims.safeParse(payload);
    if (!claims.success)
      return { ok: false, code: 'invalid_mandate', reason: 'the mandate does not bind a complete cart' };
    return { ok: true, claims: claims.data, kid: protectedHeader.kid ?? kid };
  } catch (error) {
    if (error instanceof errors.JWTExpired)
      return { ok: false, code: 'expired_mandate', reason: 'the mandate expired' };
    if (error instanceof errors.JWKSNoMatchingKey) {
      return {
        ok: false,
        code: 'forged_mandate',
        reason: `the mandate is signed with an unknown key (${kid || 'no key id'})`,
      };
    }
    if (error instanceof errors.JWSSignatureVerificationFailed || error instanceof errors.JWSInvalid) {
      return { ok: false, code: 'forged_mandate', reason: 'the mandate signature is not valid' };
    }
    return {
      ok: false,
      code: 'invalid_mandate',
      reason: `the mandate cannot be verified (${(error as Error).message})`,
    };
  }
}
