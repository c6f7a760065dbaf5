import { priceCart, PricingPolicy } from '@assent/contracts';
import { Controller, Get, NotFoundException, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { EventStore, foldEvents } from '@assent/eventstore';
import { CurrentPrincipal, Principal, shopperOf } from '@assent/runtime';
import { cartAggregate } from '../domain/cart.aggregate';
import { PriceList } from '../persistence/price-list';

@ApiTags('carts')
@Controller('v1/carts')
export class CartController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: EventStore,
    private readonly priceList: PriceList,
    private readonly pricing: PricingPolicy,
  ) {}

  @Get(':cartId')
  @ApiOperation({ summary: "The shopper's cart, priced now (integer cents)" })
  @ApiOkResponse({ description: 'lines and the priced summary' })
  async get(@Param('cartId') cartId: string, @CurrentPrincipal() principal: Principal) {
    const shopperId = shopperOf(principal);
    const manager = this.dataSource.manager;
    const state = foldEvents(cartAggregate, await this.store.readStream(manager, cartId));
    // Another shopper's cart is indistinguishable from a missing one.
    if (state.shopperId !== shopperId) throw new NotFoundException(`no cart ${cartId}`);
    const prices = await this.priceList.get(
      manager,
      state.lines.map((l) => l.itemId),
    );
    const lines = state.lines.map((l) => ({ ...l, unitPrice: prices.get(l.itemId)?.price ?? l.unitPrice }));
    return { cartId, shopperId, lines, summary: lines.length ? priceCart(lines, this.pricing) : null };
  }
}
