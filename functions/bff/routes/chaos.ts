import { publicRoute, type PublicRoute } from '../access';
import { proxyTo } from '../proxy';

/** /api/chaos/rules: anyone may look; changing rules needs the admin role. */
export function chaosRoutes(): PublicRoute[] {
  // An operator tool, not the storefront: every call gets the write budget (10 s), since a cold
  // chaos Lambda (Redis connect) can take seconds on a busy machine and a late answer beats a refusal.
  const forward = (path: string) => proxyTo('chaos', { path, budget: 'write', answerHeaders: { 'cache-control': 'no-store' } });
  return [
    publicRoute('GET', '/api/chaos/rules', 'anyone', forward('/rules')),
    publicRoute('POST', '/api/chaos/rules', 'admin', forward('/rules')),
    publicRoute('DELETE', '/api/chaos/rules', 'admin', forward('/rules')),
    publicRoute(
      'DELETE',
      '/api/chaos/rules/{id}',
      'admin',
      proxyTo('chaos', {
        path: (req) => `/rules/${encodeURIComponent(req.params.id)}`,
        budget: 'write',
        answerHeaders: { 'cache-control': 'no-store' },
      }),
    ),
  ];
}
