import { FORWARDED_BEARER_HEADER } from '../../shared/auth';
import type { HttpRequest } from '../../shared/http';
import { publicRoute, type PublicRoute } from '../access';
import { proxyTo } from '../proxy';

/**
 * The public auth surface. Register, login, refresh and logout are passed to identity
 * (which owns the checks); /api/me is verified here first (JWKS, iss/aud/exp, ES256 only,
 * denylist) like any protected route, then answered by identity.
 */
const PASS_HEADERS = ['content-type', 'cache-control', 'retry-after', 'www-authenticate', 'ratelimit', 'ratelimit-policy'];

/** Identity throttles logins per client IP, and reads the user's own token beside our signature. */
function identityHeaders(req: HttpRequest): Record<string, string> {
  const headers: Record<string, string> = { 'x-client-ip': req.sourceIp };
  // Authorization is the BFF's own SigV4 signature on this hop; the user's token rides beside it.
  if (req.headers.authorization) headers[FORWARDED_BEARER_HEADER] = req.headers.authorization;
  return headers;
}

export function authRoutes(): PublicRoute[] {
  // Writes get the write budget (10 s): an identity cold start leases Vault credentials and
  // opens a pool, and a password check runs scrypt. Reads (/me, JWKS) get the read budget.
  const forward = (path: string) => proxyTo('identity', { path, extraHeaders: identityHeaders, responseHeaders: PASS_HEADERS, publicInstance: true });
  return [
    publicRoute('POST', '/api/auth/register', 'anyone', forward('/auth/register')),
    publicRoute('POST', '/api/auth/login', 'anyone', forward('/auth/login')),
    publicRoute('POST', '/api/auth/refresh', 'anyone', forward('/auth/refresh')),
    // Identity revokes what the tokens in the body/header name; no valid access token needed to end a session.
    publicRoute('POST', '/api/auth/logout', 'anyone', forward('/auth/logout')),
    publicRoute('GET', '/api/me', 'signedIn', forward('/me')),
    publicRoute('GET', '/.well-known/jwks.json', 'anyone', forward('/.well-known/jwks.json')),
  ];
}
