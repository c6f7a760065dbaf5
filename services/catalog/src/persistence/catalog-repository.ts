import { EntityManager } from 'typeorm';
import { ShoppingIntent } from '@assent/contracts';
import { quoteIdent } from '@assent/eventstore';
import { loadProducts, TauProduct, toCents } from '@assent/taubench';
import { CandidateItem } from '../domain/ranking';

/** One sellable variant, prices in minor units. */
export interface CatalogItem {
  itemId: string;
  productId: string;
  name: string;
  options: Record<string, string>;
  price: number;
  available: boolean;
}

/** A product as `catalog.ProductCatalogued` carries it. */
export interface SeededProduct {
  productId: string;
  name: string;
  variants: Array<{ itemId: string; options: Record<string, string>; price: number; available: boolean }>;
}

export interface ProductPage {
  total: number;
  products: SeededProduct[];
}

export interface ListProductsQuery {
  query?: string;
  limit: number;
  offset: number;
}

interface ItemRow {
  item_id: string;
  product_id: string;
  name: string;
  options: Record<string, string>;
  price_cents: number;
  available: boolean;
}

/**
 * Lowest pg_trgm strict word similarity at which a word counts as naming a product. Strict, because
 * plain word similarity lets a word match the start of a longer one ("the" scores 0.75 against
 * "thermostat"). Measured on the τ-bench names: typos score 0.40-0.63 ("kettel" 0.40, "laptp" 0.44,
 * "earbds" 0.50, "headphnes" 0.62, "cofee" 0.63) while everyday words score nothing ("want", "good",
 * "deal", "sofa", "buy"). Fixed here rather than read from the server's GUC, so both engines agree.
 */
const NAME_SIMILARITY = 0.4;
/** A keyword search keeps products whose relevance is at least this share of the best one's. */
const RELATIVE_CUTOFF = 0.6;
/** A keyword search never returns more products than this. */
const MAX_KEYWORD_PRODUCTS = 10;

/** The words of free text, safe to splice into to_tsquery (letters and digits only). */
export function searchWords(texts: string[]): string[] {
  const words = texts.flatMap((t) => t.toLowerCase().split(/[^\p{L}\p{N}]+/u)).filter((w) => w.length > 0);
  return [...new Set(words)];
}

function toItem(row: ItemRow): CatalogItem {
  return {
    itemId: row.item_id,
    productId: row.product_id,
    name: row.name,
    options: row.options,
    price: Number(row.price_cents),
    available: row.available,
  };
}

/**
 * The catalog's products and items. Every method takes the caller's EntityManager, so seeding can
 * share a transaction with the events that announce it.
 */
export class CatalogRepository {
  private readonly s: string;

  constructor(readonly schema: string) {
    this.s = quoteIdent(schema);
  }

  /**
   * Inserts the whole catalog when the tables are empty, in the caller's transaction, and returns
   * what it inserted (one `catalog.ProductCatalogued` per product); null when already seeded.
   */
  async seedIfEmpty(
    manager: EntityManager,
    products: Record<string, TauProduct> = loadProducts(),
  ): Promise<SeededProduct[] | null> {
    if (!manager.queryRunner?.isTransactionActive) throw new Error('CatalogRepository.seedIfEmpty needs a transaction');
    // Two instances starting together: the second waits here, then sees the first one's rows.
    await manager.query(`LOCK TABLE ${this.s}.products IN SHARE ROW EXCLUSIVE MODE`);
    const existing = (await manager.query(`SELECT 1 FROM ${this.s}.products LIMIT 1`)) as unknown[];
    if (existing.length > 0) return null;

    const seeded: SeededProduct[] = Object.values(products).map((p) => ({
      productId: p.product_id,
      name: p.name,
      variants: Object.values(p.variants).map((v) => ({
        itemId: v.item_id,
        options: v.options,
        price: toCents(v.price),
        available: v.available,
      })),
    }));
    if (seeded.length === 0) return [];

    const productRows = seeded.map((p) => ({
      product_id: p.productId,
      name: p.name,
      option_text: [...new Set(p.variants.flatMap((v) => Object.values(v.options)))].join(' '),
    }));
    const itemRows = seeded.flatMap((p) =>
      p.variants.map((v) => ({
        item_id: v.itemId,
        product_id: p.productId,
        name: p.name,
        options: v.options,
        price_cents: v.price,
        available: v.available,
      })),
    );
    // One statement per table: the JSON array is unpacked by the database, not row by row over the wire.
    await manager.query(
      `INSERT INTO ${this.s}.products (product_id, name, option_text)
       SELECT product_id, name, option_text
       FROM jsonb_to_recordset($1::jsonb) AS x(product_id text, name text, option_text text)`,
      [JSON.stringify(productRows)],
    );
    await manager.query(
      `INSERT INTO ${this.s}.items (item_id, product_id, name, options, price_cents, available)
       SELECT item_id, product_id, name, options, price_cents, available
       FROM jsonb_to_recordset($1::jsonb)
         AS x(item_id text, product_id text, name text, options jsonb, price_cents integer, available boolean)`,
      [JSON.stringify(itemRows)],
    );
    return seeded;
  }

