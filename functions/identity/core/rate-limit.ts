import { createHash } from 'node:crypto';
import type Redis from 'ioredis';
// Each class from its own module, not the package index (which loads every limiter): see rate-limiter-flexible.d.ts.
import RateLimiterRedis from 'rate-limiter-flexible/lib/RateLimiterRedis';
import RateLimiterRes from 'rate-limiter-flexible/lib/RateLimiterRes';
import type { Config } from '../../shared/config';
import { IdentityError } from './errors';

/**
 * Login throttling in Redis, rate-limiter-flexible's brute-force protection recipe with
 * fixed windows:
 * - per client IP: every attempt consumes a point (slows credential stuffing across accounts);
 * - per account: each failed attempt is a penalty point (slows guessing one account's password);
 *   the account's count is only read before the password check.
 * Over either limit the login is refused (tooManyLogins: the handler's 429 with Retry-After) before
 * any password check, whether or not the account exists.
 */
export interface Window {
  limit: number;
  windowSec: number;
}

export interface LoginLimits {
  perIp: Window;
  perAccount: Window;
}

/** The limits from the validated environment (LOGIN_* in functions/shared/config.ts). */
export const loginLimits = (
  cfg: Pick<Config, 'LOGIN_MAX_PER_IP' | 'LOGIN_IP_WINDOW_SEC' | 'LOGIN_MAX_FAILURES_PER_ACCOUNT' | 'LOGIN_ACCOUNT_WINDOW_SEC'>,
): LoginLimits => ({
  perIp: { limit: cfg.LOGIN_MAX_PER_IP, windowSec: cfg.LOGIN_IP_WINDOW_SEC },
  perAccount: { limit: cfg.LOGIN_MAX_FAILURES_PER_ACCOUNT, windowSec: cfg.LOGIN_ACCOUNT_WINDOW_SEC },
});

// Emails and IPs are hashed into the key: Redis holds no personal data, and keys have one length.
const digest = (s: string) => createHash('sha256').update(s).digest('base64url').slice(0, 32);

/** The refusal, with what the handler's 429 tells the client (adapters/problems.ts). */
const tooMany = (policy: 'login-ip' | 'login-account', w: Window, msBeforeNext: number) =>
  new IdentityError('tooManyLogins', 'Too many login attempts; try again later', {
    policy,
    limit: w.limit,
    windowSec: w.windowSec,
    retryAfterSec: Math.max(1, Math.ceil(msBeforeNext / 1000)),
  });

export class LoginLimiter {
  private readonly byIp: RateLimiterRedis;
  private readonly byAccount: RateLimiterRedis;

  /** Without limits: the schema's defaults (1000 per IP / 5 min, 10 failures per account / 15 min). */
  constructor(
    redis: Redis,
    private readonly limits: LoginLimits = { perIp: { limit: 1000, windowSec: 300 }, perAccount: { limit: 10, windowSec: 900 } },
  ) {
    // Key names as before (`identity:login:ip:<digest>`): counters survive the switch.
    this.byIp = new RateLimiterRedis({ storeClient: redis, keyPrefix: 'identity:login:ip', points: limits.perIp.limit, duration: limits.perIp.windowSec });
    this.byAccount = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: 'identity:login:acct',
      points: limits.perAccount.limit,
      duration: limits.perAccount.windowSec,
    });
  }

  /** Counts the attempt against the IP and checks the account; throws tooManyLogins when over a limit. */
  async before(email: string, ip: string): Promise<void> {
    try {
      await this.byIp.consume(digest(ip || 'unknown'));
    } catch (rejection) {
      // consume rejects with a RateLimiterRes when over the limit, with an Error when Redis fails
      // (that stays an error: a login must not pass unthrottled because Redis is down).
      if (rejection instanceof RateLimiterRes) throw tooMany('login-ip', this.limits.perIp, rejection.msBeforeNext);
      throw rejection;
    }
    const account = await this.byAccount.get(digest(email));
    if (account && account.consumedPoints >= this.limits.perAccount.limit) {
      throw tooMany('login-account', this.limits.perAccount, account.msBeforeNext > 0 ? account.msBeforeNext : this.limits.perAccount.windowSec * 1000);
    }
  }

  /** A failed password check: one penalty point on the account (penalty never rejects). */
  async failed(email: string): Promise<void> {
    await this.byAccount.penalty(digest(email));
  }
}
