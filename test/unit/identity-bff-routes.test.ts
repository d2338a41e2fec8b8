import type { Context } from 'aws-lambda';
import { setVerifier, unauthorized } from '../../functions/shared/auth';
import { resetConfigCache } from '../../functions/shared/config';
import { httpApi } from '../../functions/shared/http';
import { restEvent } from '../support/api-events';

/** The BFF's auth routes with identity stubbed out (fetch) and a stub verifier. */
process.env.SERVICE_NAME = 'bff';
process.env.SERVICE_APIS = JSON.stringify({ identity: { apiId: 'idapi', stage: '$default' } });
process.env.AWS_ENDPOINT_URL = 'http://emulator.test';
resetConfigCache();
// require, not import: the environment above must be in place before the routes' modules load.
const { authRoutes } = require('../../functions/bff/routes/auth') as typeof import('../../functions/bff/routes/auth');

const handler = httpApi(authRoutes());
const event = (method: string, path: string, headers: Record<string, string> = {}, body?: string) => restEvent(method, path, { headers, body, sourceIp: '203.0.113.9' });

const calls: { url: string; init: RequestInit }[] = [];
const realFetch = global.fetch;
beforeEach(() => {
  calls.length = 0;
  global.fetch = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    if (url.endsWith('/auth/login')) {
      return new Response(JSON.stringify({ type: 'x', status: 429, instance: '/auth/login' }), {
        status: 429,
        headers: { 'content-type': 'application/problem+json', 'retry-after': '7', 'x-secret': 'no' },
      });
    }
    return new Response(JSON.stringify({ ok: true }), { status: 200, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
});
afterAll(() => {
  global.fetch = realFetch;
  setVerifier(undefined);
});

describe('BFF auth routes', () => {
  it('forwards login with the client IP and passes status, Retry-After and the public instance back', async () => {
    const res = await handler(event('POST', '/api/auth/login', { 'content-type': 'application/json' }, '{"email":"a@b.c","password":"x"}'), {} as Context);
    expect(calls[0].url).toBe('http://emulator.test/_aws/execute-api/idapi/auth/login');
    expect((calls[0].init.headers as Record<string, string>)['x-client-ip']).toBe('203.0.113.9');
    expect(calls[0].init.body).toBe('{"email":"a@b.c","password":"x"}');
    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toBe('7');
    expect(res.headers['x-secret']).toBeUndefined();
    expect(JSON.parse(res.body).instance).toBe('/api/auth/login');
  });

  it('verifies /api/me at the BFF before calling identity', async () => {
    setVerifier({
      verify: async () => {
        throw unauthorized();
      },
    });
    const denied = await handler(event('GET', '/api/me', { authorization: 'Bearer a.b.c' }), {} as Context);
    expect(denied.statusCode).toBe(401);
    expect(denied.headers['content-type']).toBe('application/problem+json');
    expect(calls).toHaveLength(0);

    setVerifier({ verify: async () => ({ sub: 'u', roles: ['customer'], jti: 'j', exp: 0 }) });
    const ok = await handler(event('GET', '/api/me', { authorization: 'Bearer a.b.c' }), {} as Context);
    expect(ok.statusCode).toBe(200);
    expect(calls[0].url).toBe('http://emulator.test/_aws/execute-api/idapi/me');
    expect((calls[0].init.headers as Record<string, string>)['x-user-authorization']).toBe('Bearer a.b.c');
    // The hop itself is SigV4-signed (identity's API is IAM-authorized).
    expect((calls[0].init.headers as Record<string, string>).authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=test\/\d{8}\/us-east-1\/execute-api\/aws4_request, SignedHeaders=.*x-user-authorization/,
    );
  });

  it('answers 401 for /api/me without a bearer token', async () => {
    setVerifier(undefined);
    const res = await handler(event('GET', '/api/me'), {} as Context);
    expect(res.statusCode).toBe(401);
    expect(calls).toHaveLength(0);
  });
});
