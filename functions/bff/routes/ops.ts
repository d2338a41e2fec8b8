import { config } from '../../shared/config';
import { requireAuth, requireRole } from '../../shared/auth';
import { route, type HttpRequest, type HttpResult, type Route } from '../../shared/http';
import { HttpProblem } from '../../shared/problem';
import { ServiceClient } from '../../shared/service-client';

/**
 * Admin-only views of the event mesh for the /chaos page: the payments outbox backlog and the
 * consumers' DLQ depths. Both live on the internal payments API; the BFF checks the admin role
 * and passes the answer through.
 */
export function opsRoutes(): Route[] {
  let client: ServiceClient | undefined;
  const payments = () => (client ??= ServiceClient.fromConfig('payments', config()));
  const forward = (path: string) => async (req: HttpRequest): Promise<HttpResult> => {
    requireRole(await requireAuth(req), 'admin');
    let res;
    try {
      res = await payments().call('GET', path, { correlationId: req.correlationId, timeoutMs: 10_000 });
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError';
      throw new HttpProblem(timedOut ? 504 : 502, timedOut ? 'upstreamTimeout' : 'upstreamUnavailable', `payments: ${(err as Error).message}`);
    }
    const headers: Record<string, string> = { 'cache-control': 'no-store' };
    const type = res.headers.get('content-type');
    if (type) headers['content-type'] = type;
    return { status: res.status, headers, body: res.body || undefined };
  };
  return [route('GET', '/api/ops/outbox', forward('/ops/outbox')), route('GET', '/api/ops/dlq', forward('/ops/dlq'))];
}
