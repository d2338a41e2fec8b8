import { randomUUID } from 'node:crypto';
import { RaceRequest } from '../../catalog/core/model';
import { runRace } from '../../catalog/core/race';
import { config } from '../../shared/config';
import { json, parseJsonBody, type HttpRequest, type HttpResult } from '../../shared/http';
import { HttpProblem } from '../../shared/problem';
import { redisReady, releaseLock, serviceRedis } from '../../shared/redis';
import { processChaosRules } from '../../shared/chaos';
import { publicRoute, type PublicRoute } from '../access';
import { CatalogEdge } from '../catalog-edge';
import { downstream } from '../downstream';
import { ConcurrencyLimiter } from '../limiter';
import { proxyTo } from '../proxy';

/** Request headers the catalog contract uses; everything else stays at the door. */
const FORWARD_REQUEST = ['if-match', 'if-none-match', 'content-type', 'cache-control'];
/** Response headers passed back to the client as they are. */
const FORWARD_RESPONSE = ['etag', 'content-type', 'cache-control', 'idempotent-replayed', 'allow', 'accept-post', 'retry-after', 'x-cache', 'x-sql-queries'];

/**
 * The whole race (read, N writers, read) within 20 s: 200 writers over the catalog's two workers
 * take a few seconds even when throttled, and the answer must leave before API Gateway's 29 s.
 */
const RACE_BUDGET_MS = 20_000;
/** One writer's attempt: a catalog cold start (Vault lease, pool) is not the race's concern. */
const RACE_ATTEMPT_MS = 10_000;

/** One race at a time on the demo product: two interleaved races would each see the other's winner. */
const RACE_LOCK = 'bff:race:demo-product';
const RACE_LOCK_MS = 30_000;

/**
 * /api/products: thin pass-through to the catalog service, except a product read whose entry the
 * catalog has cached, which the BFF answers itself from that entry (catalog-edge.ts). Status,
 * ETag and problem bodies come back unchanged, so 304/412/428 reach the browser as-is.
 * Reads are public; price and stock changes need the admin role.
 */
export function catalogRoutes(): PublicRoute[] {
  // Reads: the read budget (2 s), they are the storefront's hot path and a quick 503 + Retry-After
  // beats a spinner. Writes (admin): the write budget (10 s). A catalog 429 is its reserved
  // concurrency throttling (the request never ran): retried within the budget, then 503 upstream-busy.
  const proxy = (path: (req: HttpRequest) => string) => proxyTo('catalog', { path, requestHeaders: FORWARD_REQUEST, responseHeaders: FORWARD_RESPONSE });

  const id = (req: HttpRequest) => encodeURIComponent(req.params.id);
  // Cache hits answered here, from the catalog's own Redis entry (catalog-edge.ts); made on first
  // use, since building the route table must not need the config.
  let edge: CatalogEdge | undefined;
  const edgeOf = () =>
    (edge ??= new CatalogEdge({ redis: () => serviceRedis(config().REDIS_URL), catalog: () => downstream('catalog'), chaos: processChaosRules(config()) }));
  const readProduct = proxy((req) => `/products/${id(req)}`);
  return [
    publicRoute(
      'GET',
      '/api/products',
      'anyone',
      proxy((req) => {
        const qs = new URLSearchParams(req.query).toString();
        return `/products${qs ? `?${qs}` : ''}`;
      }),
    ),
    publicRoute('GET', '/api/products/{id}', 'anyone', async (req, principal) => (await edgeOf().product(req)) ?? readProduct(req, principal)),
    publicRoute(
      'PATCH',
      '/api/products/{id}',
      'admin',
      proxy((req) => `/products/${id(req)}`),
    ),
    publicRoute(
      'PATCH',
      '/api/products/{id}/stock',
      'admin',
      proxy((req) => `/products/${id(req)}/stock`),
    ),
    // The race demo, open to anyone: it only ever touches the seeded demo product (RaceRequest
    // refuses any other id) and has its own small rate-limit class. It runs here, at the door,
    // so the N writers hit the catalog API like N clients and spread over its workers.
    publicRoute('POST', '/api/catalog/race', 'anyone', async (req) => {
      const body = parseJsonBody(req, RaceRequest);
      return withRaceLock(async () => {
        // Through the catalog's breaker (a failing catalog fails the race fast; the 412s and 429s
        // it expects are not failures), but in a lane of its own sized to its writers: the
        // instance's catalog bulkhead is for the storefront and would refuse most of a 200-writer race.
        const catalog = downstream('catalog');
        const lane = new ConcurrencyLimiter({ maxInFlight: body.writers, maxQueue: 0 });
        const deadline = Date.now() + RACE_BUDGET_MS;
        const result = await runRace(
          (method, path, opts) =>
            catalog.call(method, path, { ...opts, correlationId: req.correlationId, deadline, shedAfterMs: RACE_BUDGET_MS, limiter: lane, timeoutMs: RACE_ATTEMPT_MS }),
          body,
          // The Downstream retries throttled writers itself (within the deadline): no second loop.
          { throttleBudgetMs: 0 },
        );
        return json(200, result, { 'cache-control': 'no-store' });
      });
    }),
  ];
}

/** Runs one race while holding the demo product's lock; 409 with Retry-After while another runs. */
async function withRaceLock(run: () => Promise<HttpResult>): Promise<HttpResult> {
  const redis = serviceRedis(config().REDIS_URL);
  const owner = randomUUID();
  let acquired: string | null;
  try {
    await redisReady(redis);
    acquired = await redis.set(RACE_LOCK, owner, 'PX', RACE_LOCK_MS, 'NX');
  } catch {
    throw new HttpProblem(503, 'dependencyDown', 'The race lock is unavailable; try again shortly', { headers: { 'retry-after': '1' } });
  }
  if (!acquired) {
    throw new HttpProblem(409, 'conflict', 'Another race is running on the demo product; try again in a moment', {
      headers: { 'retry-after': '1' },
    });
  }
  try {
    return await run();
  } finally {
    await releaseLock(redis, RACE_LOCK, owner);
  }
}
