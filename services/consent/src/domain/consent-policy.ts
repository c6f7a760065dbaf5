/** How long a shopper has to answer, how long a mandate may wait for payment, and who sells. */
export class ConsentPolicy {
  constructor(
    readonly confirmationTtlSeconds: number,
    readonly mandateTtlSeconds: number,
    readonly merchant: string,
  ) {}

  static fromEnvironment(env = process.env): ConsentPolicy {
    return new ConsentPolicy(
      Number(env.ASSENT_CONFIRMATION_TTL_SECONDS ?? 900),
      Number(env.ASSENT_MANDATE_TTL_SECONDS ?? 600),
      env.ASSENT_MERCHANT_ID ?? 'assent-retail',
    );
  }
}
