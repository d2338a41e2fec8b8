import { createHash } from 'node:crypto';
import type Redis from 'ioredis';
import { HttpProblem } from '../../shared/problem';

/**
 * Login throttling in Redis with fixed windows:
 * - per client IP: every attempt counts (slows credential stuffing across accounts);
 * - per account: failed attempts count (slows guessing one account's password).
 * Over either limit the login answers 429 problem+json with Retry-After, before any
 * password check, whether or not the account exists.
 */
export interface Window {
  limit: number;
  windowSec: number;
}

export interface LoginLimits {
  perIp: Window;
  perAccount: Window;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = {
  perIp: { limit: Number(process.env.LOGIN_MAX_PER_IP ?? 1000), windowSec: 300 },
  perAccount: { limit: Number(process.env.LOGIN_MAX_FAILURES_PER_ACCOUNT ?? 10), windowSec: 900 },
};

// INCR and set the window's expiry on the first hit; returns {count, pttl}.
const HIT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}
`;

const digest = (s: string) => createHash('sha256').update(s).digest('base64url').slice(0, 32);
export const limitKeys = {
  ip: (ip: string) => `identity:login:ip:${digest(ip || 'unknown')}`,
  account: (email: string) => `identity:login:acct:${digest(email)}`,
};

/** 429 with Retry-After and the IETF RateLimit-Policy / RateLimit headers (draft 08 syntax). */
const tooMany = (name: string, w: Window, pttl: number) => {
  const retryAfter = Math.max(1, Math.ceil(pttl / 1000));
  return new HttpProblem(429, 'rateLimited', 'Too many login attempts; try again later', {
    headers: {
      'retry-after': String(retryAfter),
      'ratelimit-policy': `"${name}";q=${w.limit};w=${w.windowSec}`,
      ratelimit: `"${name}";r=0;t=${retryAfter}`,
    },
  });
};

export class LoginLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly limits: LoginLimits = DEFAULT_LOGIN_LIMITS,
  ) {}

  private async hit(key: string, w: Window): Promise<{ count: number; pttl: number }> {
    const [count, pttl] = (await this.redis.eval(HIT, 1, key, String(w.windowSec * 1000))) as [number, number];
    return { count, pttl };
  }

  /** Counts the attempt against the IP and checks the account; throws 429 when over a limit. */
  async before(email: string, ip: string): Promise<void> {
    const ipHit = await this.hit(limitKeys.ip(ip), this.limits.perIp);
    if (ipHit.count > this.limits.perIp.limit) throw tooMany('login-ip', this.limits.perIp, ipHit.pttl);
    const key = limitKeys.account(email);
    const [failures, pttl] = await this.redis.multi().get(key).pttl(key).exec().then((r) => [Number(r?.[0]?.[1] ?? 0), Number(r?.[1]?.[1] ?? -1)]);
    if (failures >= this.limits.perAccount.limit) {
      throw tooMany('login-account', this.limits.perAccount, pttl > 0 ? pttl : this.limits.perAccount.windowSec * 1000);
    }
  }

  async failed(email: string): Promise<void> {
    await this.hit(limitKeys.account(email), this.limits.perAccount);
  }
}
