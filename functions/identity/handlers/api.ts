import { bearerToken, FORWARDED_BEARER_HEADER } from '../../shared/auth';
import { redisReady } from '../../shared/redis';
import { json, parseJsonBody, route, type HttpRequest } from '../../shared/http';
import { serviceDb } from '../../shared/db';
import { serviceRuntime } from '../../shared/service';
import { PgUserRepo } from '../adapters/pg-users';
import { identityProblem } from '../adapters/problems';
import { VaultKeyStore } from '../adapters/vault-keys';
import { vaultClient } from '../../shared/vault';
import { AuthService, Credentials, LoginBody, RefreshBody } from '../core/auth-service';
import { KeyRing } from '../core/keys';
import { LoginLimiter, loginLimits } from '../core/rate-limit';
import { ACCESS_TOKEN_TTL_SEC } from '../core/tokens';

const runtime = serviceRuntime('identity', { postgres: serviceDb, redis: true });

let service: AuthService | undefined;
function auth(): AuthService {
  if (!service) {
    if (runtime.cfg.VAULT_AUTH === 'token' && !runtime.cfg.VAULT_TOKEN) throw new Error('VAULT_TOKEN is required for the signing keys');
    const keys = new KeyRing(new VaultKeyStore(vaultClient(runtime.cfg)), {
      accessTtlSec: ACCESS_TOKEN_TTL_SEC,
      cacheMs: 30_000,
    });
    const redis = runtime.redis();
    service = new AuthService({
      users: new PgUserRepo(runtime.db),
      keys,
      redis,
      limiter: new LoginLimiter(redis, loginLimits(runtime.cfg)),
      refreshTtlSec: runtime.cfg.REFRESH_TOKEN_TTL_SEC,
    });
  }
  return service;
}

/** The BFF forwards the browser's address; direct callers are identified by their own. */
const clientIp = (req: HttpRequest) => req.headers['x-client-ip'] || req.sourceIp;
const noStore = { 'cache-control': 'no-store' };

export const handler = runtime.api(
  [
    route('POST', '/auth/register', async (req) => {
      await auth().register(parseJsonBody(req, Credentials));
      return json(202, { status: 'accepted', detail: 'If this email was not registered yet, the account now exists: log in to continue' }, noStore);
    }),
    route('POST', '/auth/login', async (req) => json(200, await auth().login(parseJsonBody(req, LoginBody), clientIp(req)), noStore)),
    route('POST', '/auth/refresh', async (req) => json(200, await auth().refresh(parseJsonBody(req, RefreshBody).refreshToken), noStore)),
    route('POST', '/auth/logout', async (req) => {
      await auth().logout(bearerToken(req, FORWARDED_BEARER_HEADER));
      return { status: 204, headers: noStore };
    }),
    route('GET', '/me', async (req) => json(200, await auth().me(bearerToken(req, FORWARDED_BEARER_HEADER)), noStore)),
    route('GET', '/.well-known/jwks.json', async () =>
      json(200, await auth().jwks(), { 'cache-control': 'public, max-age=60', 'content-type': 'application/jwk-set+json' }),
    ),
  ],
  { beforeEach: async () => redisReady(runtime.redis()), toProblem: identityProblem },
);
