import { config, type Config } from './config';
import type { LeasedPool } from './db';
import { serviceRedis } from './redis';
import { type Check, runChecks } from './health';
import { httpApi, json, route, type HttpApiOptions, type HttpRequest, type Route } from './http';
import { iamCallers } from './iam-caller';
import { chaosMiddlewares } from './chaos';
import type Redis from 'ioredis';

/**
 * What every service Lambda has: its configuration, its Vault-leased Postgres pool (when it has a
 * database), its Redis client, and one way to build its HTTP handler.
 */
export interface ServiceRuntime {
  name: string;
  cfg: Config;
  /** The Vault-leased pool; throws for a service created without `postgres`. */
  db: () => LeasedPool;
  redis: () => Redis;
  /**
   * The service's HTTP handler: a /health route reporting each dependency, then `routes`; chaos
   * first, then the IAM caller check (no verified principal: refused; identity headers believed
   * only from the BFF); the per-invocation hook (the database lease refreshed when it is due, then
   * `opts.beforeEach`); the core's error mapping.
   */
  api(routes: Route[], opts?: Pick<HttpApiOptions, 'beforeEach' | 'toProblem'>): ReturnType<typeof httpApi>;
}

export function serviceRuntime(
  name: string,
  deps: {
    /**
     * The service's database: `serviceDb` (shared/db.ts), passed in rather than imported here, so a
     * service without one (chaos) does not bundle pg and the Vault client.
     */
    postgres?: (cfg: Config) => LeasedPool;
    redis?: boolean;
    extraChecks?: Record<string, Check>;
    /** Routes authenticated another way than IAM (provider webhooks through the public API). */
    openRoutes?: (req: HttpRequest) => boolean;
  } = {},
): ServiceRuntime {
  const cfg = config();
  const pool = deps.postgres;
  const db = (): LeasedPool => {
    if (!pool) throw new Error(`the ${name} service has no database`);
    return pool(cfg);
  };
  const redis = () => serviceRedis(cfg.REDIS_URL);
  const checks: Record<string, Check> = { ...(deps.extraChecks ?? {}) };
  if (deps.postgres) {
    // The reference page's card shows these: who we are in Postgres, what our schema holds, and
    // the Vault lease (time left, and how often this worker has rotated it).
    checks.postgres = async () => {
      const { rows } = await db().query<{ user: string; schema: string; tables: string[] }>(
        `SELECT current_user AS user, current_schema() AS schema,
                coalesce((SELECT array_agg(table_name::text ORDER BY table_name) FROM information_schema.tables
                           WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'), '{}') AS tables`,
      );
      const expiresAt = db().leaseExpiresAt ?? 0;
      return {
        user: rows[0].user,
        schema: rows[0].schema,
        tables: rows[0].tables,
        leaseExpiresAt: new Date(expiresAt).toISOString(),
        leaseSecondsLeft: Math.max(0, Math.round((expiresAt - Date.now()) / 1000)),
        rotations: db().rotations,
      };
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
  const api: ServiceRuntime['api'] = (routes, opts = {}) =>
    httpApi([healthRoute, ...routes], {
      middlewares,
      toProblem: opts.toProblem,
      beforeEach: async () => {
        await beforeEach();
        await opts.beforeEach?.();
      },
    });
  return { name, cfg, db, redis, api };
}
