import { ORDER_ID_PATTERN, orderIdCandidate, OrderIdExhaustedError, OrderIdOwner, resolveOrderId } from './order-id';

describe('order ids', () => {
  it('derives a τ-bench shaped id from the mandate, the same every time', () => {
    const id = orderIdCandidate('mandate-1');
    expect(id).toMatch(ORDER_ID_PATTERN);
    expect(orderIdCandidate('mandate-1')).toBe(id);
    expect(orderIdCandidate('mandate-2')).not.toBe(id);
    expect(orderIdCandidate('mandate-1', 1)).not.toBe(id);
    expect(() => orderIdCandidate('m', -1)).toThrow(RangeError);
  });

  it('spreads over the id space', () => {
    const ids = new Set(Array.from({ length: 2_000 }, (_, i) => orderIdCandidate(`mandate-${i}`)));
    expect(ids.size).toBeGreaterThan(1_995);
    ids.forEach((id) => expect(id).toMatch(ORDER_ID_PATTERN));
  });

  it('keeps the first candidate when free, and finds its own order again on redelivery', async () => {
    expect(await resolveOrderId('m', () => null)).toBe(orderIdCandidate('m'));
    expect(await resolveOrderId('m', () => ({ mandateId: 'm' }))).toBe(orderIdCandidate('m'));
  });

  it('moves past ids held by historical orders or other mandates', async () => {
    const taken = new Map<string, OrderIdOwner>([
      [orderIdCandidate('m', 0), { mandateId: null }],
      [orderIdCandidate('m', 1), { mandateId: 'other' }],
    ]);
    const lookups: string[] = [];
    const id = await resolveOrderId('m', async (candidate) => {
      lookups.push(candidate);
      return taken.get(candidate) ?? null;
    });
    expect(id).toBe(orderIdCandidate('m', 2));
    expect(lookups).toHaveLength(3);
  });

  it('gives up with a typed error rather than looping forever', async () => {
    await expect(resolveOrderId('m', () => ({ mandateId: null }), 3)).rejects.toBeInstanceOf(OrderIdExhaustedError);
  });
});
