import { EntityManager } from 'typeorm';
import { IntentBounds, IntentMandateCreated, ItemAdded, PayloadOf, ProductCatalogued } from '@assent/contracts';
import { quoteIdent } from '@assent/eventstore';
import { LiveCart, LiveIntentMandate, LivePrice } from '../domain/mandate-verification';

/** What payment checks a mandate against, kept from other services' events, and the spent mandates. */
export class MandateChecks {
  private readonly s: string;

  constructor(schema: string) {
    this.s = quoteIdent(schema);
  }

  async applyProduct(manager: EntityManager, product: PayloadOf<typeof ProductCatalogued>): Promise<void> {
    await manager.query(
      `INSERT INTO ${this.s}.price_list (item_id, name, options, price_cents, available)
       SELECT v->>'itemId', $1, v->'options', (v->>'price')::int, (v->>'available')::boolean
       FROM jsonb_array_elements($2::jsonb) AS v
       ON CONFLICT (item_id) DO UPDATE SET name = EXCLUDED.name, options = EXCLUDED.options,
         price_cents = EXCLUDED.price_cents, available = EXCLUDED.available`,
      [product.name, JSON.stringify(product.variants)],
    );
  }

  async applyIntentMandate(manager: EntityManager, m: PayloadOf<typeof IntentMandateCreated>): Promise<void> {
    await manager.query(
      `INSERT INTO ${this.s}.intent_mandates (intent_mandate_id, shopper_id, bounds, expires_at)
       VALUES ($1, $2, $3::jsonb, $4) ON CONFLICT DO NOTHING`,
      [m.intentMandateId, m.shopperId, JSON.stringify(m.bounds), m.expiresAt],
    );
  }

  /** Applies one line-changing cart event: added, removed, or emptied by an order. */
  async applyCartChange(
    manager: EntityManager,
    cartId: string,
    shopperId: string,
    change: { added?: PayloadOf<typeof ItemAdded>; removedItemId?: string; emptied?: boolean },
  ): Promise<void> {
    const [row] = (await manager.query(
      `SELECT lines, line_changes FROM ${this.s}.live_carts WHERE cart_id = $1 FOR UPDATE`,
      [cartId],
    )) as Array<{ lines: Record<string, { quantity: number }>; line_changes: number }>;
    const lines = { ...(row?.lines ?? {}) };
    if (change.added) {
      lines[change.added.itemId] = { quantity: (lines[change.added.itemId]?.quantity ?? 0) + change.added.quantity };
    }
    if (change.removedItemId) delete lines[change.removedItemId];
    const next = change.emptied ? {} : lines;
    await manager.query(
      `INSERT INTO ${this.s}.live_carts (cart_id, shopper_id, lines, line_changes) VALUES ($1, $2, $3::jsonb, $4)
       ON CONFLICT (cart_id) DO UPDATE SET lines = EXCLUDED.lines, line_changes = EXCLUDED.line_changes`,
      [cartId, shopperId, JSON.stringify(next), (row?.line_changes ?? 0) + 1],
    );
  }

  async liveCart(manager: EntityManager, cartId: string): Promise<LiveCart | null> {
    const [row] = (await manager.query(
      `SELECT shopper_id, lines, line_changes FROM ${this.s}.live_carts WHERE cart_id = $1`,
      [cartId],
    )) as Array<{ shopper_id: string; lines: Record<string, { quantity: number }>; line_changes: number }>;
    if (!row) return null;
    return {
      cartId,
      shopperId: row.shopper_id,
      lineChanges: row.line_changes,
      lines: Object.entries(row.lines).map(([itemId, l]) => ({ itemId, quantity: l.quantity })),
    };
  }

  async prices(manager: EntityManager, itemIds: string[]): Promise<Map<string, LivePrice>> {
    const rows = (await manager.query(`SELECT * FROM ${this.s}.price_list WHERE item_id = ANY($1::text[])`, [
      itemIds,
    ])) as Array<{
      item_id: string;
      name: string;
      options: Record<string, string>;
      price_cents: number;
      available: boolean;
    }>;
    return new Map(
      rows.map((r) => [
        r.item_id,
        { itemId: r.item_id, name: r.name, options: r.options, price: r.price_cents, available: r.available },
      ]),
    );
  }

  async intentMandates(manager: EntityManager, ids: string[]): Promise<LiveIntentMandate[]> {
    const rows = (await manager.query(
      `SELECT * FROM ${this.s}.intent_mandates WHERE intent_mandate_id = ANY($1::text[])`,
      [ids],
    )) as Array<{ intent_mandate_id: string; shopper_id: string; bounds: IntentBounds; expires_at: Date | string }>;
    return rows.map((r) => ({
      intentMandateId: r.intent_mandate_id,
      shopperId: r.shopper_id,
      bounds: r.bounds,
      expiresAt: new Date(r.expires_at).toISOString(),
    }));
  }

  /** Spends a mandate; false when it was spent before (a replay). */
  async spend(manager: EntityManager, mandateId: string, paymentId: string): Promise<boolean> {
    const rows = (await manager.query(
      `INSERT INTO ${this.s}.spent_mandates (mandate_id, payment_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING mandate_id`,
      [mandateId, paymentId],
    )) as unknown[];
    return rows.length === 1;
  }
}
