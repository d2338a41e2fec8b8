import { config } from '../../shared/config';
import type { HttpRequest, HttpResult } from '../../shared/http';
import { publicRoute, type PublicRoute } from '../access';
import { HttpProblem } from '../../shared/problem';
import { ServiceClient } from '../../shared/service-client';

/** /api/chaos/rules: anyone may look; changing rules needs the admin role. */
export function chaosRoutes(): PublicRoute[] {
  let client: ServiceClient | undefined;
  const chaos = () => (client ??= ServiceClient.fromConfig('chaos', config()));
  const forward = async (req: HttpRequest, method: string, path: string): Promise<HttpResult> => {
    let res;
    try {
      // A cold chaos Lambda (Redis connect) can take longer than the default 3 s on a busy machine.
      res = await chaos().call(method, path, {
        body: req.rawBody.length ? req.rawBody.toString('utf8') : undefined,
        headers: req.headers['content-type'] ? { 'content-type': req.headers['content-type'] } : {},
        correlationId: req.correlationId,
        timeoutMs: 10_000,
      });
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError';
      throw new HttpProblem(timedOut ? 504 : 502, timedOut ? 'upstreamTimeout' : 'upstreamUnavailable', `chaos: ${(err as Error).message}`);
    }
    const headers: Record<string, string> = { 'cache-control': 'no-store' };
    const type = res.headers.get('content-type');
    if (type) headers['content-type'] = type;
    return { status: res.status, headers, body: res.body || undefined };
  };
  return [
    publicRoute('GET', '/api/chaos/rules', 'anyone', (req) => forward(req, 'GET', '/rules')),
    publicRoute('POST', '/api/chaos/rules', 'admin', (req) => forward(req, 'POST', '/rules')),
    publicRoute('DELETE', '/api/chaos/rules', 'admin', (req) => forward(req, 'DELETE', '/rules')),
    publicRoute('DELETE', '/api/chaos/rules/{id}', 'admin', (req) => forward(req, 'DELETE', `/rules/${encodeURIComponent(req.params.id)}`)),
  ];
}
