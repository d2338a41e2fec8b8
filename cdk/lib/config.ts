import fs from 'node:fs';
import path from 'node:path';
import type { Construct } from 'constructs';
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

export function loadConfig(scope: Construct): DeployConfig {
  const ctx = (key: string): string | undefined => scope.node.tryGetContext(key) ?? undefined;
  const target = (ctx('target') ?? process.env.CM_DEPLOY_TARGET ?? 'local') as 'local' | 'aws';
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