  /**
   * Every variant of the products a search could mean, hard constraints NOT applied: the ranker
   * filters, and needs the near misses to name relaxations. Products named in `productTypes` match
   * by name exactly (relevance 1); without product types, the keywords must match a product's name by
   * full text or trigram similarity (typos), and a word matching only some option value is not enough:
   * "black" alone names no product. A request for something not sold returns [].
   */
  async findCandidates(manager: EntityManager, intent: ShoppingIntent): Promise<CandidateItem[]> {
    if (intent.productTypes.length > 0) {
      const rows = (await manager.query(
        `SELECT i.item_id, i.product_id, i.name, i.options, i.price_cents, i.available
         FROM ${this.s}.products p JOIN ${this.s}.items i ON i.product_id = p.product_id
         WHERE lower(p.name) = ANY($1::text[])
         ORDER BY p.name, i.price_cents, i.item_id`,
        [intent.productTypes.map((t) => t.trim().toLowerCase())],
      )) as ItemRow[];
      return rows.map((r) => ({ ...toItem(r), relevance: 1 }));
    }

    const ranked = await this.matchProducts(manager, intent.keywords, MAX_KEYWORD_PRODUCTS, false, true);
    if (ranked.length === 0) return [];
    const best = ranked[0].relevance;
    const kept = ranked.filter((p) => p.relevance >= best * RELATIVE_CUTOFF);
    const relevance = new Map(kept.map((p) => [p.productId, p.relevance]));
    const rows = (await manager.query(
      `SELECT item_id, product_id, name, options, price_cents, available
       FROM ${this.s}.items WHERE product_id = ANY($1::text[])
       ORDER BY price_cents, item_id`,
      [kept.map((p) => p.productId)],
    )) as ItemRow[];
    return rows
      .map((r) => ({ ...toItem(r), relevance: relevance.get(r.product_id) ?? 0 }))
      .sort((a, b) => b.relevance - a.relevance || a.productId.localeCompare(b.productId) || a.price - b.price);
  }

