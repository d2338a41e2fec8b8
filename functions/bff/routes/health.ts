import { config } from '../../shared/config';
import { json } from '../../shared/http';
import { publicRoute, type PublicRoute } from '../access';
import { ServiceClient } from '../../shared/service-client';
import { nodeMajor } from '../../shared/health';

/**
 * GET /api/health: asks every service's /health in parallel and answers 200 only when
 * every service and every one of their dependencies is up. `node` is the BFF's own Node major
 * (each service reports its own in its report).
 *
 * Deliberately plain ServiceClient calls, not proxyTo/Downstream: health must report every
 * service as it is right now, also while its breaker is open or its bulkhead full (an open
 * breaker would answer for it without asking), and health probes must not count toward a
 * breaker's error rate or take slots from real traffic.
 */
export function healthRoutes(): PublicRoute[] {
  const cfg = config();
  const clients = Object.keys(cfg.SERVICE_APIS).map((name) => ServiceClient.fromConfig(name, cfg));
  return [
    publicRoute('GET', '/api/health', 'anyone', async (req) => {
      const results = await Promise.all(
        clients.map(async (client) => {
          const started = Date.now();
          try {
            const res = await client.call('GET', '/health', { correlationId: req.correlationId, timeoutMs: 4000 });
            let report: unknown = res.body;
            try {
              report = JSON.parse(res.body);
            } catch {
              /* keep raw text */
            }
            return [client.service, { status: res.status === 200 ? 'up' : 'down', httpStatus: res.status, latencyMs: Date.now() - started, report }] as const;
          } catch (err) {
            return [client.service, { status: 'down', latencyMs: Date.now() - started, error: (err as Error).message }] as const;
          }
        }),
      );
      const services = Object.fromEntries(results);
      const up = results.every(([, r]) => r.status === 'up');
      return json(up ? 200 : 503, { status: up ? 'up' : 'down', node: nodeMajor(), services }, { 'cache-control': 'no-store' });
    }),
  ];
}
