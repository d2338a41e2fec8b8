import { randomUUID } from 'node:crypto';
import { json, parseJsonBody, route, validate, type HttpRequest } from '../../shared/http';
import { serviceDb } from '../../shared/db';
import { serviceRuntime } from '../../shared/service';
import { PgProductRepository } from '../adapters/pg-repository';
import { RedisProductCache } from '../adapters/redis-cache';
import { catalogProblem } from '../adapters/problems';
import { CatalogService } from '../core/catalog-service';
import { productAnswer } from '../adapters/representation';
import { ListQuery, ProductId, ProductPatch, ReserveRequest, StockPatch } from '../core/model';
import * as z from 'zod';

const runtime = serviceRuntime('catalog', { postgres: serviceDb, redis: true });
const cache = new RedisProductCache(runtime.redis);
let service: CatalogService | undefined;
// Built on first use: the pool leases its credentials then, not at import.
const catalog = () => (service ??= new CatalogService(new PgProductRepository(runtime.db()), cache));

/**
 * How one product read was served, from this worker's counters (a Lambda worker runs one request
 * at a time): x-cache hit (Redis, or another reader's fill), miss (loaded from Postgres and filled)
 * or bypass (Redis unavailable), and x-sql-queries, the statements it ran. The cache card's demo shows them.
 */
async function withReadEvidence<T>(read: () => Promise<T>): Promise<{ value: T; headers: Record<string, string> }> {
  const before = { hits: cache.hits, misses: cache.misses, sql: runtime.db().queries };
  const value = await read();
  const served = cache.hits > before.hits ? 'hit' : cache.misses > before.misses ? 'miss' : 'bypass';
  return { value, headers: { 'x-cache': served, 'x-sql-queries': String(runtime.db().queries - before.sql) } };
}

/** Names this Lambda worker (process) in responses, so the race can show it spanned workers. */
const WORKER_ID = randomUUID().slice(0, 8);

const productId = (req: HttpRequest) => validate(ProductId, req.params.id, 'path.id');

const api = runtime.api(
  [
    route('GET', '/products', async (req) => {
      const query = validate(ListQuery, req.query, 'query');
      return json(200, await catalog().list(query), { 'cache-control': 'no-cache' });
    }),
    route('GET', '/products/{id}', async (req) => {
      const { value: product, headers } = await withReadEvidence(() => catalog().get(productId(req)));
      const res = productAnswer(200, product, req.headers['if-none-match']);
      return { ...res, headers: { ...res.headers, ...headers } };
    }),
    route('PATCH', '/products/{id}/stock', async (req) => {
      const id = productId(req);
      const { delta } = parseJsonBody(req, StockPatch);
      return productAnswer(200, await catalog().addStock(id, req.headers['if-match'], delta));
    }),
    route('PATCH', '/products/{id}', async (req) => {
      const id = productId(req);
      const patch = parseJsonBody(req, ProductPatch);
      return productAnswer(200, await catalog().update(id, req.headers['if-match'], patch));
    }),
    route('POST', '/internal/reservations', async (req) => {
      const body = parseJsonBody(req, ReserveRequest);
      const { reservation, replayed } = await catalog().reserve(body);
      return json(replayed ? 200 : 201, reservation, replayed ? { 'idempotent-replayed': 'true' } : {});
    }),
    route('DELETE', '/internal/reservations/{orderId}', async (req) => {
      const orderId = validate(z.string().uuid(), req.params.orderId, 'path.orderId');
      const { reservation, changed } = await catalog().release(orderId);
      return json(200, { ...reservation, changed });
    }),
  ],
  { toProblem: catalogProblem },
);

/** Every response names the worker that produced it (problems included), for the race report. */
export const handler = async (...args: Parameters<typeof api>) => {
  const res = await api(...args);
  if (res?.headers) res.headers['x-catalog-worker'] = WORKER_ID;
  return res;
};
