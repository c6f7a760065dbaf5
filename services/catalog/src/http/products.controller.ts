import { Controller, Get, NotFoundException, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { ZodPipe } from '@assent/runtime';
import { CatalogRepository } from '../persistence/catalog-repository';

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

  @Get('items/:itemId')
  @ApiOperation({ summary: 'One sellable item (variant)' })
  async item(@Param('itemId') itemId: string) {
    const [item] = await this.catalog.getItems(this.dataSource.manager, [itemId]);
    if (!item) throw new NotFoundException(`no item ${itemId}`);
    return item;
  }
}
