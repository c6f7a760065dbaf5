import {
  CartMandateGranted,
  CartRequestRefused,
  ConfirmationRequested,
  ConsentRefused,
  describeIntent,
  StepUpRequired,
  DialogueUpdate,
  EventEnvelope,
  formatUsd,
  ItemAdded,
  ItemRemoved,
  NoMatchFound,
  OrderPlaced,
  PayloadOf,
  PaymentRejected,
  ProductsSuggested,
  SuggestedItem,
  TurnAnswer,
  TurnKind,
} from '@assent/contracts';

export function answer(kind: TurnKind, reply: string, extra: Partial<TurnAnswer> = {}): TurnAnswer {
  return { kind, reply, suggestions: [], alternatives: [], summary: null, orderId: null, confirmation: null, ...extra };
}

/**
 * The answer to a turn nobody answered in time. It promises only what holds whatever happens
 * later: a purchase the shopper already approved may still complete, so it says where to look.
 */
export function overdueAnswer(): TurnAnswer {
  return answer(
    'error',
    'Sorry, this is taking longer than it should, so I stopped waiting for an answer. Nothing is ever bought ' +
      'without your approval; if you had just approved a purchase, check your orders before trying again.',
  );
}

function describeItem(item: Pick<SuggestedItem, 'name' | 'options' | 'price'>): string {
  const options = Object.entries(item.options)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return `${item.name} (${options}) at ${formatUsd(item.price)}`;
}

export function describeCart(cart: Array<{ name: string; quantity: number }>): string {
  if (cart.length === 0) return 'Your cart is empty.';
  return `In your cart: ${cart.map((l) => `${l.quantity} × ${l.name}`).join('; ')}. Say "check out" to see the exact total.`;
}

/**
 * The shopper-facing answer to a turn, from the event another service emitted for it, and what it
 * changes in the dialogue. Events that are steps on the way (a mandate granted, payment pending)
 * answer nothing yet: null.
 */
export function turnAnswerFor(event: EventEnvelope): { answer: TurnAnswer; dialogue: DialogueUpdate } | null {
  switch (event.type) {
    case ProductsSuggested.type: {
      const p = event.payload as PayloadOf<typeof ProductsSuggested>;
      const lines = p.items.map((item, i) => `${i + 1}. ${describeItem(item)}: ${item.satisfied.join(', ')}`);
      return {
        answer: answer(
          'suggestions',
          `Here ${p.items.length === 1 ? 'is 1 match' : `are ${p.items.length} matches`} (${p.constraints.join('; ')}):\n${lines.join('\n')}\n` +
            'Say "add the first one" (or the second...) to put one in your cart. ' +
            `I will only ever buy what you asked for: ${describeIntent(p.intent)}, and only after you approve the exact total.`,
          { suggestions: p.items },
        ),
        dialogue: { intent: p.intent, suggestionEventId: event.eventId },
      };
    }
    case NoMatchFound.type: {
      const p = event.payload as PayloadOf<typeof NoMatchFound>;
      const alternatives = p.alternatives.length
        ? `\nNot what you asked for, but close (each breaks what is noted):\n${p.alternatives
            .map((a, i) => `${i + 1}. ${describeItem(a)}: not ${a.broken.join(', not ')}`)
            .join('\n')}`
        : '';
      return {
        answer: answer('no_match', `${p.reason}. I won't substitute something else.${alternatives}`, {
          alternatives: p.alternatives,
        }),
        dialogue: { intent: p.intent },
      };
    }
    case ItemAdded.type: {
      const p = event.payload as PayloadOf<typeof ItemAdded>;
      return {
        answer: answer(
          'info',
          `Added ${p.quantity} × ${describeItem({ name: p.name, options: p.options, price: p.unitPrice })} to your cart. ` +
            'Say "check out" when you are ready; you will see the exact total before anything is bought.',
        ),
        dialogue: { cartAdded: { itemId: p.itemId, name: p.name, quantity: p.quantity } },
      };
    }
    case ItemRemoved.type: {
      const p = event.payload as PayloadOf<typeof ItemRemoved>;
      return {
        answer: answer('info', `Removed item ${p.itemId} from your cart.`),
        dialogue: { cartRemoved: p.itemId },
      };
    }
    case CartRequestRefused.type: {
      const p = event.payload as PayloadOf<typeof CartRequestRefused>;
      return { answer: answer('info', `I couldn't do that: ${p.reason}.`), dialogue: {} };
    }
    case ConfirmationRequested.type: {
      const p = event.payload as PayloadOf<typeof ConfirmationRequested>;
      const s = p.summary;
      const lines = s.lines.map(
        (l) => `${l.quantity} × ${describeItem({ ...l, price: l.unitPrice })} = ${formatUsd(l.lineTotal)}`,
      );
      return {
        answer: answer(
          'confirmation_required',
          `Please confirm this order:\n${lines.join('\n')}\nShipping ${formatUsd(s.shipping)}, tax ${formatUsd(s.tax)}, ` +
            `total ${formatUsd(s.total)}.\nReply "yes" to buy exactly this, or "no" to cancel. Nothing is charged before you say yes.`,
          { summary: s, confirmation: { id: p.confirmationId, nonce: p.nonce, expiresAt: p.expiresAt } },
        ),
        dialogue: { confirmationPending: true },
      };
    }
    case ConsentRefused.type: {
      const p = event.payload as PayloadOf<typeof ConsentRefused>;
      if (p.code === 'step_up_failed') {
        return { answer: answer('info', `${p.reason}. Nothing was bought yet.`), dialogue: { stepUpPending: true } };
      }
      const reply = p.code === 'declined' ? 'Okay, nothing was bought.' : `Nothing was bought: ${p.reason}.`;
      // A stranger's answer (not_yours) cannot happen in one's own conversation; the rest close it.
      return { answer: answer('info', reply), dialogue: { confirmationPending: false } };
    }
    case StepUpRequired.type:
      return {
        answer: answer(
          'info',
          'This order is above the amount that needs a second check: I sent you a one-time code. Type the 6 digits here to approve it.',
        ),
        dialogue: { stepUpPending: true },
      };
    case CartMandateGranted.type:
      return null;
    case PaymentRejected.type: {
      const p = event.payload as PayloadOf<typeof PaymentRejected>;
      // The cart changed since the approval: the cart prices it again and consent asks again; that answers the turn.
      if (p.reconfirm) return null;
      return {
        answer: answer(
          'error',
          `The payment did not go through (${p.reason}); nothing was charged and no order was placed.`,
        ),
        dialogue: { confirmationPending: false },
      };
    }
    case OrderPlaced.type: {
      const p = event.payload as PayloadOf<typeof OrderPlaced>;
      const method = p.paymentHistory[0]?.paymentMethodId ?? 'your payment method';
      return {
        answer: answer(
          'order_placed',
          `Order ${p.orderId} is placed: ${p.items.length} item${p.items.length === 1 ? '' : 's'}, ${formatUsd(p.total)} charged to ${method}.`,
          { orderId: p.orderId },
        ),
        dialogue: { cartCleared: true, confirmationPending: false },
      };
    }
    default:
      return null;
  }
}
