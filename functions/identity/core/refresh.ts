import { createHash, randomBytes } from 'node:crypto';
import type Redis from 'ioredis';
import { authKeys } from '../../shared/auth';

/**
 * Opaque refresh tokens, single-use, grouped in families (one family per login).
 *
 *   token            rt.<familyId>.<secret>
 *   identity:rt:<sha256(token)>       -> {"sub","fid"}  live, unused token
 *   identity:rt-used:<sha256(token)>  -> "1"            consumed token (kept to detect reuse)
 *   identity:rf:<familyId>            -> key of the family's one live token
 *   auth:denylist:sid:<familyId>      -> "1"            revoked family (verifiers read it too)
 *
 * Consuming is one Lua script: GETDEL the token, mark it used, check the family, store the
 * successor. Presenting a used token revokes the whole family (its live token included) and
 * also denylists the family's access tokens via `sid`. Redis only stores token hashes.
 */
export interface RefreshPayload {
  sub: string;
  fid: string;
}

export type ConsumeResult = { outcome: 'ok'; payload: RefreshPayload; token: string } | { outcome: 'reuse' | 'invalid' | 'revoked'; fid?: string };

const TOKEN_RE = /^rt\.([A-Za-z0-9_-]{16,64})\.([A-Za-z0-9_-]{32,128})$/;
const hash = (token: string) => createHash('sha256').update(token).digest('base64url');
export const refreshKeys = {
  token: (token: string) => `identity:rt:${hash(token)}`,
  used: (token: string) => `identity:rt-used:${hash(token)}`,
  family: (fid: string) => `identity:rf:${fid}`,
};

const CONSUME = `
local v = redis.call('GETDEL', KEYS[1])
if not v then
  if redis.call('EXISTS', KEYS[2]) == 1 then
    local cur = redis.call('GET', KEYS[3])
    if cur then redis.call('DEL', cur) end
    redis.call('DEL', KEYS[3])
    redis.call('SET', KEYS[4], '1', 'PX', ARGV[1])
    return {'reuse'}
  end
  return {'invalid'}
end
redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
if redis.call('EXISTS', KEYS[4]) == 1 then return {'revoked'} end
redis.call('SET', KEYS[5], v, 'PX', ARGV[1])
redis.call('SET', KEYS[3], KEYS[5], 'PX', ARGV[1])
return {'ok', v}
`;

const REVOKE = `
local cur = redis.call('GET', KEYS[1])
if cur then redis.call('DEL', cur) end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
return 1
`;

export const familyOf = (token: string): string | undefined => TOKEN_RE.exec(token)?.[1];

function newToken(fid: string): string {
  return `rt.${fid}.${randomBytes(32).toString('base64url')}`;
}

export class RefreshTokens {
  constructor(
    private readonly redis: Redis,
    private readonly ttlSec: number,
  ) {}

  /** Starts a family (a login session) with its first token. */
  async start(sub: string): Promise<{ token: string; fid: string }> {
    const fid = randomBytes(16).toString('base64url');
    const token = newToken(fid);
    const payload: RefreshPayload = { sub, fid };
    const ttlMs = this.ttlSec * 1000;
    await this.redis
      .multi()
      .set(refreshKeys.token(token), JSON.stringify(payload), 'PX', ttlMs)
      .set(refreshKeys.family(fid), refreshKeys.token(token), 'PX', ttlMs)
      .exec();
    return { token, fid };
  }

  /** Consumes a token atomically and, when it was live, issues its successor in the same step. */
  async consume(token: string): Promise<ConsumeResult> {
    const fid = familyOf(token);
    if (!fid) return { outcome: 'invalid' };
    const next = newToken(fid);
    const res = (await this.redis.eval(
      CONSUME,
      5,
      refreshKeys.token(token),
      refreshKeys.used(token),
      refreshKeys.family(fid),
      authKeys.revokedSession(fid),
      refreshKeys.token(next),
      String(this.ttlSec * 1000),
    )) as [string, string?];
    if (res[0] !== 'ok') return { outcome: res[0] as 'reuse' | 'invalid' | 'revoked', fid };
    return { outcome: 'ok', payload: JSON.parse(res[1]!) as RefreshPayload, token: next };
  }

  /** Revokes a family: its live token is deleted and its access tokens denylisted by `sid`. */
  async revokeFamily(fid: string): Promise<void> {
    await this.redis.eval(REVOKE, 2, refreshKeys.family(fid), authKeys.revokedSession(fid), String(this.ttlSec * 1000));
  }

  async isFamilyRevoked(fid: string): Promise<boolean> {
    return (await this.redis.exists(authKeys.revokedSession(fid))) === 1;
  }
}
