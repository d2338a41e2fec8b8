import { type Database, type Queryable, withTransaction } from '../../shared/db';
import type { ListQuery, Product, ProductPatch, Reservation, ReservationItem, ReserveRequest } from '../core/model';
import { UNLISTED_CATEGORIES, canonicalItems, sameItems } from '../core/model';
import type { GuardedWrite, ProductRepository, ReleaseOutcome, ReserveOutcome } from '../core/ports';

interface ProductRow {
  id: string;
  sku: string;
  name: string;
  category: string;
  price_cents: number;
  stock: number;
  reserved: number;
  created_at: Date;
  updated_at: Date;
  version: string;
}

const COLUMNS = 'id, sku, name, category, price_cents, stock, reserved, created_at, updated_at, xmin::text AS version';

const toProduct = (r: ProductRow): Product => ({
  id: r.id,
  sku: r.sku,
  name: r.name,
  category: r.category,
  priceCents: r.price_cents,
  stock: r.stock,
  reserved: r.reserved,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
  version: r.version,
});

const CHECK_VIOLATION = '23514';
const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

export class PgProductRepository implements ProductRepository {
  constructor(private readonly db: Database) {}

  async list(q: ListQuery): Promise<{ items: Product[]; total: number }> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.q) {
      params.push(`%${escapeLike(q.q.toLowerCase())}%`);
      where.push(`(lower(name) LIKE $${params.length} OR lower(sku) LIKE $${params.length})`);
    }
    if (q.category) {
      params.push(q.category);
      where.push(`category = $${params.length}`);
    } else {
      // The race demo's product and test data are listed only when their category is asked for by name.
      params.push(UNLISTED_CATEGORIES);
      where.push(`category <> ALL($${params.length}::text[])`);
    }
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    params.push(q.limit, q.offset);
    const { rows } = await this.db.query<ProductRow & { total: string }>(
      `SELECT ${COLUMNS}, count(*) OVER () AS total FROM products ${clause}
       ORDER BY name, id LIMIT $${params.length - 1} OFFSET $${params.length}`,
      params,
    );
    let total = rows.length ? Number(rows[0].total) : 0;
    if (!rows.length && q.offset > 0) {
      const c = await this.db.query<{ n: string }>(`SELECT count(*) AS n FROM products ${clause}`, params.slice(0, -2));
      total = Number(c.rows[0].n);
    }
    return { items: rows.map(toProduct), total };
  }

  async get(id: string): Promise<Product | null> {
    const { rows } = await this.db.query<ProductRow>(`SELECT ${COLUMNS} FROM products WHERE id = $1`, [id]);
    return rows[0] ? toProduct(rows[0]) : null;
  }

  async addStock(id: string, ifMatch: string[], delta: number): Promise<GuardedWrite> {
    // One statement: the row lock serialises concurrent writers, and each waiter re-checks xmin
    // against the committed row, so of N writers holding one ETag exactly one matches.
    return this.guarded(
      `UPDATE products SET stock = stock + $3, updated_at = now()
       WHERE id = $1 AND xmin::text = ANY($2::text[]) AND stock + $3 >= 0
       RETURNING ${COLUMNS}`,
      [id, ifMatch, delta],
      id,
      ifMatch,
    );
  }

  async updateFields(id: string, ifMatch: string[], patch: ProductPatch): Promise<GuardedWrite> {
    return this.guarded(
      `UPDATE products SET name = COALESCE($3, name), price_cents = COALESCE($4, price_cents), updated_at = now()
       WHERE id = $1 AND xmin::text = ANY($2::text[])
       RETURNING ${COLUMNS}`,
      [id, ifMatch, patch.name ?? null, patch.priceCents ?? null],
      id,
      ifMatch,
    );
  }

  private async guarded(sql: string, params: unknown[], id: string, ifMatch: string[]): Promise<GuardedWrite> {
    let rows: ProductRow[];
    try {
      ({ rows } = await this.db.query<ProductRow>(sql, params));
    } catch (err) {
      if ((err as { code?: string }).code !== CHECK_VIOLATION) throw err;
      rows = [];
    }
    if (rows[0]) return { kind: 'ok', product: toProduct(rows[0]) };
    // Nothing matched: say why, from the row as it is now.
    const current = await this.get(id);
    if (!current) return { kind: 'notFound' };
    if (!ifMatch.includes(current.version)) return { kind: 'stale', current };
    return { kind: 'insufficient', current };
  }

  async reserve(req: ReserveRequest): Promise<ReserveOutcome> {
    const items = canonicalItems(req.items);
    return withTransaction(this.db, async (tx): Promise<ReserveOutcome> => {
      const inserted = await tx.query(`INSERT INTO reservations (order_id, status) VALUES ($1, 'reserved') ON CONFLICT (order_id) DO NOTHING RETURNING order_id`, [
        req.orderId,
      ]);
      if (!inserted.rowCount) {
        // A concurrent first call blocked us on the key until it committed; now we see its result.
        const existing = await loadReservation(tx, req.orderId);
        if (existing.status === 'reserved' && sameItems(existing.items, items)) return { kind: 'replayed', reservation: existing };
        return { kind: 'conflict', existing };
      }
      for (const item of items) {
        const updated = await tx.query(
          `UPDATE products SET stock = stock - $2, reserved = reserved + $2, updated_at = now()
           WHERE id = $1 AND stock >= $2 RETURNING id`,
          [item.productId, item.quantity],
        );
        if (!updated.rowCount) {
          const { rows } = await tx.query<{ stock: number }>('SELECT stock FROM products WHERE id = $1', [item.productId]);
          // Throwing rolls back the whole reservation (the header row included).
          throw new Abort(
            rows[0]
              ? { kind: 'insufficient', productId: item.productId, requested: item.quantity, available: rows[0].stock }
              : { kind: 'notFound', productId: item.productId },
          );
        }
        await tx.query('INSERT INTO reservation_items (order_id, product_id, quantity) VALUES ($1, $2, $3)', [req.orderId, item.productId, item.quantity]);
      }
      return { kind: 'reserved', reservation: { orderId: req.orderId, status: 'reserved', items } };
    }).catch((err: unknown): ReserveOutcome => {
      if (err instanceof Abort) return err.outcome;
      throw err;
    });
  }

  async release(orderId: string): Promise<ReleaseOutcome> {
    return withTransaction(this.db, async (tx) => {
      // A release before any reserve leaves a tombstone, so a late reserve cannot take stock.
      await tx.query(`INSERT INTO reservations (order_id, status, released_at) VALUES ($1, 'released', now()) ON CONFLICT (order_id) DO NOTHING`, [orderId]);
      const { rows } = await tx.query<{ status: 'reserved' | 'released' }>('SELECT status FROM reservations WHERE order_id = $1 FOR UPDATE', [orderId]);
      const reservation = await loadReservation(tx, orderId);
      if (rows[0].status === 'released') return { reservation, changed: false };
      for (const item of reservation.items) {
        await tx.query(`UPDATE products SET stock = stock + $2, reserved = reserved - $2, updated_at = now() WHERE id = $1`, [item.productId, item.quantity]);
      }
      await tx.query(`UPDATE reservations SET status = 'released', released_at = now() WHERE order_id = $1`, [orderId]);
      return { reservation: { ...reservation, status: 'released' }, changed: true };
    });
  }
}

class Abort extends Error {
  constructor(readonly outcome: ReserveOutcome) {
    super('reservation aborted');
  }
}

async function loadReservation(tx: Queryable, orderId: string): Promise<Reservation> {
  const head = await tx.query<{ status: 'reserved' | 'released' }>('SELECT status FROM reservations WHERE order_id = $1', [orderId]);
  const { rows } = await tx.query<{ product_id: string; quantity: number }>(
    'SELECT product_id, quantity FROM reservation_items WHERE order_id = $1 ORDER BY product_id',
    [orderId],
  );
  const items: ReservationItem[] = rows.map((r) => ({ productId: r.product_id, quantity: r.quantity }));
  return { orderId, status: head.rows[0].status, items };
}
