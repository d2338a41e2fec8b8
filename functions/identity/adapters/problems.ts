import { unauthorized } from '../../shared/auth';
import { HttpProblem } from '../../shared/problem';
import { IdentityError } from '../core/errors';

/**
 * Identity's refusals over HTTP (docs/identity.md): 401 with `WWW-Authenticate` (as every
 * verifier answers), 429 with Retry-After and the IETF RateLimit-Policy / RateLimit headers.
 */
export function identityProblem(err: unknown): HttpProblem | undefined {
  if (!(err instanceof IdentityError)) return undefined;
  if (err.code === 'unauthorized' || !err.throttle) return unauthorized(err.message);
  const { policy, limit, windowSec, retryAfterSec } = err.throttle;
  return new HttpProblem(429, 'rateLimited', err.message, {
    headers: {
      'retry-after': String(retryAfterSec),
      'ratelimit-policy': `"${policy}";q=${limit};w=${windowSec}`,
      ratelimit: `"${policy}";r=0;t=${retryAfterSec}`,
    },
  });
}
