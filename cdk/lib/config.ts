import fs from 'node:fs';
import path from 'node:path';
import type { Construct } from 'constructs';
import { lambdaLimits } from '../../scripts/lib/settings';
import { type LambdaNetwork, networkFromContext } from './network';

/**
 * Deployment configuration, resolved at synth time.
 *
 * local (cdklocal on the emulator): endpoints default to this machine and the per-service
 * Vault tokens come from .local/secrets.json, written by `npm run up`.
 * aws (`cdk deploy -c target=aws`): every endpoint must be given as context
 * (-c pgHost=... -c redisUrl=... -c vaultAddr=...); nothing local leaks in. Lambdas log in to
 * Vault with their IAM role (optional -c vaultAwsMount=... -c vaultIamServerId=...), never a token.
 */
export interface DeployConfig {
  target: 'local' | 'aws';
  pgHost: string;
  pgPort: number;
  pgDatabase: string;
  redisUrl: string;
  vaultAddr: string;
  /** The emulator endpoint the Lambdas use for AWS APIs (local only). */
  awsEndpoint?: string;
  /** Per-service Vault tokens (local dev only; on AWS use a Vault auth method instead). */
  vaultTokens: Record<string, string>;
  /** How Lambdas log in to Vault: static tokens locally, the aws auth method (IAM) on AWS. */
  vaultAuth: 'token' | 'aws-iam';
  /** Mount path of Vault's aws auth method (aws-iam only; the Lambdas default to `aws`). */
  vaultAwsMount?: string;
  /** Vault's iam_server_id_header_value, when Vault is configured with one (aws-iam only). */
  vaultIamServerId?: string;
  /** STS endpoint the Lambdas sign for; must equal Vault's sts_endpoint (default the global one). */
  vaultAwsStsEndpoint?: string;
  /** The VPC the Lambdas join (aws only; see network.ts). */
  network?: LambdaNetwork;
  /**
   * Platform throttling (API Gateway stage limits, token bucket: requests/s and burst), on the
   * public REST API and on each service HTTP API. Sized from `npm run bench -- crowd` (see
   * docs/bench.md); override with -c publicRateLimit=... -c publicBurstLimit=...
   * -c serviceRateLimit=... -c serviceBurstLimit=... (or CM_PUBLIC_RATE_LIMIT, ... locally).
   */
  throttling: { public: StageThrottle; service: StageThrottle };
  /**
   * Reserved concurrency per request-path function (undefined: the account pool). The catalog (2)
   * and claims (4) keep theirs on both targets (the race spans two processes; claims holds row
   * locks). Locally every request-path function is also capped to a share of the embedded
   * runtime's account cap, so a crowd cannot fill the machine with one function's workers (each is
   * a ~100 MiB Node process): see lambdaConcurrency below and README "Emulator notes".
   */
  concurrency: Record<ConcurrencyRole, number | undefined>;
  failurePlansEnabled: boolean;
  /** Chaos rules are read by every handler (on locally; opt-in on AWS with -c chaosEnabled=true). */
  chaosEnabled: boolean;
  /**
   * Payment providers: where the payments Lambda calls them and what the browser is told.
   * Locally the fakes from localstack/fakes; on AWS the real APIs (credentials stay in Vault).
   */
  payments: {
    stripeApiBase?: string;
    paypalApiBase: string;
    /** Extra allow-listed PayPal certificate URL prefixes (the local fake's). */
    paypalCertPrefixes: string[];
    stripePublishableKey: string;
    /** What the browser uses (Stripe.js / approval links), which may differ from what Lambdas use. */
    browserStripeApiBase: string;
  };
}

export type ConcurrencyRole = 'bff' | 'identity' | 'catalog' | 'claims' | 'payments' | 'orders' | 'sagaStep' | 'chaos' | 'dispatcher' | 'consumer' | 'ops';

