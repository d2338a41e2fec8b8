import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { Pool, type QueryResultRow } from 'pg';
import { TEST_DATA_CATEGORY } from '../../functions/catalog/core/model';
import { PgProductRepository } from '../../functions/catalog/adapters/pg-repository';
import type { Database, Queryable } from '../../functions/shared/db';
import { RedisProductCache } from '../../functions/catalog/adapters/redis-cache';
import { CatalogService } from '../../functions/catalog/core/catalog-service';
import { toEtag } from '../../functions/catalog/core/etag';
import { catalogProblem } from '../../functions/catalog/adapters/problems';
import type { HttpProblem } from '../../functions/shared/problem';
import { endpoints } from '../support/endpoints';

/**
 * The catalog's core and adapters against the real Postgres and Redis of `npm run up`.
 * Every test works on its own products (random ids), removed afterwards.
 */
// testTimeout in a jest project entry is not applied; set it here.
jest.setTimeout(120_000);
/** The problem the catalog handler answers for the core's refusal (the wire contract). */
const refusal = async (p: Promise<unknown>): Promise<HttpProblem> => {
  const problem = await p.then(() => undefined, catalogProblem);
  if (!problem) throw new Error('expected a CatalogError');
  return problem;
};
let pool: Pool;
let redis: Redis;
let deadRedis: Redis;
let queries = 0;
const created: string[] = [];
const orders: string[] = [];
const prefix = `catalog:test:${randomUUID()}:`;

/** Postgres as the repository sees it, wrapped so tests can count the SQL it issues. */
const counted = (q: Queryable): Queryable => ({
  query: <R extends QueryResultRow>(text: string, params?: unknown[]) => {
    queries++;
    return q.query<R>(text, params);
  },
});
const db: Database = {
  // `pool` is made in beforeAll: looked up per call.
  query: <R extends QueryResultRow>(text: string, params?: unknown[]) => counted(pool).query<R>(text, params),
  connect: async () => {
    const client = await pool.connect();
    return { ...counted(client), release: (err?: Error | boolean) => client.release(err) };
  },
};

const repo = () => new PgProductRepository(db);
const service = (r: Redis = redis, waitMs?: number) => new CatalogService(repo(), new RedisProductCache(() => r, { prefix, waitMs }));

async function newProduct(stock = 100): Promise<string> {
  const id = randomUUID();
  await pool.query(`INSERT INTO products (id, sku, name, category, price_cents, stock) VALUES ($1, $2, $3, '${TEST_DATA_CATEGORY}', 1000, $4)`, [
    id,
    `it-${id}`,
    `Integration ${id.slice(0, 8)}`,
    stock,
  ]);
  created.push(id);
  return id;
}

const stockOf = async (id: string) => (await pool.query<{ stock: number; reserved: number }>('SELECT stock, reserved FROM products WHERE id = $1', [id])).rows[0];

beforeAll(async () => {
  const e = endpoints();
  pool = new Pool({ connectionString: e.postgresUrl, max: 20, options: '-c search_path=catalog' });
  redis = new Redis(e.redisUrl, { maxRetriesPerRequest: 1 });
  // Nothing listens on port 1: every command fails at once, as when Redis is down.
  deadRedis = new Redis('redis://127.0.0.1:1', { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 200, retryStrategy: () => 1000 });
  deadRedis.on('error', () => undefined);
});

afterAll(async () => {
  if (orders.length) await pool.query('DELETE FROM reservations WHERE order_id = ANY($1::uuid[])', [orders]);
  if (created.length) await pool.query('DELETE FROM products WHERE id = ANY($1::uuid[])', [created]);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  await pool.end();
  await redis.quit();
  deadRedis.disconnect();
});

describe('optimistic concurrency', () => {
  it('50 concurrent writers holding one ETag: exactly one wins, 20 times over, no lost update', async () => {
    const id = await newProduct(1000);
    const svc = service();
    for (let round = 0; round < 20; round++) {
      const before = await repo().get(id);
      const etag = toEtag(before!.version);
      const results = await Promise.allSettled(Array.from({ length: 50 }, () => svc.addStock(id, etag, 3)));
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
      expect(won).toHaveLength(1);
      expect(lost.map((r) => catalogProblem(r.reason)!.status)).toEqual(Array(49).fill(412));
      expect((await stockOf(id)).stock).toBe(before!.stock + 3);
    }
    expect((await stockOf(id)).stock).toBe(1000 + 20 * 3);
  });

  it('a stale ETag gets 412 with the current ETag; stock never goes negative', async () => {
    const id = await newProduct(2);
    const svc = service();
    const p = await svc.get(id);
    const next = await svc.update(id, toEtag(p.version), { name: 'Renamed', priceCents: 1234 });
    expect(next).toMatchObject({ name: 'Renamed', priceCents: 1234 });
    expect(next.version).not.toBe(p.version);
    const stale = await refusal(svc.addStock(id, toEtag(p.version), 1));
    expect(stale.status).toBe(412);
    expect(stale.headers.etag).toBe(toEtag(next.version));
    const below = await refusal(svc.addStock(id, toEtag(next.version), -3));
    expect(below.status).toBe(409);
    expect((await stockOf(id)).stock).toBe(2);
    await expect(pool.query('UPDATE products SET stock = -1 WHERE id = $1', [id])).rejects.toMatchObject({ code: '23514' });
  });
});

