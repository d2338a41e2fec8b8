import type { Principal } from '../shared/auth';
import { type BffLimits, bffLimits } from '../shared/config';
import type { HttpRequest, HttpResult } from '../shared/http';
import { HttpProblem, parseProblem } from '../shared/problem';
import type { ServiceResponse } from '../shared/service-client';
import type { GuardedHandler } from './access';
import { downstream, type Downstream, isPlatformThrottle, SHED_RETRY_AFTER_SECONDS } from './downstream';

/**
 * The one way a BFF route forwards to a service: `proxyTo(service, options)` is a route handler
 * (the `GuardedHandler` publicRoute takes) that sends the request through the service's
 * Downstream (breaker, bulkhead, retries, budget) and shapes the answer for the public:
 *
 *  - only allow-listed headers cross, each way; the BFF adds its own (caller identity, client IP)
 *  - status and body pass as they are, problems included (a 412, 409 or identity's own 429)
 *  - a throttled (platform 429) answer becomes 503 upstream-busy + Retry-After
 *  - a 5xx whose body is not a problem (an HTML 502, `{"message":"Internal server error"}`)
 *    becomes 503 upstream-unavailable + Retry-After: raw platform bodies never reach a client
 *  - optionally a problem's `instance` becomes the public path (not the service's internal one)
 */

/** A named budget (BFF_*_BUDGET_MS) or milliseconds. */
export type Budget = 'read' | 'write' | 'checkout' | number;

export interface ProxyOptions {
  /** Upstream path: fixed, or built from the request (it may throw a 400 problem). */
  path: string | ((req: HttpRequest) => string);
  /** Upstream method; default the request's (a HEAD goes up as GET). */
  method?: string;
  /** Client request headers passed on as they are (default: content-type). */
  requestHeaders?: readonly string[];
  /** Downstream response headers passed back as they are (default: content-type). */
  responseHeaders?: readonly string[];
  /** Pass the client's body on (default true; routes whose service reads none send none). */
  forwardBody?: boolean;
  /** Headers the BFF adds upstream (who the caller is, the client IP...). */
  extraHeaders?: (req: HttpRequest, principal: Principal | undefined) => Record<string, string>;
  /** Headers set on every answer of the route (e.g. cache-control: no-store). */
  answerHeaders?: Record<string, string>;
  /** Default: 'read' for GET/HEAD/OPTIONS, else 'write'. */
  budget?: Budget;
  /** Cap of one attempt (ms); default: whatever is left of the budget. */
  timeoutMs?: number;
  /** Rewrite a problem's `instance` to the public path. */
  publicInstance?: boolean;
  /** The Downstream to use (default: the service's, from the instance registry). */
  downstream?: Downstream;
  /** Default: from the environment (shared/config.ts). */
  limits?: BffLimits;
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function budgetMs(budget: Budget, limits: BffLimits): number {
  if (typeof budget === 'number') return budget;
  return { read: limits.BFF_READ_BUDGET_MS, write: limits.BFF_WRITE_BUDGET_MS, checkout: limits.BFF_CHECKOUT_BUDGET_MS }[budget];
}

export function proxyTo(service: string, options: ProxyOptions): GuardedHandler {
  const d = options.downstream ?? downstream(service);
  const limits = options.limits ?? bffLimits();
  const requestHeaders = options.requestHeaders ?? ['content-type'];
  return async (req, principal) => {
    const method = options.method ?? (req.method === 'HEAD' ? 'GET' : req.method);
    const path = typeof options.path === 'string' ? options.path : options.path(req);
    const headers: Record<string, string> = {};
    for (const h of requestHeaders) if (req.headers[h] !== undefined) headers[h] = req.headers[h];
    Object.assign(headers, options.extraHeaders?.(req, principal));
    const res = await d.call(method, path, {
      headers,
      body: options.forwardBody !== false && req.rawBody.length ? req.rawBody.toString('utf8') : undefined,
      correlationId: req.correlationId,
      timeoutMs: options.timeoutMs,
      budgetMs: budgetMs(options.budget ?? (READ_METHODS.has(method) ? 'read' : 'write'), limits),
    });
    return publicAnswer(service, res, req, options);
  };
}

/** A downstream answer as the client may see it (see the module comment). */
export function publicAnswer(
  service: string,
  res: ServiceResponse,
  req: Pick<HttpRequest, 'path'>,
  options: Pick<ProxyOptions, 'responseHeaders' | 'answerHeaders' | 'publicInstance'> = {},
): HttpResult {
  const retryAfter = { 'retry-after': String(SHED_RETRY_AFTER_SECONDS) };
  if (isPlatformThrottle(res)) {
    throw new HttpProblem(503, 'upstreamBusy', `The ${service} service is busy; retry shortly`, { headers: retryAfter, extensions: { service } });
  }
  const problem = parseProblem(res.body);
  if (res.status >= 500 && !problem) {
    throw new HttpProblem(503, 'upstreamUnavailable', `The ${service} service is unavailable (it answered ${res.status}); retry shortly`, {
      headers: retryAfter,
      extensions: { service },
    });
  }
  const headers: Record<string, string> = { ...options.answerHeaders };
  for (const h of options.responseHeaders ?? ['content-type']) {
    const v = res.headers.get(h);
    if (v !== null && v !== '') headers[h] = v;
  }
  // Problems name the public path as their instance, not the service's internal one.
  const body = problem && options.publicInstance ? JSON.stringify({ ...problem, instance: req.path }) : res.body || undefined;
  return { status: res.status, headers, body };
}
