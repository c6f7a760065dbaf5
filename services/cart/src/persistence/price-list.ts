import { EntityManager } from 'typeorm';
import { ProductCatalogued, PayloadOf } from '@assent/contracts';
import { quoteIdent } from '@assent/eventstore';
import { CatalogItem } from '../domain/cart.aggregate';

interface PriceRow {
  item_id: string;
  product_id: string;
  name: string;
  options: Record<string, string>;
  price_cents: number;
  available: boolean;
}

/** The catalog's prices as the cart last heard them; checkout prices from here. */
export class PriceList {
  private readonly s: string;

  constructor(schema: string) {
    this.s = quoteIdent(schema);
  }

  async apply(manager: EntityManager, product: PayloadOf<typeof ProductCatalogued>): Promise<void> {
    if (product.variants.length === 0) return;
    await manager.query(
      `INSERT INTO ${this.s}.price_list (item_id, product_id, name, options, price_cents, available)
       SELECT v->>'itemId', $1, $2, v->'options', (v->>'price')::int, (v->>'available')::boolean
       FROM jsonb_array_elements($3::jsonb) AS v
       ON CONFLICT (item_id) DO UPDATE SET product_id = EXCLUDED.product_id, name = EXCLUDED.name,
         options = EXCLUDED.options, price_cents = EXCLUDED.price_cents, available = EXCLUDED.available,
         updated_at = now()`,
      [product.productId, product.name, JSON.stringify(product.variants)],
    );
  }

  async get(manager: EntityManager, itemIds: string[]): Promise<Map<string, CatalogItem>> {
    const rows = (await manager.query(`SELECT * FROM ${this.s}.price_list WHERE item_id = ANY($1::text[])`, [
      itemIds,
    ])) as PriceRow[];
    return new Map(
      rows.map((r) => [
        r.item_id,
        {
          itemId: r.item_id,
          productId: r.product_id,
          name: r.name,
          options: r.options,
          price: r.price_cents,
          available: r.available,
        },
      ]),
    );
  }
}
