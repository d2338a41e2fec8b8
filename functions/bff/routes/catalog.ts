import { RaceRequest } from '../../catalog/core/model';
import { retryThrottled, runRace } from '../../catalog/core/race';
import { config } from '../../shared/config';
import { json, parseJsonBody, route, type HttpRequest, type HttpResult, type Route } from '../../shared/http';
import { HttpProblem } from '../../shared/problem';
import { ServiceClient } from '../../shared/service-client';

/** Request headers the catalog contract uses; everything else stays at the door. */
const FORWARD_REQUEST = ['if-match', 'if-none-match', 'content-type', 'cache-control'];
/** Response headers passed back to the client as they are. */
const FORWARD_RESPONSE = ['etag', 'content-type', 'cache-control', 'idempotent-replayed', 'allow', 'accept-post', 'retry-after'];

/**
 * /api/products: thin pass-through to the catalog service. Status,
 * ETag and problem bodies come back unchanged, so 304/412/428 reach the browser as-is.
 */
export function catalogRoutes(): Route[] {
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
    route('GET', '/api/products', proxy('GET', (req) => {
      const qs = new URLSearchParams(req.query).toString();
      return `/products${qs ? `?${qs}` : ''}`;
    })),
    route('GET', '/api/products/{id}', proxy('GET', (req) => `/products/${id(req)}`)),
    route('PATCH', '/api/products/{id}', proxy('PATCH', (req) => `/products/${id(req)}`)),
    route('PATCH', '/api/products/{id}/stock', proxy('PATCH', (req) => `/products/${id(req)}/stock`)),
    // The race runs here, at the door, so the N writers hit the catalog API like N clients and
    // spread over all of the catalog's workers (the catalog's own POST /race would hold one).
    route('POST', '/api/catalog/race', async (req) => {
      const body = parseJsonBody(req, RaceRequest);
      const result = await runRace(
        (method, path, opts) => catalog().call(method, path, { ...opts, correlationId: req.correlationId, timeoutMs: 10_000 }),
        body,
      );
      return json(200, result, { 'cache-control': 'no-store' });
    }),
  ];
}
