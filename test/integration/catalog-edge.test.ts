import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { Pool } from 'pg';
import { CatalogEdge } from '../../functions/bff/catalog-edge';
import type { Downstream } from '../../functions/bff/downstream';
import { PgProductRepository } from '../../functions/catalog/adapters/pg-repository';
import { RedisProductCache } from '../../functions/catalog/adapters/redis-cache';
import { CatalogService } from '../../functions/catalog/core/catalog-service';
import { toEtag } from '../../functions/catalog/core/etag';
import { TEST_DATA_CATEGORY, type Product } from '../../functions/catalog/core/model';
import { addRule, ChaosRules } from '../../functions/shared/chaos';
import type { HttpRequest } from '../../functions/shared/http';
import { endpoints } from '../support/endpoints';

/**
 * The BFF's door reads (bff/catalog-edge.ts) over the real Postgres and Redis, beside the
 * catalog's own service and cache: a hit is answered as the catalog would answer it, a read that
 * starts after a write's 2xx never sees the old row, and the door steps aside whenever the read
 * must reach the catalog (breaker, chaos rule, no-cache, Redis down).
 */
jest.setTimeout(120_000);
// A Redis database of its own: the chaos rules set here must not reach the stack's handlers.
const redis = new Redis(endpoints().redisUrl.replace(/\/\d+$/, '/13'), { maxRetriesPerRequest: 1 });
const deadRedis = new Redis('redis://127.0.0.1:1', { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 200, retryStrategy: () => 1000 });
deadRedis.on('error', () => undefined);
const prefix = `catalog:edge-test:${randomUUID()}:`;
let pool: Pool;
const created: string[] = [];

let breaker: Downstream['state'] = 'closed';
const catalogBreaker = () => ({ state: breaker }) as Downstream;
const service = () => new CatalogService(new PgProductRepository(pool), new RedisProductCache(() => redis, { prefix }));
const edge = (r: Redis = redis, chaos?: ChaosRules) => new CatalogEdge({ redis: () => r, catalog: catalogBreaker, chaos, cache: { prefix } });

const get = (id: string, headers: Record<string, string> = {}): HttpRequest => ({
  method: 'GET',
  path: `/api/products/${id}`,
  headers,
  query: {},
  params: { id },
  rawBody: Buffer.alloc(0),
  sourceIp: '127.0.0.1',
  correlationId: randomUUID(),
});

async function newProduct(stock = 100): Promise<string> {
  const id = randomUUID();
  await pool.query(`INSERT INTO products (id, sku, name, category, price_cents, stock) VALUES ($1, $2, $3, $4, 1000, $5)`, [
    id,
    `edge-${id}`,
    `Edge ${id.slice(0, 8)}`,
    TEST_DATA_CATEGORY,
    stock,
  ]);
  created.push(id);
  return id;
}

const bodyOf = (res: { body?: unknown }): Product => (typeof res.body === 'string' ? JSON.parse(res.body) : res.body) as Product;

beforeAll(async () => {
  pool = new Pool({ connectionString: endpoints().postgresUrl, max: 10, options: '-c search_path=catalog' });
  await redis.flushdb();
});
beforeEach(() => {
  breaker = 'closed';
});
afterAll(async () => {
  if (created.length) await pool.query('DELETE FROM products WHERE id = ANY($1::uuid[])', [created]);
  await redis.flushdb();
  await pool.end();
  redis.disconnect();
  deadRedis.disconnect();
});

it('a miss is left to the catalog; once the catalog filled the entry, the door answers it as the catalog does', async () => {
  const id = await newProduct(7);
  const door = edge();
  expect(await door.product(get(id))).toBeUndefined();
  const product = await service().get(id);
  const hit = await door.product(get(id));
  expect(hit).toMatchObject({
    status: 200,
    headers: { etag: toEtag(product.version), 'cache-control': 'no-cache', 'x-cache': 'hit', 'x-sql-queries': '0', 'x-served-by': 'bff' },
  });
  expect(bodyOf(hit!)).toEqual(product);
  // The client's copy is current: 304 without a body.
  const notModified = await door.product(get(id, { 'if-none-match': toEtag(product.version) }));
  expect(notModified).toMatchObject({ status: 304, headers: { etag: toEtag(product.version) } });
  expect(notModified!.body).toBeUndefined();
  expect([door.hits, door.passes]).toEqual([2, 1]);
});

it('a read that starts after a write answered never gets the old row, with readers filling the cache all along', async () => {
  const id = await newProduct(1000);
  const svc = service();
  const door = edge();
  let filling = true;
  // Catalog readers keep refilling the entry while the writes run (the fills a write must not let back in).
  const fillers = Array.from({ length: 4 }, async () => {
    while (filling) await svc.get(id);
  });
  try {
    for (let round = 0; round < 40; round++) {
      const before = await svc.get(id);
      const written = await svc.addStock(id, toEtag(before.version), 1);
      const answer = await door.product(get(id));
      // A miss (the catalog answers) or the written row; never the one before it.
      if (answer) expect(bodyOf(answer)).toMatchObject({ version: written.version, stock: written.stock });
      // Once the catalog has read it again, the door serves the written row.
      await svc.get(id);
      const hit = await door.product(get(id));
      expect(hit && bodyOf(hit)).toMatchObject({ version: written.version, stock: written.stock });
    }
  } finally {
    filling = false;
    await Promise.all(fillers);
  }
  expect(door.hits).toBeGreaterThanOrEqual(40);
});

it('steps aside when the catalog breaker is not closed, the client asks for no-cache, or the id is not a product id', async () => {
  const id = await newProduct();
  await service().get(id);
  const door = edge();
  expect(await door.product(get(id))).toBeDefined();
  for (const state of ['open', 'halfOpen'] as const) {
    breaker = state;
    expect(await door.product(get(id))).toBeUndefined();
  }
  breaker = 'closed';
  expect(await door.product(get(id, { 'cache-control': 'no-cache' }))).toBeUndefined();
  expect(await door.product(get(id, { 'cache-control': 'max-age=0, no-cache' }))).toBeUndefined();
  expect(await door.product(get(id, { pragma: 'no-cache' }))).toBeUndefined();
  expect(await door.product(get('not-a-uuid'))).toBeUndefined();
});

it("steps aside for a chaos rule on the catalog's read of that product (whatever its probability), not for others", async () => {
  const id = await newProduct();
  const other = await newProduct();
  const svc = service();
  await svc.get(id);
  await svc.get(other);
  const rules = new ChaosRules(() => redis, 0);
  const door = edge(redis, rules);
  expect(await door.product(get(id))).toBeDefined();
  await addRule(redis, { target: { service: 'catalog', route: `GET /products/${id}` }, fault: { type: 'error', status: 503 }, probability: 0.01 });
  expect(await door.product(get(id))).toBeUndefined();
  expect(await door.product(get(other))).toBeDefined();
  await addRule(redis, { target: { service: 'catalog' }, fault: { type: 'latency', latencyMs: 50 } });
  expect(await door.product(get(other))).toBeUndefined();
});

it('Redis down: the read goes to the catalog, never an error', async () => {
  const id = await newProduct();
  await expect(edge(deadRedis).product(get(id))).resolves.toBeUndefined();
});
