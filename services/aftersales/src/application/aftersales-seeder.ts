import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AftersalesRepository } from '../persistence/aftersales-repository';

/** The τ-bench customers (addresses) and their 1,000 historical orders, on first start. */
@Injectable()
export class AftersalesSeeder implements OnApplicationBootstrap {
  private readonly logger = new Logger('AftersalesSeeder');

  constructor(
    private readonly dataSource: DataSource,
    private readonly orders: AftersalesRepository,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const seeded = await this.dataSource.transaction((manager) => this.orders.seedIfEmpty(manager));
    if (seeded.customers + seeded.orders > 0) {
      this.logger.log(`seeded ${seeded.customers} customers and ${seeded.orders} τ-bench orders`);
    }
  }
}