  /** The items with these ids, in the order asked, unknown ids left out. */
  async getItems(manager: EntityManager, itemIds: string[]): Promise<CatalogItem[]> {
    const ids = [...new Set(itemIds)];
    if (ids.length === 0) return [];
    const rows = (await manager.query(
      `SELECT item_id, product_id, name, options, price_cents, available
       FROM ${this.s}.items WHERE item_id = ANY($1::text[])`,
      [ids],
    )) as ItemRow[];
    const byId = new Map(rows.map((r) => [r.item_id, toItem(r)]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  /**
   * Changes an item's price or availability (an operator's correction, a supplier's feed) and returns
   * its whole product as `catalog.ProductCatalogued` announces it; null for an unknown item.
   */
  async updateItem(
    manager: EntityManager,
    itemId: string,
    change: { price?: number; available?: boolean },
  ): Promise<SeededProduct | null> {
    const [updated] = (await manager.query(
      // In a CTE: TypeORM answers a bare UPDATE ... RETURNING with [rows, count] rather than rows.
      `WITH changed AS (
         UPDATE ${this.s}.items SET price_cents = coalesce($2::int, price_cents), available = coalesce($3::boolean, available)
         WHERE item_id = $1 RETURNING product_id
       ) SELECT * FROM changed`,
      [itemId, change.price ?? null, change.available ?? null],
    )) as Array<{ product_id: string }>;
    if (!updated) return null;
    const rows = (await manager.query(
      `SELECT item_id, product_id, name, options, price_cents, available FROM ${this.s}.items
       WHERE product_id = $1 ORDER BY item_id`,
      [updated.product_id],
    )) as ItemRow[];
    const items = rows.map(toItem);
    return {
      productId: updated.product_id,
      name: items[0].name,
      variants: items.map((i) => ({ itemId: i.itemId, options: i.options, price: i.price, available: i.available })),
    };
  }

  /**
   * A page of products with their variants: by name, or by relevance to `query`, which matches a
   * product's name (typos too) or, when every word is found there, its name and option values.
   */
  async listProducts(manager: EntityManager, { query, limit, offset }: ListProductsQuery): Promise<ProductPage> {
    const pageSize = Math.max(0, Math.min(Math.trunc(limit), 200));
    const skip = Math.max(0, Math.trunc(offset));
    let page: Array<{ productId: string; name: string }>;
    let total: number;
    if (query !== undefined && query.trim().length > 0) {
      // Browsing may also find a product by its option values ("french press"); every word must match.
      const matched = await this.matchProducts(manager, [query], Number.MAX_SAFE_INTEGER, true);
      total = matched.length;
      page = matched.slice(skip, skip + pageSize);
    } else {
      const rows = (await manager.query(
        `SELECT product_id, name, count(*) OVER ()::int AS total
         FROM ${this.s}.products ORDER BY name, product_id LIMIT $1 OFFSET $2`,
        [pageSize, skip],
      )) as Array<{ product_id: string; name: string; total: number }>;
      page = rows.map((r) => ({ productId: r.product_id, name: r.name }));
      if (rows.length > 0) total = Number(rows[0].total);
      else {
        const [{ count }] = (await manager.query(`SELECT count(*)::int AS count FROM ${this.s}.products`)) as Array<{
          count: number;
        }>;
        total = Number(count);
      }
    }
    if (page.length === 0) return { total, products: [] };
    const items = (await manager.query(
      `SELECT item_id, product_id, name, options, price_cents, available
       FROM ${this.s}.items WHERE product_id = ANY($1::text[])
       ORDER BY price_cents, item_id`,
      [page.map((p) => p.productId)],
    )) as ItemRow[];
    const variants = new Map<string, SeededProduct['variants']>(page.map((p) => [p.productId, []]));
    for (const row of items) {
      const item = toItem(row);
      variants
        .get(row.product_id)
        ?.push({ itemId: item.itemId, options: item.options, price: item.price, available: item.available });
    }
    return {
      total,
      products: page.map((p) => ({ productId: p.productId, name: p.name, variants: variants.get(p.productId) ?? [] })),
    };
  }

  /**
   * Products whose name matches the words, best first. Relevance = for each word, its strict trigram word
   * similarity to the name when it reaches NAME_SIMILARITY (so "cofee maker" scores two words), plus
   * the full-text rank over name and option values (so "glass kettle" prefers a kettle sold in glass).
   */
  private async matchProducts(
    manager: EntityManager,
    texts: string[],
    maxProducts: number,
    allWordsInOptions = false,
    /**
     * Every word must name the product (by full text, or by a typo of a name word): "drone camera" is
     * not a security camera, and "table" is not a misspelt "tablet" (a word that is the start of a
     * longer name word is a different word, not a typo). Guessing otherwise is a silent substitution.
     */
    everyWordNamesIt = false,
  ): Promise<Array<{ productId: string; name: string; relevance: number }>> {
    const words = searchWords(texts);
    if (words.length === 0) return [];
    // Stop words ("a", "the") fall out of to_tsquery; trigram matching of very short words is noise.
    const trigramWords = words.filter((w) => w.length >= 3);
    const rows = (await manager.query(
      `WITH scored AS (
         SELECT p.product_id, p.name,
           coalesce((
             SELECT sum(sim) FROM (
               SELECT public.strict_word_similarity(w, lower(p.name)) AS sim FROM unnest($3::text[]) AS w
             ) s WHERE sim >= $4
           ), 0) AS name_similarity,
           p.search_vector @@ to_tsquery('english', $1)
             OR ($6::boolean AND p.search_vector @@ to_tsquery('english', $7)) AS name_match,
           ts_rank(p.search_vector, to_tsquery('english', $2)) AS text_rank,
           (SELECT count(*) FROM unnest($9::text[]) AS w WHERE numnode(plainto_tsquery('english', w)) > 0) AS wanted,
           (SELECT count(*) FROM unnest($9::text[]) AS w
             WHERE numnode(plainto_tsquery('english', w)) > 0
               AND (p.search_vector @@ to_tsquery('english', w || ':A')
                 OR (length(w) >= 5 AND public.strict_word_similarity(w, lower(p.name)) >= $4
                     AND lower(p.name) !~ ('\\m' || w || '\\w')))) AS named
         FROM ${this.s}.products p
       )
       SELECT product_id, name, (name_similarity + text_rank)::float8 AS relevance
       FROM scored
       WHERE (name_match OR name_similarity > 0) AND (NOT $8::boolean OR (wanted > 0 AND named = wanted))
       ORDER BY relevance DESC, name, product_id
       LIMIT $5`,
      [
        words.map((w) => `${w}:A`).join(' | '),
        words.join(' | '),
        trigramWords,
        NAME_SIMILARITY,
        Math.min(maxProducts, 10_000),
        allWordsInOptions,
        words.join(' & '),
        everyWordNamesIt,
        words,
      ],
    )) as Array<{ product_id: string; name: string; relevance: number }>;
    return rows.map((r) => ({ productId: r.product_id, name: r.name, relevance: Number(r.relevance) }));
  }
}
