import { createRemoteJWKSet, customFetch, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type Redis from 'ioredis';
import { config, tokenConfig } from './config';
import type { HttpRequest } from './http';
import { HttpProblem } from './problem';
import { redisReady, serviceRedis } from './redis';
import { ServiceClient } from './service-client';
import { executeApiSigner, type RequestSigner } from './sigv4';

/**
 * Access-token verification shared by the BFF (remote JWKS) and identity (local key ring).
 *
 * A token is accepted only when: its header says ES256 (nothing else is on the allow-list,
 * so `none`, HS256-with-the-public-key and RS/ES confusion all fail), its `kid` resolves to
 * a published key, the signature verifies, `iss`, `aud` and `exp` match, and neither its
 * `jti` nor its session (refresh family, `sid`) is on the Redis denylist. Anything else is
 * 401 problem+json with a uniform detail.
 */
export const ACCESS_TOKEN_ALG = 'ES256';
export const ACCESS_TOKEN_TYP = 'at+jwt';
/** Read at import (identity's signer and every verifier agree on them); malformed stops the cold start. */
const tokens = tokenConfig();
export const JWT_ISSUER = tokens.JWT_ISSUER;
export const JWT_AUDIENCE = tokens.JWT_AUDIENCE;
export const CLOCK_TOLERANCE_SEC = 5;
/**
 * Nothing we issue lives longer than 15 minutes (identity's ACCESS_TOKEN_TTL_SEC). A token
 * issued in the future, older than that, or whose exp is further from its iat is refused even
 * with a valid signature: a leaked or mis-issued token cannot be made long-lived.
 */
export const ACCESS_TOKEN_MAX_LIFETIME_SEC = tokens.ACCESS_TOKEN_MAX_LIFETIME_SEC;
/** Our tokens are ~600 bytes; a huge one is an attack on the verifier (parsing, hashing). */
export const MAX_BEARER_LENGTH = 4096;
export type Role = 'customer' | 'admin';

/** Redis keys both identity (writer) and every verifier (reader) use. */
export const authKeys = {
  /** Set on logout until the access token's `exp`. */
  deniedJti: (jti: string) => `auth:denylist:jti:${jti}`,
  /** Set when a refresh family (a login session) is revoked: logout or refresh-token reuse. */
  revokedSession: (sid: string) => `auth:denylist:sid:${sid}`,
};

export interface Principal {
  sub: string;
  roles: Role[];
  jti: string;
  /** The refresh family (login session) the token belongs to. */
  sid?: string;
  /** Expiry, epoch seconds. */
  exp: number;
}

/** The one detail every refused access token gets (which check failed is not told). */
export const TOKEN_REFUSED = 'The access token is missing, invalid, expired or revoked';

export const unauthorized = (detail = TOKEN_REFUSED) => new HttpProblem(401, 'unauthorized', detail, { headers: { 'www-authenticate': 'Bearer error="invalid_token"' } });

/**
 * Between the BFF and identity the user's `Authorization: Bearer …` travels as this header:
 * `Authorization` itself carries the BFF's SigV4 signature (the service APIs are IAM-authorized).
 */
export const FORWARDED_BEARER_HEADER = 'x-user-authorization';

/** The bearer token of a request, or a 401 (`from`: the header that carries it). */
export function bearerToken(req: Pick<HttpRequest, 'headers'>, from: 'authorization' | typeof FORWARDED_BEARER_HEADER = 'authorization'): string {
  const header = req.headers[from] ?? '';
  const m = /^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(header);
  if (m && m[1].length > MAX_BEARER_LENGTH) throw unauthorized();
  if (!m)
    throw new HttpProblem(401, 'unauthorized', 'Send the access token as "Authorization: Bearer <token>"', {
      headers: { 'www-authenticate': 'Bearer' },
    });
  return m[1];
}

export interface VerifyOptions {
  issuer?: string;
  audience?: string;
  /** The verifier's clock (tests that simulate time); default now. */
  currentDate?: Date;
}

/** Signature and claims only (no denylist): 401 on any failure. */
export async function verifyAccessJwt(token: string, keys: JWTVerifyGetKey, opts: VerifyOptions = {}): Promise<Principal> {
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, keys, {
      algorithms: [ACCESS_TOKEN_ALG],
      issuer: opts.issuer ?? JWT_ISSUER,
      audience: opts.audience ?? JWT_AUDIENCE,
      typ: ACCESS_TOKEN_TYP,
      requiredClaims: ['exp', 'iat', 'sub', 'jti'],
      clockTolerance: CLOCK_TOLERANCE_SEC,
      // Refuses an iat in the future or older than the longest lifetime we issue.
      maxTokenAge: ACCESS_TOKEN_MAX_LIFETIME_SEC,
      ...(opts.currentDate ? { currentDate: opts.currentDate } : {}),
    }));
  } catch (err) {
    // The key set could not be fetched (identity slow or down): not the caller's fault, and
    // a 401 would log them out. Everything else is a bad token.
    if (keySetUnavailable(err)) {
      throw new HttpProblem(503, 'dependencyDown', 'The signing keys are unavailable; try again shortly', { headers: { 'retry-after': '1' } });
    }
    throw unauthorized();
  }
  const roles = payload.roles;
  if (
    typeof payload.sub !== 'string' ||
    typeof payload.jti !== 'string' ||
    typeof payload.exp !== 'number' ||
    typeof payload.iat !== 'number' ||
    payload.exp - payload.iat > ACCESS_TOKEN_MAX_LIFETIME_SEC + CLOCK_TOLERANCE_SEC ||
    !Array.isArray(roles) ||
    !roles.every((r) => r === 'customer' || r === 'admin')
  ) {
    throw unauthorized();
  }
  return {
    sub: payload.sub,
    roles: roles as Role[],
    jti: payload.jti,
    exp: payload.exp,
    ...(typeof payload.sid === 'string' ? { sid: payload.sid } : {}),
  };
}

