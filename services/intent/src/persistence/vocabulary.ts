import { EntityManager } from 'typeorm';
import { PayloadOf, ProductCatalogued } from '@assent/contracts';
import { quoteIdent } from '@assent/eventstore';
import type { ProductVocabulary } from '../domain/intent-model';

/** The words the catalog sells things by: product names and every option value, from catalog events. */
export class VocabularyStore {
  private readonly s: string;
  private cache: { at: number; vocabulary: ProductVocabulary[] } | null = null;

  constructor(schema: string) {
    this.s = quoteIdent(schema);
  }

  async apply(manager: EntityManager, product: PayloadOf<typeof ProductCatalogued>): Promise<void> {
    const options: Record<string, string[]> = {};
    for (const variant of product.variants) {
      for (const [name, value] of Object.entries(variant.options)) {
        const values = (options[name] ??= []);
        if (!values.includes(value)) values.push(value);
      }
    }
    await manager.query(
      `INSERT INTO ${this.s}.vocabulary (product_id, name, options) VALUES ($1, $2, $3::jsonb)
       ON CONFLICT (product_id) DO UPDATE SET name = EXCLUDED.name, options = EXCLUDED.options`,
      [product.productId, product.name, JSON.stringify(options)],
    );
    if (this.cache) this.cache.at = 0;
  }

  /** Cached briefly: it changes only when the catalog announces products. */
  async load(manager: EntityManager): Promise<ProductVocabulary[]> {
    if (this.cache && Date.now() - this.cache.at < 5000) return this.cache.vocabulary;
    const rows = (await manager.query(
      `SELECT product_id, name, options FROM ${this.s}.vocabulary ORDER BY name`,
    )) as Array<{
      product_id: string;
      name: string;
      options: Record<string, string[]>;
    }>;
    const fresh = rows.map((r) => ({ productId: r.product_id, name: r.name, options: r.options }));
    // The rules model indexes a vocabulary per array: hand back the same array while nothing changed.
    const same = this.cache && JSON.stringify(this.cache.vocabulary) === JSON.stringify(fresh);
    const vocabulary = same ? this.cache!.vocabulary : fresh;
    if (vocabulary.length > 0) this.cache = { at: Date.now(), vocabulary };
    return vocabulary;
  }
}
