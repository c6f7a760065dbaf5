import { z } from 'zod';

export const MANDATE_ISSUER = 'assent-consent';
export const MANDATE_AUDIENCE = 'assent-payment';

/**
 * What a cart mandate binds, as consent signs it: the exact lines, shipping, tax, total and
 * currency, the cart's hash and state, the merchant, the one-time confirmation nonce it answered,
 * the intent mandates it stays within and their ceiling, the shopper (`sub`), its id (`jti`) and
 * expiry (`exp`).
 */
export const CartMandateClaims = z.object({
  iss: z.literal(MANDATE_ISSUER),
  aud: z.literal(MANDATE_AUDIENCE),
  sub: z.string().min(1),
  jti: z.string().min(1),
  iat: z.number().int(),
  exp: z.number().int(),
  cart: z.object({
    id: z.string().min(1),
    hash: z.string().regex(/^[0-9a-f]{64}$/),
    lineChanges: z.number().int().nonnegative(),
    lines: z
      .array(
        z.object({ itemId: z.string(), quantity: z.number().int().min(1), unitPrice: z.number().int().nonnegative() }),
      )
      .min(1),
    subtotal: z.number().int().nonnegative(),
    shipping: z.number().int().nonnegative(),
    tax: z.number().int().nonnegative(),
    total: z.number().int().nonnegative(),
    currency: z.literal('USD'),
  }),
  merchant: z.string().min(1),
  confirmation: z.object({ id: z.string().min(1), nonce: z.string().min(16) }),
  conversationId: z.string().min(1),
  intentMandates: z.array(z.string()).min(1),
  ceiling: z.number().int().nonnegative(),
});
export type CartMandateClaims = z.infer<typeof CartMandateClaims>;
