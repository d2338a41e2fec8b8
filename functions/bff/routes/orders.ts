import { config } from '../../shared/config';
import { requireAuth } from '../../shared/auth';
import { route, type HttpRequest, type HttpResult, type Route } from '../../shared/http';
import { HttpProblem } from '../../shared/problem';
import { ServiceClient } from '../../shared/service-client';
import { idempotent } from '../middleware/idempotency';

/**
 * /api/orders: authenticated; POST needs an Idempotency-Key (a replay answers the stored 202,
 * so one key starts one saga). The BFF passes the verified customer to the internal orders API.
 */
export function orderRoutes(): Route[] {
  let client: ServiceClient | undefined;
  const orders = () => (client ??= ServiceClient.fromConfig('orders', config()));
  const forward = async (req: HttpRequest, method: string, path: string): Promise<HttpResult> => {
    const principal = await requireAuth(req);
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
    route('POST', '/api/orders', idempotent(async (req) => forward(req, 'POST', '/orders'))),
    route('GET', '/api/orders/{id}', (req) => forward(req, 'GET', `/orders/${id(req)}`)),
    route('GET', '/api/orders/{id}/trace', (req) => forward(req, 'GET', `/orders/${id(req)}/trace`)),
  ];
}
