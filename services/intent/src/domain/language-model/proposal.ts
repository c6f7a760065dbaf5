import { z } from 'zod';
import type { ShoppingIntent } from '@assent/contracts';
import { detectCorruption } from './corruption';
import { LanguageModelError } from './errors';
import type { DialogueContext, Understanding } from '../understanding';

/** What the model may call a message; the same kinds as `Understanding`, snake_case on the wire. */
export const PROPOSAL_KINDS = [
  'search',
  'clarify',
  'add_to_cart',
  'remove_from_cart',
  'checkout',
  'confirm',
  'decline',
  'show_cart',
  'help',
] as const;

const Name = z.string().min(1).max(100);
/** Dollars, as shoppers say them; converted to minor units once, here. */
const Dollars = z.number().nonnegative().max(1_000_000);

/**
 * The model's answer: a proposal, never a decision. Every field is required (nullable where it may
 * be absent) so the JSON schema is also valid for strict structured-output backends.
 */
export const IntentProposal = z
  .object({
    kind: z.enum(PROPOSAL_KINDS),
    /** Catalog product names, exactly as listed. */
    product_types: z.array(Name).max(10),
    excluded_product_types: z.array(Name).max(10),
    /** Option name to the values allowed (any of them). */
    required_options: z.record(Name, z.array(Name).max(20)),
    /** Option name to the values refused. */
    excluded_options: z.record(Name, z.array(Name).max(20)),
    min_price: Dollars.nullable(),
    max_price: Dollars.nullable(),
    price_sensitive: z.boolean(),
    quantity: z.number().int().min(1).max(100),
    /** Which shown suggestion (add) or cart line (remove) the shopper means. */
    item_reference: z
      .object({
        item_id: z.string().min(1).max(64).nullable(),
        /** 1-based position in the list shown (suggestions to add, the cart to remove). */
        position: z.number().int().min(1).max(50).nullable(),
      })
      .strict()
      .nullable(),
  })
  .strict();
export type IntentProposal = z.infer<typeof IntentProposal>;

/** The proposal's JSON schema for `response_format: json_schema` (draft-07: what vLLM, SGLang and Ollama read). */
export function proposalJsonSchema(): Record<string, unknown> {
  const { $schema: _ignored, ...schema } = z.toJSONSchema(IntentProposal, { target: 'draft-7' }) as Record<
    string,
    unknown
  >;
  return schema;
}

/**
 * Content as some servers wrap it: Qwen3's `<think>` block before the answer, a Markdown code
 * fence around it. Neither changes the answer, so they are taken off rather than failed.
 */
export function unwrapContent(content: string): string {
  let text = content.replace(/<think>[\s\S]*?<\/think>/g, '').trim();
  const fence = /^```(?:json)?\s*\n([\s\S]*?)\n?```$/.exec(text);
  if (fence) text = fence[1].trim();
  return text;
}

/** Reads the model's content as a proposal; a LanguageModelError says why it cannot be read. */
export function parseProposal(content: string): IntentProposal {
  const text = unwrapContent(content);
  const corruption = detectCorruption(text, { json: true, script: 'latin' });
  if (corruption) {
    const kind =
      corruption.reason === 'truncated' || corruption.reason === 'unbalanced_json' ? 'truncated' : 'corrupted';
    // Empty content is no answer rather than a damaged one.
    if (corruption.reason === 'empty') throw new LanguageModelError('empty_response', 'the model answered nothing');
    throw new LanguageModelError(kind, `model output ${corruption.reason}: ${corruption.detail}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new LanguageModelError('invalid_json', `model output is not JSON: ${(e as Error).message}`);
  }
  const parsed = IntentProposal.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LanguageModelError(
      'schema_violation',
      `model output does not match the proposal schema: ${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
  }
  return parsed.data;
}

export const toCents = (dollars: number | null): number | null => (dollars === null ? null : Math.round(dollars * 100));

const nonEmpty = (options: Record<string, string[]>): Record<string, string[]> =>
  Object.fromEntries(Object.entries(options).filter(([, values]) => values.length > 0));

/** The proposal's search as a ShoppingIntent (minor units; keywords are the rules reading's to give). */
export function proposalIntent(p: IntentProposal): ShoppingIntent {
  return {
    productTypes: [...new Set(p.product_types)],
    excludedProductTypes: [...new Set(p.excluded_product_types)],
    requiredOptions: nonEmpty(p.required_options),
    excludedOptions: nonEmpty(p.excluded_options),
    minPrice: toCents(p.min_price),
    maxPrice: toCents(p.max_price),
    priceSensitive: p.price_sensitive,
    quantity: p.quantity,
    keywords: [],
  };
}

/** The item a reference names among those listed, or null when it names none (or two different ones). */
export function resolveItemReference(
  reference: IntentProposal['item_reference'],
  listed: ReadonlyArray<{ itemId: string }>,
): string | null {
  if (!reference) return null;
  const byId = reference.item_id === null ? null : (listed.find((l) => l.itemId === reference.item_id) ?? null);
  const byPosition = reference.position === null ? null : (listed[reference.position - 1] ?? null);
  if (reference.item_id !== null && !byId) return null;
  if (reference.position !== null && !byPosition) return null;
  if (byId && byPosition && byId.itemId !== byPosition.itemId) return null;
  return (byId ?? byPosition)?.itemId ?? null;
}

const CLARIFY_QUESTION =
  'Could you tell me a little more about what you are looking for: the kind of product, and a budget if you have one?';

/**
 * The proposal as an Understanding, taken at its word (grounding decides whether to believe it).
 * A reference to an item that is not listed becomes a question, never a guess.
 */
export function proposalToUnderstanding(p: IntentProposal, context: DialogueContext): Understanding {
  switch (p.kind) {
    case 'search':
      return { kind: 'search', intent: proposalIntent(p), refinement: false, confidence: 0.75 };
    case 'clarify':
      return { kind: 'clarify', reason: 'vague', question: CLARIFY_QUESTION };
    case 'add_to_cart': {
      const itemId = resolveItemReference(p.item_reference, context.suggestions);
      return itemId
        ? { kind: 'add_to_cart', itemId, quantity: p.quantity }
        : { kind: 'clarify', reason: 'unclear_reference', question: 'Which of the suggestions would you like?' };
    }
    case 'remove_from_cart': {
      const itemId = resolveItemReference(p.item_reference, context.cart);
      return itemId
        ? { kind: 'remove_from_cart', itemId }
        : { kind: 'clarify', reason: 'unclear_reference', question: 'Which item in your cart do you mean?' };
    }
    default:
      return { kind: p.kind };
  }
}
