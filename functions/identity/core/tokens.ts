import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { ACCESS_TOKEN_ALG, ACCESS_TOKEN_TYP, JWT_AUDIENCE, JWT_ISSUER, type Role } from '../../shared/auth';
import type { KeyRing } from './keys';

/** The OAuth client the tokens are issued to: this system's own storefront and API. */
export const ACCESS_TOKEN_CLIENT_ID = 'checkout-mesh-web';

export const ACCESS_TOKEN_TTL_SEC = 15 * 60;

export interface AccessTokenClaims {
  sub: string;
  roles: Role[];
  /** The refresh family (login session). */
  sid: string;
}

export interface IssuedAccessToken {
  token: string;
  jti: string;
  kid: string;
  /** Epoch seconds. */
  exp: number;
}

/** Signs an ES256 access token with the ring's current key; `kid` in the header. */
export async function issueAccessToken(
  ring: KeyRing,
  claims: AccessTokenClaims,
  opts: { issuer?: string; audience?: string; ttlSec?: number; now?: number } = {},
): Promise<IssuedAccessToken> {
  const { kid, key } = await ring.signingKey();
  const iat = Math.floor((opts.now ?? Date.now()) / 1000);
  const exp = iat + (opts.ttlSec ?? ACCESS_TOKEN_TTL_SEC);
  const jti = randomUUID();
  // RFC 9068 (at+jwt) requires client_id beside iss, exp, aud, sub, iat and jti.
  const token = await new SignJWT({ roles: claims.roles, sid: claims.sid, client_id: ACCESS_TOKEN_CLIENT_ID })
    .setProtectedHeader({ alg: ACCESS_TOKEN_ALG, kid, typ: ACCESS_TOKEN_TYP })
    .setIssuer(opts.issuer ?? JWT_ISSUER)
    .setAudience(opts.audience ?? JWT_AUDIENCE)
    .setSubject(claims.sub)
    .setJti(jti)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(key);
  return { token, jti, kid, exp };
}
