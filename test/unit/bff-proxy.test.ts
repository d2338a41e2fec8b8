import type { Context } from 'aws-lambda';
import { Downstream, type RetrySettings } from '../../functions/bff/downstream';
import { proxyTo, type ProxyOptions } from '../../functions/bff/proxy';
import { publicRoute } from '../../functions/bff/access';
import { bffLimits } from '../../functions/shared/config';
import { httpApi } from '../../functions/shared/http';
import { ServiceClient } from '../../functions/shared/service-client';
import { createSigner } from '../../functions/shared/sigv4';
import { restEvent } from '../support/api-events';

/**
 * proxyTo end to end through httpApi: a real Downstream (breaker, bulkhead, retries) over a real
 * ServiceClient (SigV4-signed with the test credentials) whose fetch is stubbed per test.
 */
const BASE = 'http://svc.test';
const settings = { errorThresholdPercentage: 50, volumeThreshold: 2, resetTimeoutMs: 5000, rollingWindowMs: 10_000 };
const noRetry: RetrySettings = { retries: 0, baseDelayMs: 1, maxDelayMs: 5, throttleRetries: 0, budgetMs: 2000 };
const limits = bffLimits({});

type Stub = (url: string, init: RequestInit) => Promise<Response>;
let stub: Stub;
const calls: { url: string; init: RequestInit }[] = [];
const realFetch = global.fetch;
beforeAll(() => {
  global.fetch = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return stub(url, init);
  }) as typeof fetch;
});
afterAll(() => {
  global.fetch = realFetch;
  made.forEach((d) => d.shutdown());
});
beforeEach(() => {
  calls.length = 0;
});

const made: Downstream[] = [];
function service(retry: RetrySettings = noRetry, concurrency = { maxInFlight: 16, maxQueue: 32 }, breaker = settings): Downstream {
  const client = new ServiceClient('svc', BASE, 3000, { signer: createSigner({ region: 'us-east-1' }) });
  const d = new Downstream(
    `svc${made.length}`,
    (m, p, o) => client.call(m, p, o),
    breaker,
    retry,
    async () => undefined,
    concurrency,
  );
  made.push(d);
  return d;
}

function api(d: Downstream, opts: Partial<ProxyOptions> = {}, method = 'GET', path = '/api/things/{id}') {
  return httpApi([publicRoute(method, path, 'anyone', proxyTo('svc', { path: (req) => `/things/${req.params.id}`, downstream: d, limits, ...opts }))]);
}
const event = (method: string, path: string, headers: Record<string, string> = {}, body?: string) => restEvent(method, path, { headers, body, sourceIp: '198.51.100.4' });
const ctx = {} as Context;
const sentHeaders = (i = 0) => calls[i].init.headers as Record<string, string>;

describe('proxyTo: what crosses the door', () => {
  it('passes only allow-listed request and response headers, adds its own, sets the route headers', async () => {
    stub = async () =>
      new Response('{"id":"1"}', { status: 200, headers: { 'content-type': 'application/json', etag: '"7"', 'x-internal': 'secret', 'set-cookie': 'a=b' } });
    const handler = api(service(), {
      requestHeaders: ['if-none-match', 'content-type'],
      responseHeaders: ['etag', 'content-type'],
      extraHeaders: (req) => ({ 'x-client-ip': req.sourceIp }),
      answerHeaders: { 'cache-control': 'no-store' },
    });
    const res = await handler(event('GET', '/api/things/1', { 'if-none-match': '"6"', cookie: 'session=1', 'x-forwarded-for': '1.2.3.4' }), ctx);
    expect(calls[0].url).toBe(`${BASE}/things/1`);
    const sent = sentHeaders();
    expect(sent['if-none-match']).toBe('"6"');
    expect(sent['x-client-ip']).toBe('198.51.100.4');
    expect(sent.cookie).toBeUndefined();
    expect(sent['x-forwarded-for']).toBeUndefined();
    // The hop is signed by the BFF (the client's own authorization never rides in it).
    expect(sent.authorization).toMatch(/^AWS4-HMAC-SHA256 /);
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({ etag: '"7"', 'content-type': 'application/json', 'cache-control': 'no-store' });
    expect(res.headers['x-internal']).toBeUndefined();
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.body).toBe('{"id":"1"}');
  });

  it('passes a problem through as it is, or with the public path as its instance when asked', async () => {
    const problem = { type: 'https://checkout-mesh.dev/problems/precondition-failed', title: 'Precondition Failed', status: 412, instance: '/things/1' };
    stub = async () => new Response(JSON.stringify(problem), { status: 412, headers: { 'content-type': 'application/problem+json' } });
    const plain = await api(service())(event('GET', '/api/things/1'), ctx);
    expect(plain.statusCode).toBe(412);
    expect(JSON.parse(plain.body)).toEqual(problem);
    const rewritten = await api(service(), { publicInstance: true })(event('GET', '/api/things/1'), ctx);
    expect(rewritten.statusCode).toBe(412);
    expect(rewritten.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(rewritten.body)).toEqual({ ...problem, instance: '/api/things/1' });
  });

  it("keeps a service's own 429 problem (the client's own limit) a 429", async () => {
    const own = { type: 'https://checkout-mesh.dev/problems/rate-limited', title: 'Too Many Requests', status: 429 };
    stub = async () => new Response(JSON.stringify(own), { status: 429, headers: { 'content-type': 'application/problem+json', 'retry-after': '7' } });
    const res = await api(
      service({ ...noRetry, throttleRetries: 5 }),
      { responseHeaders: ['content-type', 'retry-after'] },
      'POST',
      '/api/things/{id}',
    )(event('POST', '/api/things/1', { 'content-type': 'application/json' }, '{}'), ctx);
    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toBe('7');
    expect(calls).toHaveLength(1); // not retried: it ran, and said no
  });
});

