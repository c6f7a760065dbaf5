import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SandboxPaymentProvider } from '../persistence/sandbox-payment-provider';

/** Gives the τ-bench users their payment methods (and gift-card balances) on first start. */
@Injectable()
export class PaymentSeeder implements OnApplicationBootstrap {
  private readonly logger = new Logger('PaymentSeeder');

  constructor(
    private readonly dataSource: DataSource,
    private readonly provider: SandboxPaymentProvider,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const inserted = await this.dataSource.transaction((manager) => this.provider.seedPaymentMethodsIfEmpty(manager));
    if (inserted > 0) this.logger.log(`seeded ${inserted} sandbox payment methods`);
  }
}
