import { randomUUID } from 'node:crypto';
import { RaceRequest } from '../../catalog/core/model';
import { retryThrottled, runRace } from '../../catalog/core/race';
import { config } from '../../shared/config';
import { json, parseJsonBody, type HttpRequest, type HttpResult } from '../../shared/http';
import { HttpProblem } from '../../shared/problem';
import { redisReady, serviceRedis } from '../../shared/redis';
import { ServiceClient } from '../../shared/service-client';
import { publicRoute, type PublicRoute } from '../access';

/** Request headers the catalog contract uses; everything else stays at the door. */
const FORWARD_REQUEST = ['if-match', 'if-none-match', 'content-type', 'cache-control'];
/** Response headers passed back to the client as they are. */
const FORWARD_RESPONSE = ['etag', 'content-type', 'cache-control', 'idempotent-replayed', 'allow', 'accept-post', 'retry-after'];

/** One race at a time on the demo product: two interleaved races would each see the other's winner. */
const RACE_LOCK = 'bff:race:demo-product';
const RACE_LOCK_MS = 30_000;
const UNLOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * /api/products: thin pass-through to the catalog service. Status,
 * ETag and problem bodies come back unchanged, so 304/412/428 reach the browser as-is.
 * Reads are public; price and stock changes need the admin role.
 */
export function catalogRoutes(): PublicRoute[] {
  let client: ServiceClient | undefined;
  const catalog = () => (client ??= ServiceClient.fromConfig('catalog', config()));

  // A catalog cold start leases Vault credentials and opens a pool: allow it more than the default.
  const proxy = (method: string, target: (req: HttpRequest) => string, timeoutMs = 10_000) => async (req: HttpRequest): Promise<HttpResult> => {
    const headers: Record<string, string> = {};
    for (const h of FORWARD_REQUEST) if (req.headers[h] !== undefined) headers[h] = req.headers[h];
    let res;
    try {
      // A 429 here is the catalog's reserved concurrency throttling: the request did not run,
      // so trying again shortly is safe for every catalog route (writes are guarded by If-Match).
      const send = retryThrottled((m, path, o) => catalog().call(m, path, { ...o, correlationId: req.correlationId, timeoutMs }), 5_000);
      const opts = { headers, body: req.rawBody.length ? req.rawBody.toString('utf8') : undefined };
      // A read is safe to repeat once when the connection failed (not on a timeout: the budget is spent).
      res = await send(method, target(req), opts).catch((err: Error) => {
        if (method !== 'GET' || err.name === 'TimeoutError') throw err;
        return send(method, target(req), opts);
      });
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError';
      throw new HttpProblem(timedOut ? 504 : 502, timedOut ? 'upstreamTimeout' : 'upstreamUnavailable', `catalog: ${(err as Error).message}`);
    }
    const out: Record<string, string> = {};
    for (const h of FORWARD_RESPONSE) {
      const v = res.headers.get(h);
      if (v !== null) out[h] = v;
    }
    return { status: res.status, headers: out, body: res.body === '' ? undefined : res.body };
  };

  const id = (req: HttpRequest) => encodeURIComponent(req.params.id);
  return [
    publicRoute('GET', '/api/products', 'anyone', proxy('GET', (req) => {
      const qs = new URLSearchParams(req.query).toString();
      return `/products${qs ? `?${qs}` : ''}`;
    })),
    publicRoute('GET', '/api/products/{id}', 'anyone', proxy('GET', (req) => `/products/${id(req)}`)),
    publicRoute('PATCH', '/api/products/{id}', 'admin', proxy('PATCH', (req) => `/products/${id(req)}`)),
    publicRoute('PATCH', '/api/products/{id}/stock', 'admin', proxy('PATCH', (req) => `/products/${id(req)}/stock`)),
    // The race demo, open to anyone: it only ever touches the seeded demo product (RaceRequest
    // refuses any other id) and has its own small rate-limit class. It runs here, at the door,
    // so the N writers hit the catalog API like N clients and spread over its workers.
    publicRoute('POST', '/api/catalog/race', 'anyone', async (req) => {
      const body = parseJsonBody(req, RaceRequest);
      return withRaceLock(async () => {
        const result = await runRace(
          (method, path, opts) => catalog().call(method, path, { ...opts, correlationId: req.correlationId, timeoutMs: 10_000 }),
          body,
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
    await redis.eval(UNLOCK, 1, RACE_LOCK, owner).catch(() => undefined);
  }
}
