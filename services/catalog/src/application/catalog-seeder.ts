import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { OutboxRelayRunner } from '@assent/bus';
import { EventStore } from '@assent/eventstore';
import { CatalogRepository } from '../persistence/catalog-repository';

/**
 * Seeds the τ-bench catalog on first start and announces every product as a `ProductCatalogued`
 * event in the same transaction, so the services that keep their own copy (intent's vocabulary,
 * cart's prices) learn it through the bus like any later change.
 */
@Injectable()
export class CatalogSeeder implements OnApplicationBootstrap {
  private readonly logger = new Logger('CatalogSeeder');
  private seeding: Promise<void> | null = null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly store: EventStore,
    private readonly catalog: CatalogRepository,
    private readonly relay: OutboxRelayRunner,
  ) {}

  onApplicationBootstrap(): Promise<void> {
    this.seeding ??= this.seed();
    return this.seeding;
  }

  private async seed(): Promise<void> {
    const seeded = await this.dataSource.transaction(async (manager) => {
      const products = await this.catalog.seedIfEmpty(manager);
      if (!products) return null;
      for (const product of products) {
        await this.store.append(
          manager,
          `product-${product.productId}`,
          0,
          [{ type: 'catalog.ProductCatalogued', payload: product }],
          {
            correlationId: `catalog-seed`,
            causationId: null,
            actor: { kind: 'system', id: 'catalog-seed' },
          },
        );
      }
      return products;
    });
    if (seeded) {
      this.logger.log(`seeded ${seeded.length} products from the τ-bench catalog`);
      this.relay.nudge();
    }
  }
}
