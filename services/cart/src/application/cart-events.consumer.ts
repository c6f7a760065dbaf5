import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { HandlerContext, HandlesEvent } from '@assent/bus';
import {
  CartItemRemovalRequested,
  CartItemRequested,
  causedBy,
  CheckoutAsked,
  EventEnvelope,
  OrderPlaced,
  PayloadOf,
  PaymentRejected,
  PricingPolicy,
  ProductCatalogued,
  TurnRef,
} from '@assent/contracts';
import { EventStore, executeCommand } from '@assent/eventstore';
import { cartAggregate, CartCommand } from '../domain/cart.aggregate';
import { PriceList } from '../persistence/price-list';

/** One cart per conversation. */
export const cartIdOf = (conversationId: string) => `cart-${conversationId}`;

/** Thin: each event becomes one cart command, decided by the pure aggregate. */
@Controller()
export class CartEventsConsumer {
  constructor(
    private readonly store: EventStore,
    private readonly priceList: PriceList,
    private readonly pricing: PricingPolicy,
  ) {}

  @HandlesEvent(ProductCatalogued.type)
  async onProductCatalogued(
    @Payload() event: EventEnvelope<PayloadOf<typeof ProductCatalogued>>,
    @Ctx() ctx: HandlerContext,
  ) {
    await this.priceList.apply(ctx.manager, event.payload);
  }

  @HandlesEvent(CartItemRequested.type)
  async onItemRequested(
    @Payload() event: EventEnvelope<PayloadOf<typeof CartItemRequested>>,
    @Ctx() ctx: HandlerContext,
  ) {
    const p = event.payload;
    const cartId = cartIdOf(p.conversationId);
    const item = (await this.priceList.get(ctx.manager, [p.itemId])).get(p.itemId) ?? null;
    // The item is added because of the suggestion the shopper picked it from: that is its cause.
    await this.execute(
      ctx,
      event,
      cartId,
      {
        type: 'AddItem',
        turn: { conversationId: p.conversationId, turnId: p.turnId },
        cartId,
        shopperId: p.shopperId,
        item,
        itemId: p.itemId,
        quantity: p.quantity,
        suggestionEventId: p.suggestionEventId,
      },
      p.suggestionEventId,
    );
  }

  @HandlesEvent(CartItemRemovalRequested.type)
  async onRemovalRequested(
    @Payload() event: EventEnvelope<PayloadOf<typeof CartItemRemovalRequested>>,
    @Ctx() ctx: HandlerContext,
  ) {
    const p = event.payload;
    const cartId = cartIdOf(p.conversationId);
    await this.execute(ctx, event, cartId, {
      type: 'RemoveItem',
      turn: { conversationId: p.conversationId, turnId: p.turnId },
      cartId,
      shopperId: p.shopperId,
      itemId: p.itemId,
    });
  }

  @HandlesEvent(CheckoutAsked.type)
  async onCheckoutAsked(@Payload() event: EventEnvelope<PayloadOf<typeof CheckoutAsked>>, @Ctx() ctx: HandlerContext) {
    const p = event.payload;
    await this.checkout(
      ctx,
      event,
      { conversationId: p.conversationId, turnId: p.turnId },
      cartIdOf(p.conversationId),
      p.shopperId,
    );
  }

  private async checkout(ctx: HandlerContext, cause: EventEnvelope, turn: TurnRef, cartId: string, shopperId: string) {
    const history = await this.store.readStream(ctx.manager, cartId);
    const itemIds = [
      ...new Set(
        history.filter((e) => e.type === 'cart.ItemAdded').map((e) => (e.payload as { itemId: string }).itemId),
      ),
    ];
    await this.execute(ctx, cause, cartId, {
      type: 'RequestCheckout',
      turn,
      cartId,
      shopperId,
      prices: await this.priceList.get(ctx.manager, itemIds),
      pricing: this.pricing,
    });
  }

  /** The cart changed after the shopper approved it: price it again, so they are asked again. */
  @HandlesEvent(PaymentRejected.type)
  async onPaymentRejected(
    @Payload() event: EventEnvelope<PayloadOf<typeof PaymentRejected>>,
    @Ctx() ctx: HandlerContext,
  ) {
    const p = event.payload;
    if (!p.reconfirm) return;
    await this.checkout(ctx, event, { conversationId: p.conversationId, turnId: p.turnId }, p.cartId, p.shopperId);
  }

  @HandlesEvent(OrderPlaced.type)
  async onOrderPlaced(@Payload() event: EventEnvelope<PayloadOf<typeof OrderPlaced>>, @Ctx() ctx: HandlerContext) {
    const p = event.payload;
    await this.execute(ctx, event, p.cartId, {
      type: 'CloseCart',
      turn: { conversationId: p.conversationId, turnId: p.turnId },
      cartId: p.cartId,
      shopperId: p.shopperId,
      orderId: p.orderId,
    });
  }

  private async execute(
    ctx: HandlerContext,
    cause: EventEnvelope,
    cartId: string,
    command: CartCommand,
    causationId?: string,
  ): Promise<void> {
    const meta = causedBy(cause, causationId ? { causationId } : {});
    await executeCommand(this.store, ctx.manager, cartAggregate, cartId, command, meta);
  }
}
