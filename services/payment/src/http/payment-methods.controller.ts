import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { CurrentPrincipal, Principal, shopperOf } from '@assent/runtime';
import { SandboxPaymentProvider } from '../persistence/sandbox-payment-provider';

@ApiTags('payments')
@Controller('v1/payment-methods')
export class PaymentMethodsController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly provider: SandboxPaymentProvider,
  ) {}

  @Get()
  @ApiOperation({ summary: "The shopper's own payment methods (gift-card balances in cents)" })
  list(@CurrentPrincipal() principal: Principal) {
    return this.provider.listMethods(this.dataSource.manager, shopperOf(principal));
  }
}
