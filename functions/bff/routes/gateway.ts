import * as z from 'zod';
import { config } from '../../shared/config';
import { json, parseJsonBody } from '../../shared/http';
import { publicRoute, type PublicRoute } from '../access';
import { HttpProblem } from '../../shared/problem';
import { serviceRedis } from '../../shared/redis';
import { ServiceClient } from '../../shared/service-client';
import { breakerBoard, INSTANCE } from '../breaker-board';
import { breakerSettings, Downstream, downstreamRegistry, registerDownstream } from '../downstream';
import { idempotent } from '../middleware/idempotency';

/**
 * Gateway routes: breaker state (/api/ops/breakers: every BFF instance's breakers, merged from
 * the breaker board), a breaker drill against a controllable failing downstream, and demo routes
 * that show the Idempotency-Key and rate-limit contracts end to end before the storefront's own
 * write routes exist.
 */
export const EchoBody = z
  .object({
    counterId: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[A-Za-z0-9._:-]+$/),
  })
  .passthrough();
const DRILL_NAME = /^[A-Za-z0-9_-]{1,40}$/;
const MAX_DRILLS = 50;

const redis = () => serviceRedis(config().REDIS_URL);
const echoKey = (counterId: string) => `demo:idempotent-echo:${counterId}`;

function drill(name: string): Downstream {
  const full = `drill:${name}`;
  const existing = downstreamRegistry().get(full);
  if (existing) return existing;
  if ([...downstreamRegistry().keys()].filter((k) => k.startsWith('drill:')).length >= MAX_DRILLS) {
    throw new HttpProblem(409, 'conflict', 'Too many drill breakers on this instance');
  }
  let client: ServiceClient | undefined;
  const base = breakerSettings();
  // Drill breakers judge after 4 calls and cool down for 2 s (BREAKER_DRILL_RESET_MS), without retries.
  return registerDownstream(
    new Downstream(
      full,
      (method, path, opts) => (client ??= ServiceClient.fromConfig('claims', config())).call(method, path, opts),
      { ...base, volumeThreshold: 4, resetTimeoutMs: config().BREAKER_DRILL_RESET_MS },
      // No retries of failures (each call is one observation), but throttled calls (claims runs
      // with reserved concurrency) wait for a worker like any client would.
      { retries: 0, baseDelayMs: 50, maxDelayMs: 500, throttleRetries: 20, budgetMs: 20_000 },
    ),
  );
}

export function gatewayRoutes(): PublicRoute[] {
  return [
    // Breaker states are what the /chaos page shows every visitor: readable by anyone. This
    // instance's breakers live, the other instances' from their snapshots on the breaker board.
    publicRoute('GET', '/api/ops/breakers', 'anyone', async () => json(200, await breakerBoard().view(), { 'cache-control': 'no-store' })),
    // GET /api/ops/breakers/drill/{name}?status=503&delayMs=300: one call through the drill
    // breaker {name} to the claims service's fault route (failure plans only).
    // The drill is the /chaos page's demo (failure plans only, rate limited like every route).
    publicRoute('GET', '/api/ops/breakers/drill/{name}', 'anyone', async (req) => {
      if (!config().FAILURE_PLANS_ENABLED) throw new HttpProblem(404, 'notFound', 'Failure plans are disabled');
      if (!DRILL_NAME.test(req.params.name)) throw new HttpProblem(400, 'validation', 'name: 1-40 of A-Z a-z 0-9 _ -');
      const status = Number(req.query.status ?? 200);
      const delayMs = Number(req.query.delayMs ?? 0);
      if (!Number.isInteger(status) || status < 200 || status > 599) throw new HttpProblem(400, 'validation', 'status must be 200..599');
      const d = drill(req.params.name);
      const started = Date.now();
      try {
        const res = await d.call('GET', `/faults/${status}?delayMs=${Math.max(0, Math.min(delayMs, 5000)) || 0}`, {
          correlationId: req.correlationId,
          timeoutMs: 10_000, // a cold claims worker (Vault lease + pool) is not the failure under study
        });
        const body = { instance: INSTANCE, upstreamStatus: res.status, latencyMs: Date.now() - started, breaker: d.snapshot() };
        return json(res.status >= 500 ? 502 : 200, body, { 'cache-control': 'no-store' });
      } catch (err) {
        if (err instanceof HttpProblem) {
          // The breaker's own problem (circuit-open, upstream-busy, ...), plus what the drill reports.
          throw err.with({ extensions: { instance: INSTANCE, latencyMs: Date.now() - started, breaker: d.snapshot() } });
        }
        throw err;
      }
    }),
    // The Idempotency-Key contract with a countable side effect: INCR a Redis counter.
    publicRoute(
      'POST',
      '/api/demo/idempotent-echo',
      'anyone',
      idempotent(async (req) => {
        const body = parseJsonBody(req, EchoBody);
        const value = await redis().incr(echoKey(body.counterId));
        return json(201, { counterId: body.counterId, value, echo: body }, { location: `/api/demo/idempotent-echo/${body.counterId}` });
      }),
    ),
    publicRoute('GET', '/api/demo/idempotent-echo/{counterId}', 'anyone', async (req) => {
      const raw = await redis().get(echoKey(req.params.counterId));
      return json(200, { counterId: req.params.counterId, value: Number(raw ?? 0) }, { 'cache-control': 'no-store' });
    }),
    // The "demo" rate-limit class (5 tokens, 1/s by default); ?bucket= gives a fresh bucket.
    publicRoute('GET', '/api/demo/rate-limited', 'anyone', () => json(200, { ok: true }, { 'cache-control': 'no-store' })),
  ];
}
