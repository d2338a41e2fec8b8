import type { Context } from 'aws-lambda';
import { type BucketLimit, type BucketStore, rateLimit, rateLimitHeaders, rateLimits, routeClass } from '../../functions/bff/middleware/rate-limit';
import { httpApi, json, route } from '../../functions/shared/http';

/** A token bucket in memory with a controllable clock (the Redis one runs the same arithmetic in Lua). */
function memoryStore(clock: { now: number }): BucketStore & { keys: string[] } {
  const buckets = new Map<string, { tokens: number; ts: number }>();
  const keys: string[] = [];
  return {
    keys,
    async take(key: string, limit: BucketLimit, cost: number) {
      keys.push(key);
      const b = buckets.get(key) ?? { tokens: limit.capacity, ts: clock.now };
      b.tokens = Math.min(limit.capacity, b.tokens + ((clock.now - b.ts) / 1000) * limit.refillPerSecond);
      b.ts = clock.now;
      const allowed = b.tokens >= cost;
      if (allowed) b.tokens -= cost;
      buckets.set(key, b);
      return { allowed, tokens: b.tokens };
    },
  };
}

const ctx = () => ({}) as Context;
const event = (method: string, path: string, headers: Record<string, string> = {}, ip = '10.1.1.1', query: Record<string, string> | null = null) =>
  ({ httpMethod: method, path, headers, body: null, isBase64Encoded: false, queryStringParameters: query, requestContext: { identity: { sourceIp: ip } } }) as never;

function api(store: BucketStore) {
  const limits = { ...rateLimits({}), write: { capacity: 3, refillPerSecond: 0.5 } };
  return httpApi([route('GET', '/api/things', () => json(200, { ok: true })), route('POST', '/api/things', () => json(201, { ok: true }))], {
    middlewares: [rateLimit({ store, limits, resolveClient: async (req) => (req.headers.authorization ? 'user:alice' : `ip:${req.sourceIp}`) })],
  });
}

describe('rate limit (token bucket)', () => {
  it('classifies routes', () => {
    expect(routeClass({ method: 'GET', path: '/api/products' })).toBe('read');
    expect(routeClass({ method: 'POST', path: '/api/orders' })).toBe('write');
    expect(routeClass({ method: 'POST', path: '/api/auth/login' })).toBe('auth');
    expect(routeClass({ method: 'GET', path: '/api/ops/breakers' })).toBe('ops');
    expect(routeClass({ method: 'GET', path: '/api/demo/rate-limited' })).toBe('demo');
  });

  it('reads limits from RATE_LIMITS, class by class; a malformed value stops the cold start', () => {
    const l = rateLimits({ RATE_LIMITS: '{"write":{"capacity":7,"refillPerSecond":2},"read":{"capacity":9}}' });
    expect(l.write).toEqual({ capacity: 7, refillPerSecond: 2 });
    expect(l.read).toEqual({ ...rateLimits({}).read, capacity: 9 });
    expect(l.auth).toEqual(rateLimits({}).auth);
    for (const bad of ['not json', '{"read":{"capacity":-1}}', '{"nope":{}}', '{"write":{"capacity":"7"}}', '{"write":{"burst":3}}']) {
      expect(() => rateLimits({ RATE_LIMITS: bad })).toThrow(/Invalid configuration: RATE_LIMITS: /);
    }
  });

  it('formats the IETF RateLimit-Policy and RateLimit headers', () => {
    expect(rateLimitHeaders('write', { capacity: 10, refillPerSecond: 2 }, 7.6)).toEqual({
      'ratelimit-policy': '"write";q=10;w=5',
      ratelimit: '"write";r=7;t=2',
    });
    expect(rateLimitHeaders('read', { capacity: 10, refillPerSecond: 2 })).toEqual({ 'ratelimit-policy': '"read";q=10;w=5' });
  });

  it('allows a burst up to capacity, then 429 with Retry-After; every response carries the headers; tokens refill', async () => {
    const clock = { now: 1_000_000 };
    const handler = api(memoryStore(clock));
    const statuses: number[] = [];
    const remaining: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await handler(event('POST', '/api/things'), ctx());
      statuses.push(res.statusCode);
      expect(res.headers['ratelimit-policy']).toBe('"write";q=3;w=6');
      remaining.push(res.headers.ratelimit);
    }
    expect(statuses).toEqual([201, 201, 201, 429, 429]);
    expect(remaining).toEqual(['"write";r=2;t=2', '"write";r=1;t=4', '"write";r=0;t=6', '"write";r=0;t=6', '"write";r=0;t=6']);
    const limited = await handler(event('POST', '/api/things'), ctx());
    expect(limited.headers['content-type']).toBe('application/problem+json');
    expect(limited.headers['retry-after']).toBe('2');
    expect(JSON.parse(limited.body)).toMatchObject({ status: 429, type: expect.stringMatching(/rate-limited$/), routeClass: 'write' });
    // Reads are another class with their own bucket.
    expect((await handler(event('GET', '/api/things'), ctx())).statusCode).toBe(200);
    // Another client has its own bucket; so has an authenticated user.
    expect((await handler(event('POST', '/api/things', {}, '10.9.9.9'), ctx())).statusCode).toBe(201);
    expect((await handler(event('POST', '/api/things', { authorization: 'Bearer x' }), ctx())).statusCode).toBe(201);
    // 2 s later one token (0.5/s) is back: exactly one more request passes.
    clock.now += 2000;
    expect((await handler(event('POST', '/api/things'), ctx())).statusCode).toBe(201);
    expect((await handler(event('POST', '/api/things'), ctx())).statusCode).toBe(429);
  });

  it('headers also go on error responses (404) and the demo class can be partitioned by ?bucket=', async () => {
    const clock = { now: 0 };
    const store = memoryStore(clock);
    const handler = api(store);
    const res = await handler(event('GET', '/api/missing'), ctx());
    expect(res.statusCode).toBe(404);
    expect(res.headers['ratelimit-policy']).toMatch(/^"read";q=\d+;w=\d+$/);
    await handler(event('GET', '/api/demo/rate-limited', {}, '10.1.1.1', { bucket: 'b1' }), ctx());
    expect(store.keys.at(-1)).toBe('ratelimit:demo:ip:10.1.1.1:b1');
  });

  it('fails open when the store (Redis) is down', async () => {
    const handler = api({ take: async () => Promise.reject(new Error('Connection is closed.')) });
    const res = await handler(event('POST', '/api/things'), ctx());
    expect(res.statusCode).toBe(201);
    expect(res.headers['ratelimit-policy']).toBe('"write";q=3;w=6');
    expect(res.headers.ratelimit).toBeUndefined();
  });
});
