/**
 * What a payment provider answered to one request. The aggregate records it; it never calls the
 * provider itself, so deciding stays pure and a replay never charges again.
 */
export interface ProviderResult {
  /** The provider's id for this request (the sandbox's transaction id). */
  reference: string;
  outcome: 'approved' | 'declined';
  reason?: string;
}
