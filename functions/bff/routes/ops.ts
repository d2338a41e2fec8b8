import { config } from '../../shared/config';
import type { HttpRequest, HttpResult } from '../../shared/http';
import { publicRoute, type PublicRoute } from '../access';
import { HttpProblem } from '../../shared/problem';
import { ServiceClient } from '../../shared/service-client';

/**
 * Admin-only ops of the event mesh (the /chaos page): the payments outbox backlog, the
 * consumers' DLQ depths, and DLQ redrive. Both live on the internal payments API; the BFF checks the admin role
 * and passes the answer through.
 */
export function opsRoutes(): PublicRoute[] {
  let client: ServiceClient | undefined;
  const payments = () => (client ??= ServiceClient.fromConfig('payments', config()));
  const forward = (path: string | ((req: HttpRequest) => string), method = 'GET') => async (req: HttpRequest): Promise<HttpResult> => {
    const target = typeof path === 'string' ? path : path(req);
    let res;
    try {
      res = await payments().call(method, target, { correlationId: req.correlationId, timeoutMs: 10_000 });
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError';
      throw new HttpProblem(timedOut ? 504 : 502, timedOut ? 'upstreamTimeout' : 'upstreamUnavailable', `payments: ${(err as Error).message}`);
    }
    const headers: Record<string, string> = { 'cache-control': 'no-store' };
    const type = res.headers.get('content-type');
    if (type) headers['content-type'] = type;
    return { status: res.status, headers, body: res.body || undefined };
  };
  return [
    publicRoute('GET', '/api/ops/outbox', 'admin', forward('/ops/outbox')),
    publicRoute('GET', '/api/ops/dlq', 'admin', forward('/ops/dlq')),
    // Moves a consumer's DLQ messages back to its queue (payments answers 404 for a queue it does not own).
    publicRoute(
      'POST',
      '/api/ops/dlq/{queue}/redrive',
      'admin',
      forward((req) => {
        if (!/^[a-z][a-z0-9-]{1,60}$/.test(req.params.queue)) throw new HttpProblem(400, 'validation', 'queue: a consumer name like payments-audit');
        return `/ops/dlq/${req.params.queue}/redrive`;
      }, 'POST'),
    ),
  ];
}
