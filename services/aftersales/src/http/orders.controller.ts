import { Controller, Get, NotFoundException, Param } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { CurrentPrincipal, Principal, shopperOf } from '@assent/runtime';
import { AftersalesRepository, toTauOrder } from '../persistence/aftersales-repository';

/** Orders in the τ-bench retail order format (dollars), only the shopper's own. */
@ApiTags('orders')
@Controller('v1/orders')
export class OrdersController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly orders: AftersalesRepository,
  ) {}

  @Get()
  @ApiOperation({ summary: "The shopper's orders" })
  async list(@CurrentPrincipal() principal: Principal) {
    return (await this.orders.listOrders(this.dataSource.manager, shopperOf(principal))).map(toTauOrder);
  }

  @Get(':orderId')
  @ApiOperation({ summary: 'One order (URL-encode the #: %23W1234567)' })
  async get(@Param('orderId') orderId: string, @CurrentPrincipal() principal: Principal) {
    const order = await this.orders.getOrder(this.dataSource.manager, orderId);
    if (!order || order.userId !== shopperOf(principal)) throw new NotFoundException(`no order ${orderId}`);
    return toTauOrder(order);
  }
}
