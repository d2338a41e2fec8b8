import { verifier } from '../../shared/auth';
import type { HttpRequest } from '../../shared/http';
import { logger } from '../../shared/logger';

/**
 * Who is calling, for rate limits and Idempotency-Key scoping: `user:<sub>` when an
 * Authorization bearer verifies (shared/auth, JWKS from identity), else `ip:<source ip>`.
 * A bad token is not an error here (the route itself decides whether it needs auth).
 * Resolved once per request.
 */
export type ClientResolver = (req: HttpRequest) => Promise<string>;

const cache = new WeakMap<HttpRequest, Promise<string>>();

const verifyBearer = (token: string): Promise<{ sub: string }> => verifier().verify(token);

export const ipOf = (req: HttpRequest) => `ip:${req.sourceIp || 'unknown'}`;

export const resolveClient: ClientResolver = (req) => {
  let p = cache.get(req);
  if (!p) {
    p = (async () => {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
      if (!m) return ipOf(req);
      try {
        const principal = await verifyBearer(m[1]);
        return `user:${principal.sub}`;
      } catch (err) {
        logger.debug('bearer did not verify; client is the source IP', { error: (err as Error).message });
        return ipOf(req);
      }
    })();
    cache.set(req, p);
  }
  return p;
};
