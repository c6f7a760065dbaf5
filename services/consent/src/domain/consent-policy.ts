/** How long a shopper has to answer, how long a mandate may wait for payment, who sells, when to step up. */
export class ConsentPolicy {
  constructor(
    readonly confirmationTtlSeconds: number,
    readonly mandateTtlSeconds: number,
    readonly merchant: string,
    /** Totals above this (cents) also need a one-time code. */
    readonly stepUpThreshold: number,
    readonly intentMandateTtlSeconds: number,
  ) {}

  static fromEnvironment(env = process.env): ConsentPolicy {
    return new ConsentPolicy(
      Number(env.ASSENT_CONFIRMATION_TTL_SECONDS ?? 900),
      Number(env.ASSENT_MANDATE_TTL_SECONDS ?? 600),
      env.ASSENT_MERCHANT_ID ?? 'assent-retail',
      Number(env.ASSENT_STEP_UP_THRESHOLD_CENTS ?? 100000),
      Number(env.ASSENT_INTENT_MANDATE_TTL_SECONDS ?? 86400),
    );
  }
}
