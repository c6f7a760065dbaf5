import { Aggregate } from '@assent/eventstore';
import {
  cartHash,
  EventDraft,
  EventEnvelope,
  ItemAdded,
  PayloadOf,
  priceCart,
  PricedLine,
  PricingPolicy,
  TurnRef,
} from '@assent/contracts';

/** An item as the catalog last announced it (the cart's own price list). */
export interface CatalogItem {
  itemId: string;
  productId: string;
  name: string;
  options: Record<string, string>;
  price: number;
  available: boolean;
}

export type CartLine = Omit<PricedLine, 'lineTotal'>;

export interface CartState {
  cartId: string | null;
  shopperId: string | null;
  lines: CartLine[];
  /** The suggestion event each item was picked from: its intent bounds what may be bought. */
  origins: Record<string, string>;
  /** Line-changing events so far: a mandate priced at an earlier count is stale. */
  lineChanges: number;
}

export type CartCommand =
  | {
      type: 'AddItem';
      turn: TurnRef;
      cartId: string;
      shopperId: string;
      item: CatalogItem | null;
      itemId: string;
      quantity: number;
      suggestionEventId: string;
    }
  | { type: 'RemoveItem'; turn: TurnRef; cartId: string; shopperId: string; itemId: string }
  | {
      type: 'RequestCheckout';
      turn: TurnRef;
      cartId: string;
      shopperId: string;
      /** The live price list entries for the cart's lines: checkout prices now, not when added. */
      prices: Map<string, CatalogItem>;
      pricing: PricingPolicy;
    }
  | { type: 'CloseCart'; turn: TurnRef; cartId: string; shopperId: string; orderId: string };

const MAX_LINES = 50;
const MAX_QUANTITY = 10;

function refuse(command: CartCommand, request: 'add' | 'remove' | 'checkout', reason: string): EventDraft[] {
  const { turn, cartId, shopperId } = command;
  return [{ type: 'cart.CartRequestRefused', payload: { ...turn, cartId, shopperId, request, reason } }];
}

/** A cart belongs to one shopper and one conversation; it empties when it becomes an order. */
export const cartAggregate: Aggregate<CartState, CartCommand> = {
  initialState: { cartId: null, shopperId: null, lines: [], origins: {}, lineChanges: 0 },

  decide(command, state) {
    const base = { ...command.turn, cartId: command.cartId, shopperId: command.shopperId };
    if (state.shopperId !== null && state.shopperId !== command.shopperId) {
      const request = command.type === 'AddItem' ? 'add' : command.type === 'RemoveItem' ? 'remove' : 'checkout';
      return command.type === 'CloseCart' ? [] : refuse(command, request, 'this cart belongs to another shopper');
    }
    switch (command.type) {
      case 'AddItem': {
        const { item } = command;
        if (!item) return refuse(command, 'add', `item ${command.itemId} is not in the catalog`);
        if (!item.available) return refuse(command, 'add', `${item.name} (${item.itemId}) is out of stock`);
        const existing = state.lines.find((l) => l.itemId === item.itemId);
        if (!existing && state.lines.length >= MAX_LINES) return refuse(command, 'add', 'the cart is full');
        if ((existing?.quantity ?? 0) + command.quantity > MAX_QUANTITY) {
          return refuse(command, 'add', `at most ${MAX_QUANTITY} of one item per order`);
        }
        return [
          {
            type: 'cart.ItemAdded',
            payload: {
              ...base,
              itemId: item.itemId,
              productId: item.productId,
              name: item.name,
              options: item.options,
              unitPrice: item.price,
              quantity: command.quantity,
              suggestionEventId: command.suggestionEventId,
            },
          },
        ];
      }
      case 'RemoveItem':
        if (!state.lines.some((l) => l.itemId === command.itemId)) {
          return refuse(command, 'remove', `item ${command.itemId} is not in the cart`);
        }
        return [{ type: 'cart.ItemRemoved', payload: { ...base, itemId: command.itemId } }];
      case 'RequestCheckout': {
        if (state.lines.length === 0) return refuse(command, 'checkout', 'the cart is empty');
        const lines: CartLine[] = [];
        for (const line of state.lines) {
          const live = command.prices.get(line.itemId);
          if (!live || !live.available) {
            return refuse(command, 'checkout', `${line.name} (${line.itemId}) is no longer available`);
          }
          lines.push({ ...line, unitPrice: live.price });
        }
        const summary = priceCart(lines, command.pricing);
        return [
          {
            type: 'cart.CheckoutRequested',
            payload: {
              ...base,
              summary,
              cartHash: cartHash(command.cartId, command.shopperId, summary),
              lineOrigins: Object.fromEntries(lines.map((l) => [l.itemId, state.origins[l.itemId]])),
              lineChanges: state.lineChanges,
            },
          },
        ];
      }
      case 'CloseCart':
        return state.lines.length === 0
          ? []
          : [{ type: 'cart.CartCheckedOut', payload: { ...base, orderId: command.orderId } }];
    }
  },

  evolve(state, event: EventEnvelope) {
    switch (event.type) {
      case 'cart.ItemAdded': {
        const added = event.payload as PayloadOf<typeof ItemAdded>;
        const existing = state.lines.find((l) => l.itemId === added.itemId);
        const lines = existing
          ? state.lines.map((l) => (l.itemId === added.itemId ? { ...l, quantity: l.quantity + added.quantity } : l))
          : [
              ...state.lines,
              {
                itemId: added.itemId,
                productId: added.productId,
                name: added.name,
                options: added.options,
                quantity: added.quantity,
                unitPrice: added.unitPrice,
              },
            ];
        return {
          cartId: added.cartId,
          shopperId: added.shopperId,
          lines,
          // The latest pick of an item is the one whose intent applies.
          origins: { ...state.origins, [added.itemId]: added.suggestionEventId },
          lineChanges: state.lineChanges + 1,
        };
      }
      case 'cart.ItemRemoved': {
        const { itemId } = event.payload as { itemId: string };
        return { ...state, lines: state.lines.filter((l) => l.itemId !== itemId), lineChanges: state.lineChanges + 1 };
      }
      case 'cart.CartCheckedOut':
        return { ...state, lines: [], origins: {}, lineChanges: state.lineChanges + 1 };
      default:
        return state;
    }
  },
};
