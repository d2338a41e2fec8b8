import { config } from '../../shared/config';
import type { Principal } from '../../shared/auth';
import type { HttpRequest, HttpResult } from '../../shared/http';
import { publicRoute, signedIn, type PublicRoute } from '../access';
import { HttpProblem } from '../../shared/problem';
import { ServiceClient } from '../../shared/service-client';
import { idempotent } from '../middleware/idempotency';

/**
 * /api/orders: authenticated; POST needs an Idempotency-Key (a replay answers the stored 202,
 * so one key starts one saga). The BFF passes the verified customer to the internal orders API.
 */
export function orderRoutes(): PublicRoute[] {
  let client: ServiceClient | undefined;
  const orders = () => (client ??= ServiceClient.fromConfig('orders', config()));
  const forward = async (req: HttpRequest, principal: Principal, method: string, path: string): Promise<HttpResult> => {
    const headers: Record<string, string> = {
      'x-customer-id': principal.sub,
      'x-customer-role': principal.roles.includes('admin') ? 'admin' : 'customer',
    };
    if (req.headers['content-type']) headers['content-type'] = req.headers['content-type'];
    let res;
    try {
      // Cold starts of orders lease Vault credentials and look up catalog prices: allow them time.
      res = await orders().call(method, path, {
        body: req.rawBody.length ? req.rawBody.toString('utf8') : undefined,
        headers,
        correlationId: req.correlationId,
        timeoutMs: 20_000,
      });
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError';
      throw new HttpProblem(timedOut ? 504 : 502, timedOut ? 'upstreamTimeout' : 'upstreamUnavailable', `orders: ${(err as Error).message}`);
    }
    const out: Record<string, string> = { 'cache-control': 'no-store' };
    for (const h of ['content-type', 'location', 'retry-after']) {
      const v = res.headers.get(h);
      if (v !== null) out[h] = v;
    }
    return { status: res.status, headers: out, body: res.body || undefined };
  };
  const id = (req: HttpRequest) => encodeURIComponent(req.params.id);
  return [
    // Signed in first, then the Idempotency-Key claim: a refused call claims nothing.
    publicRoute('POST', '/api/orders', 'signedIn', (req, p) => idempotent(async (r) => forward(r, signedIn(p), 'POST', '/orders'))(req)),
    // "My orders": the signed-in customer's own, paged (?limit=&offset=).
    publicRoute('GET', '/api/orders', 'signedIn', (req, p) => {
      const qs = new URLSearchParams(req.query).toString();
      return forward(req, signedIn(p), 'GET', `/orders${qs ? `?${qs}` : ''}`);
    }),
    publicRoute('GET', '/api/orders/{id}', 'signedIn', (req, p) => forward(req, signedIn(p), 'GET', `/orders/${id(req)}`)),
    publicRoute('GET', '/api/orders/{id}/trace', 'signedIn', (req, p) => forward(req, signedIn(p), 'GET', `/orders/${id(req)}/trace`)),
  ];
}
