import type { ShoppingIntent } from '@assent/contracts';

/** What the catalog sells, as the model may name it: product names and every option value in stock or not. */
export interface ProductVocabulary {
  productId: string;
  name: string;
  /** Option name to all values found across the product's variants. */
  options: Record<string, string[]>;
}

export interface SuggestionRef {
  itemId: string;
  productId: string;
  name: string;
  /** Minor units. */
  price: number;
  options: Record<string, string>;
}

export interface CartLineRef {
  itemId: string;
  name: string;
  quantity: number;
}

/** What the conversation has shown so far; references ("the first one", "it") resolve against it. */
export interface DialogueContext {
  /** The conversation's last search, for refinement ("only polyester ones", "keep it under $210"). */
  lastIntent: ShoppingIntent | null;
  /** What the last turn showed, in order. */
  suggestions: SuggestionRef[];
  cart: CartLineRef[];
  /** A cart summary is waiting for the shopper's yes/no. */
  pendingConfirmation: boolean;
}

export type ClarifyReason = 'empty' | 'unreadable' | 'too_long' | 'vague' | 'unclear_reference' | 'unsupported';

export type Understanding =
  | { kind: 'search'; intent: ShoppingIntent; refinement: boolean; confidence: number }
  | { kind: 'clarify'; question: string; reason: ClarifyReason }
  | { kind: 'add_to_cart'; itemId: string; quantity: number }
  | { kind: 'remove_from_cart'; itemId: string }
  | { kind: 'checkout' }
  // Classification only: whether a confirmation is pending is decided by the conversation, not here.
  | { kind: 'confirm' }
  | { kind: 'decline' }
  | { kind: 'show_cart' }
  | { kind: 'help' };

export interface UnderstandInput {
  text: string;
  context: DialogueContext;
  vocabulary: ProductVocabulary[];
}

/** The intent service's one port to language understanding. It proposes; it never causes a side effect. */
export interface IntentModel {
  readonly name: string;
  readonly version: string;
  understand(input: UnderstandInput): Promise<Understanding>;
}
