import type Redis from 'ioredis';
import { redisReady } from '../../shared/redis';
import { bffLimits, config, type RATE_LIMIT_CLASSES } from '../../shared/config';
import type { HttpMiddleware, HttpRequest } from '../../shared/http';
import { logger } from '../../shared/logger';
import { HttpProblem } from '../../shared/problem';
import { serviceRedis } from '../../shared/redis';
import { type ClientResolver, resolveClient } from './client';

/**
 * Token-bucket rate limit per client (user id when the bearer verifies, else source IP) and
 * per route class, kept in Redis so every BFF instance shares the buckets. The bucket update
 * is one Lua script (atomic, Redis clock).
 *
 * Every response carries the IETF httpapi ratelimit-headers (draft 08+) fields:
 *   RateLimit-Policy: "<class>";q=<capacity>;w=<seconds to refill from empty>
 *   RateLimit:        "<class>";r=<tokens left>;t=<seconds until the bucket is full again>
 * Over the limit: 429 problem+json with Retry-After = seconds until one token is back.
 * Redis unreachable: the request is allowed (fail open), logged, and RateLimit is omitted.
 *
 * Not rate-limiter-flexible (which identity's login throttling uses): its Redis limiters count
 * fixed windows (BurstyRateLimiter only stacks two of them), not a bucket that refills
 * continuously; with it the contract's `r` (tokens left) and `t` (seconds until full) and the
 * one-token Retry-After would become window resets, a burst at a window edge could pass twice
 * the capacity, and its errors on Redis failure are what login wants (fail closed), not this.
 */
export interface BucketLimit {
  capacity: number;
  refillPerSecond: number;
}
export type RouteClass = (typeof RATE_LIMIT_CLASSES)[number];

export const DEFAULT_LIMITS: Record<RouteClass, BucketLimit> = {
  read: { capacity: 600, refillPerSecond: 100 },
  write: { capacity: 600, refillPerSecond: 100 },
  auth: { capacity: 200, refillPerSecond: 20 },
  ops: { capacity: 300, refillPerSecond: 50 },
  // A deliberately small class for the contract's own demo and tests.
  demo: { capacity: 5, refillPerSecond: 1 },
  // The public race fans out up to 200 writes per call: its own bucket, smaller than writes'.
  race: { capacity: 60, refillPerSecond: 1 },
};

/** The defaults with RATE_LIMITS' overrides, class by class (validated by config.ts's schema). */
export function rateLimits(env: NodeJS.ProcessEnv = process.env): Record<RouteClass, BucketLimit> {
  const out = { ...DEFAULT_LIMITS };
  for (const [k, v] of Object.entries(bffLimits(env).RATE_LIMITS)) {
    const cls = k as RouteClass;
    out[cls] = { capacity: v?.capacity ?? out[cls].capacity, refillPerSecond: v?.refillPerSecond ?? out[cls].refillPerSecond };
  }
  return out;
}

export function routeClass(req: Pick<HttpRequest, 'method' | 'path'>): RouteClass {
  const p = req.path;
  if (p.startsWith('/api/demo/rate-limited')) return 'demo';
  if (p === '/api/catalog/race') return 'race';
  if (p.startsWith('/api/auth/') || p === '/api/me' || p === '/.well-known/jwks.json') return 'auth';
  if (p.startsWith('/api/ops/')) return 'ops';
  return ['GET', 'HEAD', 'OPTIONS'].includes(req.method) ? 'read' : 'write';
}

export interface TakeResult {
  allowed: boolean;
  /** Tokens left after this request (fractional). */
  tokens: number;
}
export interface BucketStore {
  take(key: string, limit: BucketLimit, cost: number): Promise<TakeResult>;
}

const TOKEN_BUCKET_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cap = tonumber(ARGV[1])
local rate = tonumber(ARGV[2]) / 1000
local cost = tonumber(ARGV[3])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1])
local ts = tonumber(b[2])
if tokens == nil or ts == nil then tokens = cap; ts = now end
tokens = math.min(cap, tokens + math.max(0, now - ts) * rate)
local allowed = 0
if tokens >= cost then tokens = tokens - cost; allowed = 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(cap / rate) + 1000)
return {allowed, tostring(tokens)}
`;

export class RedisBucketStore implements BucketStore {
  constructor(private readonly redis: () => Redis) {}
  async take(key: string, limit: BucketLimit, cost: number): Promise<TakeResult> {
    const r = this.redis();
    await redisReady(r);
    const [allowed, tokens] = (await r.eval(TOKEN_BUCKET_LUA, 1, key, limit.capacity, limit.refillPerSecond, cost)) as [number, string];
    return { allowed: allowed === 1, tokens: Number(tokens) };
  }
}

export function rateLimitHeaders(cls: string, limit: BucketLimit, tokens?: number): Record<string, string> {
  const w = Math.ceil(limit.capacity / limit.refillPerSecond);
  const headers: Record<string, string> = { 'ratelimit-policy': `"${cls}";q=${limit.capacity};w=${w}` };
  if (tokens !== undefined) {
    const t = Math.ceil((limit.capacity - tokens) / limit.refillPerSecond);
    headers.ratelimit = `"${cls}";r=${Math.max(0, Math.floor(tokens))};t=${Math.max(0, t)}`;
  }
  return headers;
}

export interface RateLimitOptions {
  store?: BucketStore;
  limits?: Record<RouteClass, BucketLimit>;
  resolveClient?: ClientResolver;
  classify?: (req: HttpRequest) => RouteClass;
  /** Paths never limited (none by default). */
  exempt?: (req: HttpRequest) => boolean;
}

export function rateLimit(opts: RateLimitOptions = {}): HttpMiddleware {
  const limits = opts.limits ?? rateLimits();
  const store = opts.store ?? new RedisBucketStore(() => serviceRedis(config().REDIS_URL));
  const classify = opts.classify ?? routeClass;
  const clientOf = opts.resolveClient ?? resolveClient;
  const pending = new WeakMap<object, Record<string, string>>();

  const addHeaders = (request: { context: object; response?: { headers: Record<string, string> } | null }) => {
    const headers = pending.get(request.context);
    if (headers && request.response) request.response.headers = { ...request.response.headers, ...headers };
  };

  return {
    before: async (request) => {
      const req = request.context.request;
      if (!req || opts.exempt?.(req)) return;
      const cls = classify(req);
      const limit = limits[cls];
      const client = await clientOf(req);
      // The demo class can be partitioned by ?bucket= so each drill starts with a full bucket.
      const partition = cls === 'demo' && req.query.bucket ? `:${req.query.bucket.slice(0, 64)}` : '';
      let result: TakeResult;
      try {
        result = await store.take(`ratelimit:${cls}:${client}${partition}`, limit, 1);
      } catch (err) {
        logger.warn('rate limit store unavailable; allowing the request (fail open)', { error: (err as Error).message, routeClass: cls });
        pending.set(request.context, rateLimitHeaders(cls, limit));
        return;
      }
      const headers = rateLimitHeaders(cls, limit, result.tokens);
      pending.set(request.context, headers);
      if (!result.allowed) {
        const retryAfter = Math.max(1, Math.ceil((1 - result.tokens) / limit.refillPerSecond));
        throw new HttpProblem(429, 'rateLimited', `Too many requests for "${cls}"; retry in ${retryAfter} s`, {
          headers: { ...headers, 'retry-after': String(retryAfter) },
          extensions: { routeClass: cls },
        });
      }
    },
    after: addHeaders,
    onError: addHeaders,
  };
}
