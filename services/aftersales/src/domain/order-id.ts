import { createHash } from 'node:crypto';

/** τ-bench's order id format, which Assent's own orders share. */
export const ORDER_ID_PATTERN = /^#W\d{7}$/;

/**
 * The order id a mandate's order gets on its `attempt`-th try: `#W` and 7 digits from a hash of the
 * mandate id, so a redelivered PaymentAuthorized names the same order instead of a second one.
 */
export function orderIdCandidate(mandateId: string, attempt = 0): string {
  if (!Number.isInteger(attempt) || attempt < 0) throw new RangeError(`attempt must be a natural number: ${attempt}`);
  const digest = createHash('sha256').update(`${mandateId}\u0000${attempt}`).digest();
  const n = digest.readBigUInt64BE(0) % 10_000_000n;
  return `#W${n.toString().padStart(7, '0')}`;
}

/** Who holds an order id now: nobody (null), a historical order (mandateId null) or a mandate's order. */
export type OrderIdOwner = { mandateId: string | null } | null;

/** Every candidate was held by someone else (ten million ids, so in practice a bug). */
export class OrderIdExhaustedError extends Error {
  constructor(
    readonly mandateId: string,
    readonly attempts: number,
  ) {
    super(`no free order id for mandate ${mandateId} after ${attempts} attempts`);
    this.name = 'OrderIdExhaustedError';
  }
}

/**
 * The first candidate that is free or already this mandate's (a redelivery finds its own order
 * again). `ownerOf` looks an id up in the orders read model; seeded τ-bench orders count as taken.
 */
export async function resolveOrderId(
  mandateId: string,
  ownerOf: (orderId: string) => Promise<OrderIdOwner> | OrderIdOwner,
  maxAttempts = 32,
): Promise<string> {
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const candidate = orderIdCandidate(mandateId, attempt);
    const owner = await ownerOf(candidate);
    if (owner === null || owner.mandateId === mandateId) return candidate;
  }
  throw new OrderIdExhaustedError(mandateId, maxAttempts);
}
