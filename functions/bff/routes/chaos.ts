import { config } from '../../shared/config';
import { requireAuth, requireRole } from '../../shared/auth';
import { route, type HttpRequest, type HttpResult, type Route } from '../../shared/http';
import { ServiceClient } from '../../shared/service-client';

/** /api/chaos/rules: anyone may look; changing rules needs the admin role. */
export function chaosRoutes(): Route[] {
  let client: ServiceClient | undefined;
  const chaos = () => (client ??= ServiceClient.fromConfig('chaos', config()));
  const forward = async (req: HttpRequest, method: string, path: string): Promise<HttpResult> => {
    const res = await chaos().call(method, path, {
      body: req.rawBody.length ? req.rawBody.toString('utf8') : undefined,
      headers: req.headers['content-type'] ? { 'content-type': req.headers['content-type'] } : {},
      correlationId: req.correlationId,
    });
    const headers: Record<string, string> = { 'cache-control': 'no-store' };
    const type = res.headers.get('content-type');
    if (type) headers['content-type'] = type;
    return { status: res.status, headers, body: res.body || undefined };
  };
  const admin = async (req: HttpRequest) => requireRole(await requireAuth(req), 'admin');
  return [
    route('GET', '/api/chaos/rules', (req) => forward(req, 'GET', '/rules')),
    route('POST', '/api/chaos/rules', async (req) => (await admin(req), forward(req, 'POST', '/rules'))),
    route('DELETE', '/api/chaos/rules', async (req) => (await admin(req), forward(req, 'DELETE', '/rules'))),
    route('DELETE', '/api/chaos/rules/{id}', async (req) =>
      (await admin(req), forward(req, 'DELETE', `/rules/${encodeURIComponent(req.params.id)}`)),
    ),
  ];
}