/**
 * Local caps, from the embedded runtime's account cap (32 on a 2-core machine,
 * scripts/lib/settings.ts). MiniStack keeps a function's idle workers (~100 MiB of Node each) for
 * LAMBDA_WARM_TTL_SECONDS, so the most workers alive at once is the sum of the functions' peaks,
 * not the account cap: without caps a crowd measured 84 workers and 9.8 GiB. Every function is
 * capped so that sum stays near the cap (BFF 7/32, 7; saga step a fifth, 6: a step that hangs
 * until its timeout holds a worker, and the failure matrix runs five at once; claims 4; the other
 * APIs 2, chaos 1; each outbox dispatcher, SQS consumer and queue owner's ops function 1: 32 in all, measured ≤ 3 GiB of
 * worker RSS under a 500-reader crowd). Beyond
 * its cap a function is throttled: the public API answers a fast 503 (cdk/lib/public-api.ts), the
 * BFF sheds with upstream-busy, Step Functions retries the step (Lambda.TooManyRequestsException).
 * On AWS only the catalog and claims are capped; the rest scale, behind the stage throttle.
 */
export function lambdaConcurrency(target: DeployConfig['target'], accountCap: number): Record<ConcurrencyRole, number | undefined> {
  const shared = { catalog: 2, claims: 4 };
  if (target === 'aws') {
    return {
      ...shared,
      bff: undefined,
      identity: undefined,
      payments: undefined,
      orders: undefined,
      sagaStep: undefined,
      chaos: undefined,
      dispatcher: undefined,
      consumer: undefined,
      ops: undefined,
    };
  }
  return {
    ...shared,
    bff: Math.max(4, Math.floor((accountCap * 7) / 32)),
    sagaStep: Math.max(2, Math.floor(accountCap / 5)),
    identity: 2,
    payments: 2,
    orders: 2,
    chaos: 1,
    dispatcher: 1,
    consumer: 1,
    // Admin-only (outbox backlog, DLQ depth and redrive): one worker per owner is plenty.
    ops: 1,
  };
}

export interface StageThrottle {
  rateLimit: number;
  burstLimit: number;
}

/**
 * Defaults per target. Local: the embedded runtime serves ≈ 40–60 catalog reads/s (two catalog
 * workers, 32 Lambdas in all); a public bucket of 100/s with a burst of 50 admits what the BFF can
 * answer within its budgets and refuses the rest at the door in microseconds (503 + Retry-After),
 * before any Lambda starts. AWS: a starting point well under the account's 10 000/s that still
 * protects the reserved-concurrency services; size it from the crowd benchmark on the real stack.
 */
const THROTTLE_DEFAULTS: Record<DeployConfig['target'], DeployConfig['throttling']> = {
  local: { public: { rateLimit: 100, burstLimit: 50 }, service: { rateLimit: 200, burstLimit: 100 } },
  aws: { public: { rateLimit: 1000, burstLimit: 500 }, service: { rateLimit: 1000, burstLimit: 500 } },
};

