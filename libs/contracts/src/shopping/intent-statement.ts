import { ShoppingIntent } from './common';
import { formatUsd } from './money';

/** The part of a shopper's request that bounds what may be bought for it (the intent mandate). */
export type IntentBounds = Pick<
  ShoppingIntent,
  'productTypes' | 'excludedProductTypes' | 'requiredOptions' | 'excludedOptions' | 'maxPrice'
>;

const norm = (s: string) => s.trim().toLowerCase();
const list = (values: string[]) =>
  values.length <= 1 ? (values[0] ?? '') : `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;

/** What the shopper asked for, in plain words, as the intent mandate is shown back to them. */
export function describeIntent(bounds: IntentBounds): string {
  const parts: string[] = [];
  parts.push(bounds.productTypes.length ? `a ${list(bounds.productTypes)}` : 'an item');
  for (const [option, values] of Object.entries(bounds.requiredOptions)) parts.push(`${option} ${list(values)}`);
  for (const [option, values] of Object.entries(bounds.excludedOptions)) parts.push(`no ${option} ${list(values)}`);
  if (bounds.excludedProductTypes.length) parts.push(`not a ${list(bounds.excludedProductTypes)}`);
  if (bounds.maxPrice !== null) parts.push(`at most ${formatUsd(bounds.maxPrice)} each`);
  return parts.join(', ');
}

/**
 * Why a cart line falls outside what the shopper asked for, or null when it is inside. Consent checks
 * it before asking for confirmation and payment again before charging, so neither a model's proposal
 * nor a price change can buy more than was asked for.
 */
export function lineOutsideIntent(
  line: { name: string; options: Record<string, string>; unitPrice: number },
  bounds: IntentBounds,
): string | null {
  if (bounds.productTypes.length && !bounds.productTypes.some((t) => norm(t) === norm(line.name))) {
    return `${line.name} is not the ${list(bounds.productTypes)} asked for`;
  }
  if (bounds.excludedProductTypes.some((t) => norm(t) === norm(line.name))) return `${line.name} was ruled out`;
  const options = new Map(Object.entries(line.options).map(([k, v]) => [norm(k), norm(v)]));
  for (const [option, values] of Object.entries(bounds.requiredOptions)) {
    const value = options.get(norm(option));
    if (value === undefined || !values.some((v) => norm(v) === value)) {
      return `${line.name} has ${option} ${value ?? 'unknown'}, not ${list(values)}`;
    }
  }
  for (const [option, values] of Object.entries(bounds.excludedOptions)) {
    const value = options.get(norm(option));
    if (value !== undefined && values.some((v) => norm(v) === value))
      return `${line.name} has ${option} ${value}, ruled out`;
  }
  if (bounds.maxPrice !== null && line.unitPrice > bounds.maxPrice) {
    return `${line.name} costs ${formatUsd(line.unitPrice)}, above the ${formatUsd(bounds.maxPrice)} asked for`;
  }
  return null;
}
