import { config, type Config } from './config';
import { serviceDb, type LeasedPool } from './db';
import { serviceRedis } from './redis';
import { type Check, runChecks } from './health';
import { json, route, type HttpMiddleware, type HttpRequest, type Route } from './http';
import { iamCallers } from './iam-caller';
import { chaosMiddlewares } from './chaos';
import type Redis from 'ioredis';

/**
 * What every service Lambda has: its configuration, its Vault-leased Postgres pool,
 * its Redis client, and a /health route that reports each dependency.
 */
export interface ServiceRuntime {
  name: string;
  cfg: Config;
  db: () => LeasedPool;
  redis: () => Redis;
  healthRoute: Route;
  /** Per-invocation hook: refresh the database lease when it is due. */
  beforeEach: () => Promise<void>;
  /** Refuses calls without a verified IAM principal; believes identity headers only from the BFF. */
  middlewares: HttpMiddleware[];
}

export function serviceRuntime(
  name: string,
  deps: {
    postgres?: boolean;
    redis?: boolean;
    extraChecks?: Record<string, Check>;
    /** Routes authenticated another way than IAM (provider webhooks through the public API). */
    openRoutes?: (req: HttpRequest) => boolean;
  } = {},
): ServiceRuntime {
  const cfg = config();
  const db = () => serviceDb(cfg);
  const redis = () => serviceRedis(cfg.REDIS_URL);
  const checks: Record<string, Check> = { ...(deps.extraChecks ?? {}) };
  if (deps.postgres) {
    checks.postgres = async () => {
      const { rows } = await db().query<{ user: string; schema: string }>(
        'SELECT current_user AS user, current_schema() AS schema',
      );
      return { user: rows[0].user, schema: rows[0].schema, leaseExpiresAt: new Date(db().leaseExpiresAt ?? 0).toISOString() };
    };
  }
  if (deps.redis) {
    checks.redis = async () => {
      const pong = await redis().ping();
      if (pong !== 'PONG') throw new Error(`unexpected PING reply ${pong}`);
    };
  }
  const healthRoute = route('GET', '/health', async () => {
    const report = await runChecks(name, checks);
    return json(report.status === 'up' ? 200 : 503, report, { 'cache-control': 'no-store' });
  });
  const beforeEach = async () => {
    if (deps.postgres) await db().ensureFresh();
  };
  // Chaos first (it tests the callers' resilience), then the IAM caller check.
  const middlewares = [...chaosMiddlewares(cfg), iamCallers({ trustedRoles: cfg.TRUSTED_CALLER_ROLES, open: deps.openRoutes })];
  return { name, cfg, db, redis, healthRoute, beforeEach, middlewares };
}
