import path from 'node:path';
import type { Context } from 'aws-lambda';
import { setVerifier, unauthorized, type Principal } from '../../functions/shared/auth';
import { resetConfigCache } from '../../functions/shared/config';
import { httpApi } from '../../functions/shared/http';
import { closeRedis } from '../../functions/shared/redis';
import { downstreamRegistry } from '../../functions/bff/downstream';

/**
 * Walks every route of the public API, taken from the route table itself (publicRoutes()), with
 * no token, a customer token and an admin token, and checks the answer against the access the
 * route declares: `anyone` is never refused, `signedIn` is 401 without a token, `admin` is 401
 * without a token and 403 for a customer. A refused call never reaches a downstream service.
 * Every service is stubbed (fetch) and answers 200, so what is checked is the door itself.
 */
const SERVICES = ['identity', 'catalog', 'claims', 'payments', 'orders', 'chaos'];
process.env.SERVICE_NAME = 'bff';
process.env.SERVICE_APIS = JSON.stringify(Object.fromEntries(SERVICES.map((s) => [s, { apiId: `${s}api`, stage: '$default' }])));
process.env.AWS_ENDPOINT_URL = 'http://emulator.test';
process.env.FAILURE_PLANS_ENABLED = 'true';
process.env.WEB_ROOT = path.resolve(__dirname, '..', '..', 'web');
resetConfigCache();
// require, not import: the environment above must be in place before the routes' modules load.
const { publicRoutes } = require('../../functions/bff/routes') as typeof import('../../functions/bff/routes');

const routes = publicRoutes();
const handler = httpApi(routes);

const PRINCIPALS: Record<string, Principal> = {
  customer: { sub: 'customer-1', roles: ['customer'], jti: 'j1', exp: 0 },
  admin: { sub: 'admin-1', roles: ['admin'], jti: 'j2', exp: 0 },
};
const SAMPLE_PARAMS: Record<string, string> = {
  id: '00000000-0000-4000-8000-000000000101',
  file: 'css/app.css',
  name: 'walk',
  queue: 'payments-audit',
  counterId: 'walk-counter',
};
const concrete = (p: string) => p.replace(/\{([a-zA-Z]+)\+?\}/g, (_, n: string) => SAMPLE_PARAMS[n] ?? 'x');

const downstreamCalls: string[] = [];
const realFetch = global.fetch;
beforeAll(() => {
  global.fetch = (async (url: string) => {
    downstreamCalls.push(String(url));
    return new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
  setVerifier({
    verify: async (token) => {
      const p = PRINCIPALS[token];
      if (!p) throw unauthorized();
      return p;
    },
  });
});
afterAll(async () => {
  global.fetch = realFetch;
  setVerifier(undefined);
  // The demo routes talk to Redis (the idempotent echo's counter): close it, or jest cannot exit.
  await closeRedis();
  for (const d of downstreamRegistry().values()) d.shutdown();
});

async function call(method: string, routePath: string, token?: string) {
  downstreamCalls.length = 0;
  const headers: Record<string, string> = { 'content-type': 'application/json', 'idempotency-key': 'walk-key-0123456789abcdef' };
  if (token) headers.authorization = `Bearer ${token}`;
  const event = {
    httpMethod: method,
    path: concrete(routePath),
    headers,
    body: method === 'GET' || method === 'DELETE' ? null : '{}',
    isBase64Encoded: false,
    queryStringParameters: null,
    requestContext: { identity: { sourceIp: '203.0.113.7' } },
  };
  const res = await handler(event as never, {} as Context);
  return { status: res.statusCode, contentType: res.headers['content-type'], calls: [...downstreamCalls] };
}

describe('the public route table', () => {
  it('declares an access level for every route', () => {
    expect(routes.length).toBeGreaterThan(20);
    for (const r of routes) expect([`${r.method} ${r.path}`, ['anyone', 'signedIn', 'admin'].includes(r.access)]).toEqual([`${r.method} ${r.path}`, true]);
  });

  it('keeps the sensitive routes behind the role the design names', () => {
    const access = Object.fromEntries(routes.map((r) => [`${r.method} ${r.path}`, r.access]));
    expect(access).toMatchObject({
      'PATCH /api/products/{id}': 'admin',
      'PATCH /api/products/{id}/stock': 'admin',
      'POST /api/chaos/rules': 'admin',
      'DELETE /api/chaos/rules': 'admin',
      'DELETE /api/chaos/rules/{id}': 'admin',
      'GET /api/ops/outbox': 'admin',
      'GET /api/ops/dlq': 'admin',
      'POST /api/ops/dlq/{queue}/redrive': 'admin',
      'POST /api/orders': 'signedIn',
      'GET /api/orders': 'signedIn',
      'GET /api/orders/{id}': 'signedIn',
      'GET /api/orders/{id}/trace': 'signedIn',
      'POST /api/orders/{id}/payment/cancel': 'signedIn',
      'GET /api/me': 'signedIn',
    });
  });
});

describe.each(routes.map((r) => [`${r.method} ${r.path}`, r] as const))('%s', (_name, r) => {
  it(`no token: ${r.access === 'anyone' ? 'let through' : '401 problem+json, no downstream call'}`, async () => {
    const res = await call(r.method, r.path);
    if (r.access === 'anyone') {
      expect([401, 403]).not.toContain(res.status);
    } else {
      expect(res.status).toBe(401);
      expect(res.contentType).toBe('application/problem+json');
      expect(res.calls).toEqual([]);
    }
  });

  it(`customer token: ${r.access === 'admin' ? '403 problem+json, no downstream call' : 'let through'}`, async () => {
    const res = await call(r.method, r.path, 'customer');
    if (r.access === 'admin') {
      expect(res.status).toBe(403);
      expect(res.contentType).toBe('application/problem+json');
      expect(res.calls).toEqual([]);
    } else {
      expect([401, 403]).not.toContain(res.status);
    }
  });

  it('admin token: let through', async () => {
    const res = await call(r.method, r.path, 'admin');
    expect([401, 403]).not.toContain(res.status);
  });
});
