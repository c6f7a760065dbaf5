import { Body, Controller, Get, NotFoundException, Param, Patch, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { OutboxRelayRunner } from '@assent/bus';
import { EventStore } from '@assent/eventstore';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { CurrentPrincipal, openApiSchema, Principal, Roles, ZodPipe } from '@assent/runtime';
import { CatalogRepository } from '../persistence/catalog-repository';

const ItemChange = z
  .object({ price: z.number().int().min(1).max(100_000_000).optional(), available: z.boolean().optional() })
  .strict()
  .refine((c) => c.price !== undefined || c.available !== undefined, 'give a price or availability');

const ListQuery = z.object({
  q: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  offset: z.coerce.number().int().min(0).max(100000).default(0),
});

/** The catalog is readable by any authenticated principal; prices are integer cents. */
@ApiTags('catalog')
@Controller('v1')
export class ProductsController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly catalog: CatalogRepository,
    private readonly store: EventStore,
    private readonly relay: OutboxRelayRunner,
  ) {}

  @Get('products')
  @ApiOperation({ summary: 'Products with their variants; q searches names and options (typo-tolerant)' })
  @ApiQuery({ name: 'q', required: false })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'offset', required: false })
  list(@Query(new ZodPipe(ListQuery)) query: z.infer<typeof ListQuery>) {
    return this.catalog.listProducts(this.dataSource.manager, {
      query: query.q,
      limit: query.limit,
      offset: query.offset,
    });
  }

  /** Operators correct prices and stock; the change reaches cart, payment and intent as an event. */
  @Patch('items/:itemId')
  @Roles('operator')
  @ApiOperation({ summary: "Change an item's price (cents) or availability (operator role)" })
  @ApiBody({ schema: openApiSchema(ItemChange) })
  async updateItem(
    @Param('itemId') itemId: string,
    @Body(new ZodPipe(ItemChange)) change: z.infer<typeof ItemChange>,
    @CurrentPrincipal() principal: Principal,
  ) {
    const product = await this.dataSource.transaction(async (manager) => {
      const updated = await this.catalog.updateItem(manager, itemId, change);
      if (!updated) return null;
      const history = await this.store.readStream(manager, `product-${updated.productId}`);
      await this.store.append(
        manager,
        `product-${updated.productId}`,
        history.length,
        [{ type: 'catalog.ProductCatalogued', payload: updated }],
        {
          correlationId: `catalog-change-${itemId}`,
          causationId: null,
          actor: { kind: 'operator', id: principal.subject },
        },
      );
      return updated;
    });
    if (!product) throw new NotFoundException(`no item ${itemId}`);
    this.relay.nudge();
    return product.variants.find((v) => v.itemId === itemId);
  }

  @Get('items/:itemId')
  @ApiOperation({ summary: 'One sellable item (variant)' })
  async item(@Param('itemId') itemId: string) {
    const [item] = await this.catalog.getItems(this.dataSource.manager, [itemId]);
    if (!item) throw new NotFoundException(`no item ${itemId}`);
    return item;
  }
}
