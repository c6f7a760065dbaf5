import { CartSummary, PricedLine } from './common';

/** The merchant's pricing rules; integer minor units and basis points, so nothing rounds twice. */
export class PricingPolicy {
  constructor(
    /** Flat shipping below the free-shipping threshold. */
    readonly shippingFee: number,
    readonly freeShippingFrom: number,
    /** Sales tax in basis points of the subtotal (825 = 8.25%), rounded half up to the cent. */
    readonly taxBasisPoints: number,
  ) {}
}

export const DEFAULT_PRICING = new PricingPolicy(599, 5000, 0);

export function pricingFromEnvironment(env = process.env): PricingPolicy {
  const int = (name: string, fallback: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer`);
    return value;
  };
  return new PricingPolicy(
    int('ASSENT_SHIPPING_FEE_CENTS', DEFAULT_PRICING.shippingFee),
    int('ASSENT_FREE_SHIPPING_FROM_CENTS', DEFAULT_PRICING.freeShippingFrom),
    int('ASSENT_SALES_TAX_BASIS_POINTS', DEFAULT_PRICING.taxBasisPoints),
  );
}

export function priceCart(lines: Omit<PricedLine, 'lineTotal'>[], policy: PricingPolicy): CartSummary {
  const priced = lines.map((l) => ({ ...l, lineTotal: l.unitPrice * l.quantity }));
  const subtotal = priced.reduce((sum, l) => sum + l.lineTotal, 0);
  const shipping = subtotal >= policy.freeShippingFrom ? 0 : policy.shippingFee;
  const tax = Math.floor((subtotal * policy.taxBasisPoints + 5000) / 10000);
  return { lines: priced, subtotal, shipping, tax, total: subtotal + shipping + tax, currency: 'USD' };
}