function throttlingFrom(target: DeployConfig['target'], setting: (contextKey: string, envName: string) => string | undefined): DeployConfig['throttling'] {
  const pick = (contextKey: string, envName: string, fallback: number) => {
    const raw = setting(contextKey, envName);
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${contextKey} (${envName}) must be a positive integer, got "${raw}"`);
    return n;
  };
  const d = THROTTLE_DEFAULTS[target];
  return {
    public: {
      rateLimit: pick('publicRateLimit', 'CM_PUBLIC_RATE_LIMIT', d.public.rateLimit),
      burstLimit: pick('publicBurstLimit', 'CM_PUBLIC_BURST_LIMIT', d.public.burstLimit),
    },
    service: {
      rateLimit: pick('serviceRateLimit', 'CM_SERVICE_RATE_LIMIT', d.service.rateLimit),
      burstLimit: pick('serviceBurstLimit', 'CM_SERVICE_BURST_LIMIT', d.service.burstLimit),
    },
  };
}

export function loadConfig(scope: Construct): DeployConfig {
  const ctx = (key: string): string | undefined => scope.node.tryGetContext(key) ?? undefined;
  const target = (ctx('target') ?? process.env.CM_DEPLOY_TARGET ?? 'local') as 'local' | 'aws';
  // Context first (both targets), then the environment on the local target only.
  const throttling = throttlingFrom(target, (key, envName) => ctx(key) ?? (target === 'local' ? process.env[envName] : undefined));
  if (target === 'aws') {
    const need = (key: string) => {
      const v = ctx(key);
      if (!v) throw new Error(`cdk deploy -c target=aws needs -c ${key}=...`);
      return v;
    };
    return {
      target,
      pgHost: need('pgHost'),
      pgPort: Number(ctx('pgPort') ?? 5432),
      pgDatabase: ctx('pgDatabase') ?? 'checkout_mesh',
      redisUrl: need('redisUrl'),
      vaultAddr: need('vaultAddr'),
      vaultTokens: {},
      vaultAuth: 'aws-iam',
      vaultAwsMount: ctx('vaultAwsMount'),
      vaultIamServerId: ctx('vaultIamServerId'),
      vaultAwsStsEndpoint: ctx('vaultAwsStsEndpoint'),
      network: networkFromContext(ctx),
      throttling,
      concurrency: lambdaConcurrency(target, 0),
      failurePlansEnabled: ctx('failurePlansEnabled') === 'true',
      chaosEnabled: ctx('chaosEnabled') === 'true',
      payments: {
        paypalApiBase: ctx('paypalApiBase') ?? 'https://api-m.sandbox.paypal.com',
        paypalCertPrefixes: [],
        stripePublishableKey: ctx('stripePublishableKey') ?? '',
        browserStripeApiBase: 'https://api.stripe.com',
      },
    };
  }
  const secretsFile = path.resolve(__dirname, '..', '..', '.local', 'secrets.json');
  const secrets = fs.existsSync(secretsFile)
    ? (JSON.parse(fs.readFileSync(secretsFile, 'utf8')) as { serviceTokens?: Record<string, string>; stripePublishableKey?: string })
    : {};
  const env = process.env;
  // CM_LAMBDA_* override what the Lambdas see when it differs from what this machine sees
  // (Docker: Lambdas in containers reach postgres/redis/openbao by their compose names).
  return {
    target,
    pgHost: env.CM_LAMBDA_PGHOST ?? env.PGHOST ?? '127.0.0.1',
    pgPort: Number(env.PGPORT ?? 5432),
    pgDatabase: env.PGDATABASE ?? 'checkout_mesh',
    redisUrl: env.CM_LAMBDA_REDIS_URL ?? `redis://${env.CM_REDIS_HOST ?? '127.0.0.1'}:${env.CM_REDIS_PORT ?? 6379}/${Number(env.CM_REDIS_DB ?? 0)}`,
    vaultAddr: env.CM_LAMBDA_VAULT_ADDR ?? env.VAULT_ADDR ?? 'http://127.0.0.1:8200',
    awsEndpoint: env.CM_LAMBDA_AWS_ENDPOINT ?? env.CM_AWS_ENDPOINT ?? 'http://127.0.0.1:4566',
    vaultTokens: secrets.serviceTokens ?? {},
    vaultAuth: 'token',
    throttling,
    concurrency: lambdaConcurrency(target, lambdaLimits(env).accountConcurrency),
    failurePlansEnabled: (env.CM_FAILURE_PLANS ?? 'true') === 'true',
    chaosEnabled: (env.CM_CHAOS ?? 'true') === 'true',
    payments: localPayments(env, secrets.stripePublishableKey ?? ''),
  };
}

/** The local provider fakes (scripts/lib/infra.ts starts them on these ports). */
function localPayments(env: NodeJS.ProcessEnv, stripePublishableKey: string): DeployConfig['payments'] {
  const browserHost = '127.0.0.1';
  // Docker: Lambdas in containers reach the fakes on the host by another name.
  const lambdaHost = env.CM_LAMBDA_FAKES_HOST ?? browserHost;
  const stripePort = Number(env.CM_STRIPE_FAKE_PORT ?? 12111);
  const paypalPort = Number(env.CM_PAYPAL_FAKE_PORT ?? 12112);
  return {
    stripeApiBase: `http://${lambdaHost}:${stripePort}`,
    paypalApiBase: `http://${lambdaHost}:${paypalPort}`,
    paypalCertPrefixes: [`http://${lambdaHost}:${paypalPort}/v1/notifications/certs/`],
    stripePublishableKey,
    browserStripeApiBase: `http://${browserHost}:${stripePort}`,
  };
}