describe('Redis L2 cache', () => {
  it('a hit issues zero SQL queries', async () => {
    const id = await newProduct();
    const svc = service();
    await svc.get(id); // miss: loads and fills
    queries = 0;
    const hit = await svc.get(id);
    expect(hit.id).toBe(id);
    expect(queries).toBe(0);
  });

  it('write then read never returns the old value', async () => {
    const id = await newProduct();
    const writer = service();
    const reader = service(); // another "process" with its own cache client state
    let stop = false;
    // Background readers keep refilling the entry while the writes happen.
    const noise = (async () => {
      while (!stop) await reader.get(id);
    })();
    for (let i = 0; i < 20; i++) {
      const current = await reader.get(id);
      const written = await writer.addStock(id, toEtag(current.version), 1);
      const read = await reader.get(id);
      expect(read.version).toBe(written.version);
      expect(read.stock).toBe(written.stock);
    }
    stop = true;
    await noise;
  });

  it('a cold key under a stampede is loaded a handful of times, not once per reader', async () => {
    const id = await newProduct();
    // A generous wait so a slow CI machine does not turn lock losers into loaders.
    const processes = [service(redis, 3000), service(redis, 3000), service(redis, 3000)];
    queries = 0;
    const reads = await Promise.all(Array.from({ length: 60 }, (_, i) => processes[i % 3].get(id)));
    expect(reads.every((p) => p.id === id)).toBe(true);
    expect(queries).toBeLessThanOrEqual(3);
  });

  it('Redis down: reads and writes still succeed from Postgres', async () => {
    const id = await newProduct(5);
    const svc = service(deadRedis);
    const p = await svc.get(id);
    expect(p.stock).toBe(5);
    const w = await svc.addStock(id, toEtag(p.version), 2);
    expect(w.stock).toBe(7);
    expect((await svc.get(id)).stock).toBe(7);
  });
});

describe('reservations', () => {
  it('reserve is idempotent per order; release is idempotent', async () => {
    const a = await newProduct(10);
    const b = await newProduct(10);
    const svc = service();
    const orderId = randomUUID();
    orders.push(orderId);
    const req = {
      orderId,
      items: [
        { productId: a, quantity: 3 },
        { productId: b, quantity: 1 },
      ],
    };
    const [first, second] = await Promise.all([svc.reserve(req), svc.reserve(req)]);
    expect([first.replayed, second.replayed].sort()).toEqual([false, true]);
    expect(await stockOf(a)).toEqual({ stock: 7, reserved: 3 });
    expect(await stockOf(b)).toEqual({ stock: 9, reserved: 1 });
    // Same order, other items: a conflict, nothing moves.
    await expect(svc.reserve({ orderId, items: [{ productId: a, quantity: 1 }] })).rejects.toMatchObject({ code: 'reservationConflict' });

    const r1 = await svc.release(orderId);
    const r2 = await svc.release(orderId);
    expect([r1.changed, r2.changed]).toEqual([true, false]);
    expect(await stockOf(a)).toEqual({ stock: 10, reserved: 0 });
    expect(await stockOf(b)).toEqual({ stock: 10, reserved: 0 });
    // The cache saw the release.
    expect((await svc.get(a)).stock).toBe(10);
  });

  it('insufficient stock answers 409 insufficient-stock and reserves nothing', async () => {
    const a = await newProduct(10);
    const b = await newProduct(1);
    const svc = service();
    const orderId = randomUUID();
    orders.push(orderId);
    const err = await refusal(
      svc.reserve({
        orderId,
        items: [
          { productId: a, quantity: 2 },
          { productId: b, quantity: 5 },
        ],
      }),
    );
    expect(err.status).toBe(409);
    expect(err.type).toMatch(/insufficient-stock$/);
    expect(err.extensions).toMatchObject({ productId: b, requested: 5, available: 1 });
    expect(await stockOf(a)).toEqual({ stock: 10, reserved: 0 });
    expect(await stockOf(b)).toEqual({ stock: 1, reserved: 0 });
    // The failed attempt left no record: the saga may retry the same order later.
    await expect(svc.reserve({ orderId, items: [{ productId: b, quantity: 1 }] })).resolves.toMatchObject({ replayed: false });
    await svc.release(orderId);
  });

  it('a release that arrives before its reserve blocks the late reserve', async () => {
    const a = await newProduct(4);
    const svc = service();
    const orderId = randomUUID();
    orders.push(orderId);
    expect((await svc.release(orderId)).changed).toBe(false);
    await expect(svc.reserve({ orderId, items: [{ productId: a, quantity: 1 }] })).rejects.toMatchObject({ code: 'reservationConflict' });
    expect(await stockOf(a)).toEqual({ stock: 4, reserved: 0 });
  });

  it('concurrent orders never oversell', async () => {
    const a = await newProduct(5);
    const svc = service();
    const ids = Array.from({ length: 12 }, () => randomUUID());
    orders.push(...ids);
    const results = await Promise.allSettled(ids.map((orderId) => svc.reserve({ orderId, items: [{ productId: a, quantity: 1 }] })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    expect(await stockOf(a)).toEqual({ stock: 0, reserved: 5 });
    await Promise.all(ids.map((id) => svc.release(id)));
    expect(await stockOf(a)).toEqual({ stock: 5, reserved: 0 });
  });
});
