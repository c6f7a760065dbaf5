import { Body, Controller, Get, HttpCode, NotFoundException, Param, Post } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { newEventId } from '@assent/contracts';
import { CurrentPrincipal, openApiSchema, Principal, shopperOf, ZodPipe } from '@assent/runtime';
import { Confirmations } from '../application/confirmations';

const AnswerBody = z.object({ nonce: z.string().min(16).max(200), answer: z.enum(['yes', 'no']) }).strict();

@ApiTags('confirmations')
@Controller('v1/confirmations')
export class ConfirmationsController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly confirmations: Confirmations,
  ) {}

  @Get(':confirmationId')
  @ApiOperation({ summary: 'A confirmation asked of the shopper: the exact summary, its status and expiry' })
  async get(@Param('confirmationId') confirmationId: string, @CurrentPrincipal() principal: Principal) {
    const state = await this.confirmations.load(this.dataSource.manager, confirmationId);
    if (state.status === 'none' || state.shopperId !== shopperOf(principal)) {
      throw new NotFoundException(`no confirmation ${confirmationId}`);
    }
    const { nonce: _nonce, ...visible } = state;
    void _nonce;
    return visible;
  }

  /** The API equivalent of answering "yes" in chat: it must carry the nonce the confirmation showed. */
  @Post(':confirmationId/answer')
  @HttpCode(200)
  @ApiOperation({ summary: 'Answer a pending confirmation with its nonce; "yes" grants a cart mandate' })
  @ApiBody({ schema: openApiSchema(AnswerBody) })
  async answer(
    @Param('confirmationId') confirmationId: string,
    @Body(new ZodPipe(AnswerBody)) body: z.infer<typeof AnswerBody>,
    @CurrentPrincipal() principal: Principal,
  ) {
    const shopperId = shopperOf(principal);
    const state = await this.confirmations.load(this.dataSource.manager, confirmationId);
    if (state.status === 'none' || state.shopperId !== shopperId) {
      throw new NotFoundException(`no confirmation ${confirmationId}`);
    }
    const turn = { conversationId: state.conversationId!, turnId: `api-${newEventId()}` };
    const afterCommit: Array<() => Promise<void>> = [];
    const { events } = await this.dataSource.transaction((manager) =>
      this.confirmations.answer(
        manager,
        confirmationId,
        { turn, shopperId, ...body },
        { correlationId: state.conversationId!, causationId: null, actor: { kind: 'shopper', id: shopperId } },
        (after) => afterCommit.push(after),
      ),
    );
    for (const after of afterCommit) await after();
    const outcome = events[0];
    if (outcome?.type === 'consent.CartMandateGranted') {
      return { status: 'granted', mandateId: (outcome.payload as { mandateId: string }).mandateId };
    }
    if (outcome?.type === 'consent.StepUpRequired') {
      return { status: 'step_up_required', detail: 'a one-time code was sent; answer again with it as "code"' };
    }
    return { status: 'refused', reason: (outcome?.payload as { reason?: string } | undefined)?.reason ?? 'unknown' };
  }
}
