import type Redis from 'ioredis';
import type { Credentials } from './schemas';
import { assertNotRevoked, authKeys, TOKEN_REFUSED, verifyAccessJwt, type Principal, type Role } from '../../shared/auth';
import { IdentityError } from './errors';
import type { KeyRing } from './keys';
import { dummyVerify, hashPassword, verifyPassword } from './passwords';
import { LoginLimiter } from './rate-limit';
import { RefreshTokens } from './refresh';
import { ACCESS_TOKEN_TTL_SEC, issueAccessToken } from './tokens';

/** Identity's use cases, free of transport and AWS types: refusals are IdentityErrors (token checks are shared/auth.ts's problems, as every verifier answers). */
export interface UserRecord {
  id: string;
  email: string;
  passwordHash: string;
  roles: Role[];
  createdAt: Date;
}

export interface UserRepo {
  findByEmail(email: string): Promise<UserRecord | null>;
  findById(id: string): Promise<UserRecord | null>;
  /** Inserts unless the email exists; null when it did. */
  create(user: { email: string; passwordHash: string; roles: Role[] }): Promise<UserRecord | null>;
}

// The request schemas live in ./schemas (the BFF's OpenAPI description reads them too).
export { Credentials, LoginBody, RefreshBody } from './schemas';

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

export interface AuthServiceDeps {
  users: UserRepo;
  keys: KeyRing;
  redis: Redis;
  limiter?: LoginLimiter;
  refreshTtlSec?: number;
  accessTtlSec?: number;
  issuer?: string;
  audience?: string;
}

/** A week; the deployed handler passes config's REFRESH_TOKEN_TTL_SEC. */
export const DEFAULT_REFRESH_TTL_SEC = 7 * 24 * 3600;

const INVALID_CREDENTIALS = 'The email or password is incorrect';

export class AuthService {
  readonly refreshTokens: RefreshTokens;
  private readonly limiter: LoginLimiter;
  private readonly accessTtl: number;

  constructor(private readonly deps: AuthServiceDeps) {
    this.refreshTokens = new RefreshTokens(deps.redis, deps.refreshTtlSec ?? DEFAULT_REFRESH_TTL_SEC);
    this.limiter = deps.limiter ?? new LoginLimiter(deps.redis);
    this.accessTtl = deps.accessTtlSec ?? ACCESS_TOKEN_TTL_SEC;
  }

  /**
   * Creates a customer account. The answer is the same whether or not the email was taken
   * (and costs the same hashing work), so registration cannot be used to enumerate accounts.
   */
  async register(input: Credentials): Promise<void> {
    const passwordHash = await hashPassword(input.password);
    await this.deps.users.create({ email: input.email, passwordHash, roles: ['customer'] });
  }

  async login(input: { email: string; password: string }, ip: string): Promise<TokenPair> {
    await this.limiter.before(input.email, ip);
    const user = await this.deps.users.findByEmail(input.email);
    const ok = user ? await verifyPassword(input.password, user.passwordHash) : await dummyVerify(input.password);
    if (!user || !ok) {
      await this.limiter.failed(input.email);
      throw new IdentityError('unauthorized', INVALID_CREDENTIALS);
    }
    const { token, fid } = await this.refreshTokens.start(user.id);
    return this.pair(user, fid, token);
  }

  /** Single-use rotation; reuse of a consumed token revokes the family. */
  async refresh(refreshToken: string): Promise<TokenPair> {
    const res = await this.refreshTokens.consume(refreshToken);
    if (res.outcome !== 'ok') {
      throw new IdentityError(
        'unauthorized',
        res.outcome === 'reuse' ? 'The refresh token was already used; the session has been revoked, log in again' : 'The refresh token is invalid, expired or revoked',
      );
    }
    const user = await this.deps.users.findById(res.payload.sub);
    if (!user) {
      await this.refreshTokens.revokeFamily(res.payload.fid);
      throw new IdentityError('unauthorized', 'The refresh token is invalid, expired or revoked');
    }
    return this.pair(user, res.payload.fid, res.token);
  }

  /** Verifies a bearer token against the ring's own keys and the denylist. */
  async authenticate(accessToken: string): Promise<Principal> {
    const principal = await verifyAccessJwt(accessToken, await this.deps.keys.verificationKeys(), {
      issuer: this.deps.issuer,
      audience: this.deps.audience,
    });
    await assertNotRevoked(this.deps.redis, principal);
    return principal;
  }

  /** Denylists the access token until its exp and revokes its refresh family. */
  async logout(accessToken: string): Promise<void> {
    const p = await this.authenticate(accessToken);
    const ttlMs = Math.max(1000, p.exp * 1000 - Date.now() + 60_000);
    await this.deps.redis.set(authKeys.deniedJti(p.jti), '1', 'PX', ttlMs);
    if (p.sid) await this.refreshTokens.revokeFamily(p.sid);
  }

  async me(accessToken: string): Promise<{ id: string; email: string; roles: Role[]; createdAt: string }> {
    const p = await this.authenticate(accessToken);
    const user = await this.deps.users.findById(p.sub);
    if (!user) throw new IdentityError('unauthorized', TOKEN_REFUSED);
    return { id: user.id, email: user.email, roles: user.roles, createdAt: user.createdAt.toISOString() };
  }

  async jwks() {
    return this.deps.keys.jwks();
  }

  private async pair(user: UserRecord, fid: string, refreshToken: string): Promise<TokenPair> {
    const access = await issueAccessToken(
      this.deps.keys,
      { sub: user.id, roles: user.roles, sid: fid },
      { issuer: this.deps.issuer, audience: this.deps.audience, ttlSec: this.accessTtl },
    );
    return { accessToken: access.token, refreshToken, tokenType: 'Bearer', expiresIn: this.accessTtl };
  }
}
