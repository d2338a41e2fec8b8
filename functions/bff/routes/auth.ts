import { FORWARDED_BEARER_HEADER } from '../../shared/auth';
import { config } from '../../shared/config';
import type { HttpRequest, HttpResult } from '../../shared/http';
import { publicRoute, type PublicRoute } from '../access';
import { HttpProblem } from '../../shared/problem';
import { ServiceClient } from '../../shared/service-client';

/**
 * The public auth surface. Register, login, refresh and logout are passed to identity
 * (which owns the checks); /api/me is verified here first (JWKS, iss/aud/exp, ES256 only,
 * denylist) like any protected route, then answered by identity.
 */
const PASS_HEADERS = ['content-type', 'cache-control', 'retry-after', 'www-authenticate', 'ratelimit', 'ratelimit-policy'];

export function authRoutes(): PublicRoute[] {
  let client: ServiceClient | undefined;
  const identity = () => (client ??= ServiceClient.fromConfig('identity', config()));

  const forward = (method: string, upstreamPath: string) => async (req: HttpRequest): Promise<HttpResult> => {
    const headers: Record<string, string> = { 'x-client-ip': req.sourceIp };
    if (req.headers['content-type']) headers['content-type'] = req.headers['content-type'];
    // Authorization is the BFF's own SigV4 signature on this hop; the user's token rides beside it.
    if (req.headers.authorization) headers[FORWARDED_BEARER_HEADER] = req.headers.authorization;
    let res;
    try {
      res = await identity().call(method, upstreamPath, {
        headers,
        body: method === 'GET' ? undefined : req.rawBody.toString('utf8'),
        correlationId: req.correlationId,
        // Room for an identity cold start (Vault lease, pool, scrypt) within the BFF's 29 s.
        timeoutMs: 10_000,
      });
    } catch (err) {
      const timeout = (err as Error).name === 'TimeoutError';
      throw new HttpProblem(timeout ? 504 : 502, timeout ? 'upstreamTimeout' : 'upstreamUnavailable', 'The identity service did not answer');
    }
    const out: Record<string, string> = {};
    for (const h of PASS_HEADERS) {
      const v = res.headers.get(h);
      if (v) out[h] = v;
    }
    let body: string | undefined = res.body || undefined;
    // Problems name the public path as their instance, not identity's internal one.
    if (body && out['content-type']?.startsWith('application/problem+json')) {
      try {
        body = JSON.stringify({ ...JSON.parse(body), instance: req.path });
      } catch {
        /* pass it on as it is */
      }
    }
    return { status: res.status, headers: out, body };
  };

  return [
    publicRoute('POST', '/api/auth/register', 'anyone', forward('POST', '/auth/register')),
    publicRoute('POST', '/api/auth/login', 'anyone', forward('POST', '/auth/login')),
    publicRoute('POST', '/api/auth/refresh', 'anyone', forward('POST', '/auth/refresh')),
    // Identity revokes what the tokens in the body/header name; no valid access token needed to end a session.
    publicRoute('POST', '/api/auth/logout', 'anyone', forward('POST', '/auth/logout')),
    publicRoute('GET', '/api/me', 'signedIn', forward('GET', '/me')),
    publicRoute('GET', '/.well-known/jwks.json', 'anyone', forward('GET', '/.well-known/jwks.json')),
  ];
}