const KEY_SET_UNAVAILABLE = new Set(['ERR_JWKS_TIMEOUT', 'ERR_JOSE_GENERIC']);
function keySetUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  // jose's own errors carry a code; a network failure of the JWKS fetch surfaces as a plain error.
  if (typeof code === 'string') return KEY_SET_UNAVAILABLE.has(code);
  return err instanceof TypeError && /fetch failed/i.test(err.message);
}

/** 401 when the token's jti or session was revoked; 503 when the denylist cannot be read (fail closed). */
export async function assertNotRevoked(redis: Pick<Redis, 'exists'>, p: Principal): Promise<void> {
  let revoked: number;
  try {
    await redisReady(redis);
    const keys = [authKeys.deniedJti(p.jti), ...(p.sid ? [authKeys.revokedSession(p.sid)] : [])];
    revoked = await redis.exists(...keys);
  } catch {
    throw new HttpProblem(503, 'dependencyDown', 'The token denylist is unavailable; try again shortly', {
      headers: { 'retry-after': '1' },
    });
  }
  if (revoked > 0) throw unauthorized();
}

export interface AccessTokenVerifier {
  verify(token: string): Promise<Principal>;
}

/**
 * A verifier on a remote JWKS. jose caches the set, refetches it when a token names an
 * unknown `kid` (at most once per cooldown) and when the cache ages out.
 */
export function createVerifier(opts: {
  jwksUrl: string | URL;
  redis: () => Pick<Redis, 'exists'>;
  issuer?: string;
  audience?: string;
  cooldownMs?: number;
  /** Signs the JWKS fetch (identity's API is IAM-authorized like every service API). */
  signer?: RequestSigner;
}): AccessTokenVerifier {
  const { signer } = opts;
  const jwks = createRemoteJWKSet(new URL(opts.jwksUrl), {
    timeoutDuration: 5000,
    cooldownDuration: opts.cooldownMs ?? 10_000,
    cacheMaxAge: 10 * 60_000,
    ...(signer
      ? {
          [customFetch]: async (url: string, init: { headers: Headers; method: 'GET'; redirect: 'manual'; signal: AbortSignal }) => {
            const plain: Record<string, string> = {};
            init.headers.forEach((value, name) => (plain[name] = value));
            const headers = await signer({ method: init.method, url, headers: plain });
            return fetch(url, { ...init, headers });
          },
        }
      : {}),
  });
  return {
    async verify(token) {
      const principal = await verifyAccessJwt(token, jwks, opts);
      await assertNotRevoked(opts.redis(), principal);
      return principal;
    },
  };
}

let defaultVerifier: AccessTokenVerifier | undefined;

/** The identity service's JWKS URL: JWKS_URL, or the identity API from SERVICE_APIS. */
export function identityJwksUrl(): string {
  if (tokens.JWKS_URL) return tokens.JWKS_URL;
  return `${ServiceClient.fromConfig('identity', config()).baseUrl}/.well-known/jwks.json`;
}

export function verifier(): AccessTokenVerifier {
  defaultVerifier ??= createVerifier({
    jwksUrl: identityJwksUrl(),
    redis: () => serviceRedis(config().REDIS_URL),
    signer: executeApiSigner(config().AWS_REGION),
  });
  return defaultVerifier;
}

/** For tests: use another verifier (or reset to the default with undefined). */
export function setVerifier(v: AccessTokenVerifier | undefined): void {
  defaultVerifier = v;
}

/** The caller's principal, or 401 problem+json. */
export async function requireAuth(req: Pick<HttpRequest, 'headers'>): Promise<Principal> {
  const token = bearerToken(req);
  return verifier().verify(token);
}

/** 403 problem+json unless the principal has the role. */
export function requireRole(principal: Principal, role: Role): Principal {
  if (!principal.roles.includes(role)) throw new HttpProblem(403, 'forbidden', `This action needs the "${role}" role`);
  return principal;
}
