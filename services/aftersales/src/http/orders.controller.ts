import { Body, Controller, Get, HttpCode, NotFoundException, Param, Post } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { DataSource } from 'typeorm';
import { CurrentPrincipal, openApiSchema, Principal, shopperOf, ZodPipe } from '@assent/runtime';
import { OrderCancellations } from '../application/order-cancellations';
import { AftersalesRepository, toTauOrder } from '../persistence/aftersales-repository';

/** Orders in the τ-bench retail order format (dollars), only the shopper's own. */
const CancelBody = z.object({ reason: z.enum(['no longer needed', 'ordered by mistake']).optional() }).strict();

@ApiTags('orders')
@Controller('v1/orders')
export class OrdersController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly orders: AftersalesRepository,
    private readonly cancellations: OrderCancellations,
  ) {}

  @Get()
  @ApiOperation({ summary: "The shopper's orders" })
  async list(@CurrentPrincipal() principal: Principal) {
    return (await this.orders.listOrders(this.dataSource.manager, shopperOf(principal))).map(toTauOrder);
  }

  /** Undo: a pending order, within the undo window, cancelled at no cost; payments are refunded. */
  @Post(':orderId/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel a pending order within the undo window (URL-encode the #)' })
  @ApiBody({ schema: openApiSchema(CancelBody), required: false })
  async cancel(
    @Param('orderId') orderId: string,
    @Body(new ZodPipe(CancelBody.optional())) body: z.infer<typeof CancelBody> | undefined,
    @CurrentPrincipal() principal: Principal,
  ) {
    const order = await this.cancellations.cancel(orderId, shopperOf(principal), body?.reason ?? 'ordered by mistake');
    return toTauOrder(order);
  }

  @Get(':orderId')
  @ApiOperation({ summary: 'One order (URL-encode the #: %23W1234567)' })
  async get(@Param('orderId') orderId: string, @CurrentPrincipal() principal: Principal) {
    const order = await this.orders.getOrder(this.dataSource.manager, orderId);
    if (!order || order.userId !== shopperOf(principal)) throw new NotFoundException(`no order ${orderId}`);
    return toTauOrder(order);
  }
}