describe('proxyTo: load shedding', () => {
  it('a raw platform 429 ({"message":"Rate Exceeded"}) becomes 503 upstream-busy problem+json with Retry-After, after retries within the budget', async () => {
    stub = async () => new Response('{"message":"Rate Exceeded."}', { status: 429, headers: { 'content-type': 'application/json' } });
    const d = service({ ...noRetry, throttleRetries: 3 });
    const res = await api(d)(event('GET', '/api/things/1'), ctx);
    expect(calls).toHaveLength(4); // the first try + 3 throttle retries: it never ran, so trying again is safe
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.headers['retry-after']).toBe('1');
    const body = JSON.parse(res.body);
    expect(body).toMatchObject({ status: 503, type: 'https://checkout-mesh.dev/problems/upstream-busy', instance: '/api/things/1' });
    expect(res.body).not.toContain('Rate Exceeded');
    // Throttles are not failures: the breaker stays closed.
    expect(d.snapshot()).toMatchObject({ state: 'closed', stats: { failures: 0 } });
  });

  it('a TooManyRequestsException behind a 5xx is a throttle too; an HTML 502 becomes 503 upstream-unavailable', async () => {
    stub = async () => new Response('{"__type":"TooManyRequestsException","message":"Rate exceeded"}', { status: 500 });
    const throttled = await api(service())(event('GET', '/api/things/1'), ctx);
    expect([throttled.statusCode, JSON.parse(throttled.body).type]).toEqual([503, 'https://checkout-mesh.dev/problems/upstream-busy']);

    stub = async () => new Response('<html><body>502 Bad Gateway</body></html>', { status: 502, headers: { 'content-type': 'text/html' } });
    const html = await api(service())(event('GET', '/api/things/1'), ctx);
    expect(html.statusCode).toBe(503);
    expect(html.headers['content-type']).toBe('application/problem+json');
    expect(html.headers['retry-after']).toBe('1');
    expect(JSON.parse(html.body).type).toBe('https://checkout-mesh.dev/problems/upstream-unavailable');
    expect(html.body).not.toContain('<html>');
  });

  it('a service that keeps throttling is refused by the deadline, not by API Gateway: 503 within the budget', async () => {
    stub = async () => new Response('{"message":"Rate Exceeded."}', { status: 429 });
    const client = new ServiceClient('svc', BASE, 3000, { signer: null });
    // Real sleeps here: the deadline is what stops the retries (25 allowed, 20-80 ms each).
    const d = new Downstream('deadline', (m, p, o) => client.call(m, p, o), settings, { retries: 0, baseDelayMs: 20, maxDelayMs: 80, throttleRetries: 25 }, undefined, {
      maxInFlight: 4,
      maxQueue: 4,
    });
    made.push(d);
    const started = Date.now();
    const res = await api(d, { budget: 400 })(event('GET', '/api/things/1'), ctx);
    const took = Date.now() - started;
    expect(res.statusCode).toBe(503);
    expect(JSON.parse(res.body).type).toMatch(/upstream-busy$/);
    expect(took).toBeLessThan(600);
    expect(calls.length).toBeGreaterThan(1);
  });

  it('a downstream that does not answer is cut at the budget: 503 upstream-timeout, not a 504', async () => {
    stub = (_url, init) => new Promise((_resolve, reject) => init.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
    const started = Date.now();
    const res = await api(service(), { budget: 300 })(event('GET', '/api/things/1'), ctx);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(JSON.parse(res.body).type).toMatch(/upstream-timeout$/);
  });

  it('breaker open: 503 circuit-open with Retry-After at once, without calling the service', async () => {
    stub = async () => new Response('Internal Server Error', { status: 500 });
    const d = service();
    const handler = api(d);
    for (let i = 0; i < 2; i++) expect((await handler(event('GET', '/api/things/1'), ctx)).statusCode).toBe(503);
    expect(d.state).toBe('open');
    const before = calls.length;
    const started = performance.now();
    const res = await handler(event('GET', '/api/things/1'), ctx);
    expect(performance.now() - started).toBeLessThan(50);
    expect(calls.length).toBe(before);
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(Number(res.headers['retry-after'])).toBe(5);
    expect(JSON.parse(res.body)).toMatchObject({ type: 'https://checkout-mesh.dev/problems/circuit-open', service: d.name });
  });

  it('the bulkhead: N in flight, M waiting, the next refused at once (503 upstream-busy) without a call; the waiters run when slots free up', async () => {
    const pending: (() => void)[] = [];
    // Answers only when the test releases it.
    stub = () =>
      new Promise<Response>((resolve) => pending.push(() => resolve(new Response('{"ok":true}', { status: 200, headers: { 'content-type': 'application/json' } }))));
    const d = service({ ...noRetry, budgetMs: 10_000 }, { maxInFlight: 2, maxQueue: 1 });
    const handler = api(d, { budget: 10_000 });
    const running = [1, 2, 3].map((i) => handler(event('GET', `/api/things/${i}`), ctx));
    await new Promise((r) => setTimeout(r, 50)); // signing is async: let the two in flight reach fetch
    expect(calls).toHaveLength(2);
    expect(d.snapshot().concurrency).toMatchObject({ maxInFlight: 2, maxQueue: 1, inFlight: 2, queued: 1 });

    const started = performance.now();
    const refused = await handler(event('GET', '/api/things/4'), ctx);
    expect(performance.now() - started).toBeLessThan(50);
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(JSON.parse(refused.body).type).toBe('https://checkout-mesh.dev/problems/upstream-busy');
    expect(calls).toHaveLength(2); // the refused call never left the instance

    pending.shift()!();
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toHaveLength(3); // the waiter took the freed slot
    pending.splice(0).forEach((go) => go());
    expect((await Promise.all(running)).map((r) => r.statusCode)).toEqual([200, 200, 200]);
    expect(d.snapshot().concurrency).toMatchObject({ inFlight: 0, queued: 0, refused: 1 });
    expect(d.state).toBe('closed'); // refusals are not the service failing
  });

  it("a waiter gives up at its deadline (503 upstream-busy), never waiting past the route's budget", async () => {
    const pending: (() => void)[] = [];
    stub = () => new Promise<Response>((resolve) => pending.push(() => resolve(new Response('{}', { status: 200 }))));
    const d = service(noRetry, { maxInFlight: 1, maxQueue: 5 });
    const slow = api(d, { budget: 5000 })(event('GET', '/api/things/1'), ctx);
    await new Promise((r) => setTimeout(r, 30));
    const started = Date.now();
    const waited = await api(d, { budget: 300 })(event('GET', '/api/things/2'), ctx);
    expect(Date.now() - started).toBeLessThan(600);
    expect(waited.statusCode).toBe(503);
    expect(JSON.parse(waited.body).type).toMatch(/upstream-busy$/);
    pending.splice(0).forEach((go) => go());
    expect((await slow).statusCode).toBe(200);
  });

  it("the race's 412s and 429s are not breaker failures", async () => {
    let n = 0;
    stub = async () => (n++ % 2 ? new Response('', { status: 412 }) : new Response('{"message":"Too Many Requests"}', { status: 429 }));
    const d = service();
    for (let i = 0; i < 10; i++) expect([412, 429]).toContain((await d.call('PATCH', '/products/x/stock', { retryThrottled: false })).status);
    expect(d.snapshot()).toMatchObject({ state: 'closed', stats: { failures: 0, fires: 10 } });
  });
});
