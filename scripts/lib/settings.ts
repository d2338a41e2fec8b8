import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { LOCAL, SECRETS_FILE } from './paths';

/**
 * Local runtime settings. Ports and hosts come from the environment (same names the
 * Docker compose file uses), with the defaults of a developer machine. Secrets are
 * generated once per checkout into .local/secrets.json (git-ignored), never committed.
 */
export const SERVICES = ['identity', 'catalog', 'claims', 'payments', 'orders'] as const;

const env = process.env;
export const settings = {
  region: env.AWS_REGION ?? 'us-east-1',
  awsEndpoint: env.CM_AWS_ENDPOINT ?? 'http://127.0.0.1:4566',
  pgHost: env.PGHOST ?? '127.0.0.1',
  pgPort: Number(env.PGPORT ?? 5432),
  pgAdminUser: env.CM_PG_ADMIN_USER ?? 'postgres',
  pgDatabase: env.PGDATABASE ?? 'checkout_mesh',
  redisHost: env.CM_REDIS_HOST ?? '127.0.0.1',
  redisPort: Number(env.CM_REDIS_PORT ?? 6379),
  vaultAddr: env.VAULT_ADDR ?? 'http://127.0.0.1:8200',
  /** Default and max TTL of leased database credentials (seconds). */
  dbLeaseTtl: Number(env.CM_DB_LEASE_TTL ?? 3600),
  dbLeaseMaxTtl: Number(env.CM_DB_LEASE_MAX_TTL ?? 4 * 3600),
  stackName: env.CM_STACK_NAME ?? 'CheckoutMesh',
  /** Local payment provider fakes (localstack/fakes), started by `up`. */
  stripeFakePort: Number(env.CM_STRIPE_FAKE_PORT ?? 12111),
  paypalFakePort: Number(env.CM_PAYPAL_FAKE_PORT ?? 12112),
};

/**
 * How much the embedded runtime may run at once. MiniStack starts one Node worker per concurrent
 * invocation (measured 70–120 MiB each with our bundles); unbounded, a 200-request burst made
 * 197 workers and ~10 GiB. The account-wide cap (LAMBDA_ACCOUNT_CONCURRENCY: beyond it an invoke
 * is throttled, as AWS throttles at the account limit) is 16 workers per core, at most 15 % of the
 * machine's memory at 100 MiB a worker, never below 16 (one saga needs a handful at once) nor
 * above 128: 32 on a 2-core, 24 GiB machine (the same burst now peaks at 39 workers, 3.9 GiB,
 * idle ones included). Idle workers beyond the first per function are reaped after
 * LAMBDA_WARM_TTL_SECONDS (20 s here, MiniStack's default is 300 s) so a crowd's surplus does not
 * linger: workers are made per function, so idle ones of one function add to the busy ones of
 * the next (a crowd measured 84 workers, 9.8 GiB, with 60 s). The request-path functions also
 * get shares of the cap as reserved concurrency (cdk/lib/config.ts lambdaConcurrency).
 * CM_LAMBDA_CONCURRENCY / CM_LAMBDA_WARM_TTL_SECONDS override them.
 */
export interface LambdaLimits {
  accountConcurrency: number;
  warmTtlSeconds: number;
}
export function lambdaLimits(
  environment: NodeJS.ProcessEnv = process.env,
  machine = { cores: os.availableParallelism(), memoryMiB: os.totalmem() / 2 ** 20 },
): LambdaLimits {
  const override = (name: string): number | undefined => {
    const raw = environment[name];
    if (raw === undefined || raw === '') return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${raw}"`);
    return n;
  };
  const byCores = 16 * machine.cores;
  const byMemory = Math.floor((machine.memoryMiB * 0.15) / 100);
  return {
    accountConcurrency: override('CM_LAMBDA_CONCURRENCY') ?? Math.max(16, Math.min(128, byCores, byMemory)),
    warmTtlSeconds: override('CM_LAMBDA_WARM_TTL_SECONDS') ?? 20,
  };
}

/** CM_REDIS_DB picks a logical database, so CI can run beside a developer's data on one server. */
export const redisUrl = () => `redis://${settings.redisHost}:${settings.redisPort}/${Number(process.env.CM_REDIS_DB ?? 0)}`;
export const adminPgUrl = (database = settings.pgDatabase) => `postgres://${settings.pgAdminUser}@${settings.pgHost}:${settings.pgPort}/${database}`;

export interface Secrets {
  vaultRootToken: string;
  /** Password of the role Vault uses to create per-lease database users. */
  vaultDbPassword: string;
  /** One Vault token per service, created with a fixed id so deployed config stays stable. */
  serviceTokens: Record<string, string>;
  stripeWebhookSecret: string;
  paypalWebhookId: string;
  /** Test-mode keys for the local Stripe fake (shaped like Stripe's, useless anywhere else). */
  stripeApiKey: string;
  stripePublishableKey: string;
  /** OAuth client of the local PayPal fake. */
  paypalClientId: string;
  paypalClientSecret: string;
}

export function secrets(): Secrets {
  fs.mkdirSync(LOCAL, { recursive: true });
  let current: Partial<Secrets> = {};
  if (fs.existsSync(SECRETS_FILE)) current = JSON.parse(fs.readFileSync(SECRETS_FILE, 'utf8')) as Partial<Secrets>;
  const token = () => `local-${randomBytes(16).toString('hex')}`;
  const tokens: Record<string, string> = { ...(current.serviceTokens ?? {}) };
  for (const svc of [...SERVICES, 'bff', 'chaos']) tokens[svc] ??= token();
  const next: Secrets = {
    vaultRootToken: current.vaultRootToken ?? token(),
    vaultDbPassword: current.vaultDbPassword ?? randomBytes(18).toString('base64url'),
    serviceTokens: tokens,
    stripeWebhookSecret: current.stripeWebhookSecret ?? `whsec_${randomBytes(24).toString('hex')}`,
    paypalWebhookId: current.paypalWebhookId ?? `WH-LOCAL-${randomBytes(8).toString('hex').toUpperCase()}`,
    stripeApiKey: current.stripeApiKey ?? `sk_test_local_${randomBytes(12).toString('hex')}`,
    stripePublishableKey: current.stripePublishableKey ?? `pk_test_local_${randomBytes(12).toString('hex')}`,
    paypalClientId: current.paypalClientId ?? `local-client-${randomBytes(6).toString('hex')}`,
    paypalClientSecret: current.paypalClientSecret ?? randomBytes(18).toString('base64url'),
  };
  if (JSON.stringify(next) !== JSON.stringify(current)) {
    fs.writeFileSync(SECRETS_FILE, JSON.stringify(next, null, 2), { mode: 0o600 });
  }
  // An externally run Vault (Docker, shared dev Vault) is driven with its own root token.
  if (process.env.VAULT_TOKEN) return { ...next, vaultRootToken: process.env.VAULT_TOKEN };
  return next;
}
