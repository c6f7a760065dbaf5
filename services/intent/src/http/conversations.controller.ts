import { Body, Controller, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { CurrentPrincipal, openApiSchema, Principal, shopperOf, ZodPipe } from '@assent/runtime';
import { Conversations } from '../application/conversations';
import { shopperTurn } from './turn-format';

const MessageBody = z.object({ text: z.string().max(20000) }).strict();
const StartBody = z.object({ text: z.string().max(20000).optional() }).strict();

interface StatusResponse {
  status(code: number): unknown;
}

@ApiTags('conversations')
@Controller('v1/conversations')
export class ConversationsController {
  constructor(private readonly conversations: Conversations) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Start a conversation (optionally with a first message, answered as a turn)' })
  @ApiBody({ schema: openApiSchema(StartBody), required: false })
  async start(
    @Body(new ZodPipe(StartBody.optional())) body: z.infer<typeof StartBody> | undefined,
    @CurrentPrincipal() principal: Principal,
  ) {
    const shopperId = shopperOf(principal);
    const id = await this.conversations.start(shopperId);
    const turns = body?.text !== undefined ? [shopperTurn(await this.conversations.say(id, shopperId, body.text))] : [];
    return { id, turns };
  }

  @Get()
  @ApiOperation({ summary: "The shopper's conversations, newest first" })
  list(@CurrentPrincipal() principal: Principal) {
    return this.conversations.list(shopperOf(principal));
  }

  @Get(':id')
  @ApiOperation({ summary: 'A conversation with all its turns' })
  async get(@Param('id') id: string, @CurrentPrincipal() principal: Principal) {
    const turns = await this.conversations.transcript(id, shopperOf(principal));
    return { id, turns: turns.map(shopperTurn) };
  }

  @Post(':id/messages')
  @ApiOperation({
    summary: 'Say something; returns the structured turn (200), or 202 with kind "pending" if it takes longer',
  })
  @ApiBody({ schema: openApiSchema(MessageBody) })
  async say(
    @Param('id') id: string,
    @Body(new ZodPipe(MessageBody)) body: z.infer<typeof MessageBody>,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) response: StatusResponse,
  ) {
    const turn = await this.conversations.say(id, shopperOf(principal), body.text);
    response.status(turn.answer ? 200 : 202);
    return shopperTurn(turn);
  }

  @Get(':id/turns/:turnId')
  @ApiOperation({ summary: 'One turn (poll a pending one)' })
  async turn(@Param('id') id: string, @Param('turnId') turnId: string, @CurrentPrincipal() principal: Principal) {
    return shopperTurn(await this.conversations.turn(id, shopperOf(principal), turnId));
  }
}
