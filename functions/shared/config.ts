import * as z from 'zod';

/**
 * Runtime configuration of a Lambda, read once from its environment.
 * CDK writes these variables; tests and scripts set the same names.
 */
const ServiceApiSchema = z.object({ apiId: z.string().min(1), stage: z.string().min(1) });

/**
 * A positive integer from the environment, or the default when unset. A malformed value ("", "0",
 * "ten", "1.5") is a configuration error that stops the cold start: never a silent 0 or NaN that
 * would, say, switch throttling off.
 */
const positiveInt = (name: string, fallback: number) =>
  z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined) return fallback;
      if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1 || !Number.isSafeInteger(Number(raw))) {
        ctx.addIssue({ code: 'custom', message: `${name} must be a positive integer, got ${JSON.stringify(raw)}` });
        return z.NEVER;
      }
      return Number(raw);
    });

/**
 * The BFF's load shedding (functions/bff/downstream.ts, proxy.ts; numbers and reasons in
 * docs/gateway.md §3). Budgets bound one downstream call as the client sees it: the wait for a
 * slot, every attempt and every backoff pause. They stay well below API Gateway's 29 s so the
 * client gets our 503 + Retry-After, never the gateway's 504.
 */
const BffLimitsShape = {
  /** Calls in flight per downstream per BFF instance; more wait in the queue. */
  BFF_MAX_IN_FLIGHT: z.coerce.number().int().positive().default(16),
  /** Calls waiting per downstream per instance; beyond it a call is refused at once (503 upstream-busy). */
  BFF_MAX_QUEUE: z.coerce.number().int().min(0).default(32),
  /** Reads (GET/HEAD): a warm read answers in tens of ms; 4 s covers a cold catalog worker on a loaded 2-core machine. */
  BFF_READ_BUDGET_MS: z.coerce.number().int().positive().default(4000),
  /** Writes (catalog, chaos, ops, auth): a cold start leases Vault credentials; identity also runs scrypt. */
  BFF_WRITE_BUDGET_MS: z.coerce.number().int().positive().default(10_000),
  /** POST /api/orders' call to orders (cold start: Vault lease, catalog prices, StartExecution). */
  BFF_CHECKOUT_BUDGET_MS: z.coerce.number().int().positive().default(12_000),
  /** Each claims call of an idempotent route (claim before, outcome after): 7 + 12 + 7 = 26 s < 29 s. */
  BFF_CLAIMS_BUDGET_MS: z.coerce.number().int().positive().default(7000),
};
const BffLimitsSchema = z.object(BffLimitsShape);
export type BffLimits = z.infer<typeof BffLimitsSchema>;

/** An optional value where an empty string (CDK writes '' for "not set") means unset. */
const optionalText = z.preprocess((v) => (v === '' ? undefined : v), z.string().optional());
const optionalUrl = z.preprocess((v) => (v === '' ? undefined : v), z.string().url().optional());

/** What a handler is wired to (CDK sets each where the function uses it). */
const WiringShape = {
  STATE_MACHINE_ARN: optionalText,
  /** The outbox dispatcher a handler kicks after its commit (unset: the minute sweep delivers). */
  DISPATCHER_FUNCTION_NAME: optionalText,
  PAYMENTS_TOPIC_ARN: optionalText,
  /** Unset on AWS: the Stripe SDK talks to api.stripe.com. Locally the fake. */
  STRIPE_API_BASE: optionalUrl,
  PAYPAL_API_BASE: z.preprocess((v) => (v === '' ? undefined : v), z.string().url().default('https://api-m.sandbox.paypal.com')),
  /**
   * The public REST API (the store's pages) PayPal sends the buyer back to after approving or
   * cancelling: its id and stage (payments). Unset: no return URLs, PayPal ends on its own page.
   */
  STORE_API_ID: z.preprocess((v) => (v === '' ? undefined : v), z.string().regex(/^[A-Za-z0-9]{1,64}$/, 'STORE_API_ID must be an API id').optional()),
  STORE_API_STAGE: z.string().regex(/^[\w-]{1,128}$/).default('prod'),
  /** Extra allow-listed PayPal certificate URL prefixes (the local fake's), comma-separated. */
  PAYPAL_CERT_URL_PREFIXES: z
    .string()
    .default('')
    .transform((raw) => raw.split(',').map((s) => s.trim()).filter(Boolean)),
  /** Public, for the storefront's GET /api/config and the CSP (what Stripe.js is initialised with). */
  STRIPE_PUBLISHABLE_KEY: z.string().default(''),
  STRIPE_PUBLIC_API_BASE: z.preprocess((v) => (v === '' ? undefined : v), z.string().url().default('https://api.stripe.com')),
  /** Where the BFF finds web/ (tests point it at the repository's). */
  WEB_ROOT: optionalText,
  /** The breaker drill's cool-down (its breakers judge after 4 calls). */
  BREAKER_DRILL_RESET_MS: positiveInt('BREAKER_DRILL_RESET_MS', 2000),
  /** Per claims attempt (the whole claims call is bounded by BFF_CLAIMS_BUDGET_MS). */
  CLAIMS_TIMEOUT_MS: positiveInt('CLAIMS_TIMEOUT_MS', 8000),
  /** Refresh-token lifetime (identity). */
  REFRESH_TOKEN_TTL_SEC: positiveInt('REFRESH_TOKEN_TTL_SEC', 7 * 24 * 3600),
};

const EnvSchema = z.object({
  ...BffLimitsShape,
  ...WiringShape,
  SERVICE_NAME: z.string().min(1),
  DEPLOY_TARGET: z.enum(['local', 'aws']).default('local'),
  AWS_REGION: z.string().default('us-east-1'),
  /** Set only when running against an emulator; SDK v3 clients honour it too. */
  AWS_ENDPOINT_URL: z.string().url().optional(),
  PGHOST: z.string().default('127.0.0.1'),
  PGPORT: z.coerce.number().int().positive().default(5432),
  PGDATABASE: z.string().default('checkout_mesh'),
  REDIS_URL: z.string().default('redis://127.0.0.1:6379/0'),
  VAULT_ADDR: z.string().url().default('http://127.0.0.1:8200'),
  /** token: a static VAULT_TOKEN (local dev); aws-iam: log in with the Lambda's IAM role (AWS). */
  VAULT_AUTH: z.enum(['token', 'aws-iam']).default('token'),
  VAULT_TOKEN: z.string().optional(),
  /** Vault role of the aws auth method (auth/<mount>/role/<role>); defaults to SERVICE_NAME. */
  VAULT_AWS_ROLE: z.string().optional(),
  VAULT_AWS_MOUNT: z
    .string()
    .regex(/^[\w.-]+(\/[\w.-]+)*$/, 'VAULT_AWS_MOUNT must be a mount path such as aws')
    .default('aws'),
  /** Vault's iam_server_id_header_value; signed into the login so it cannot be replayed elsewhere. */
  VAULT_AWS_IAM_SERVER_ID: z.string().min(1).optional(),
  /** Where Vault sends GetCallerIdentity; default AWS_ENDPOINT_URL (emulator), else the global STS. */
  VAULT_AWS_STS_ENDPOINT: z.string().url().optional(),
  /** Vault database role this service leases credentials from (database/creds/<role>). */
  DB_ROLE: z.string().optional(),
  /** JSON map of service name -> {apiId, stage} for the HTTP APIs this function calls. */
  SERVICE_APIS: z
    .string()
    .default('{}')
    .transform((raw, ctx) => {
      try {
        return z.record(z.string(), ServiceApiSchema).parse(JSON.parse(raw));
      } catch {
        ctx.addIssue({ code: 'custom', message: 'SERVICE_APIS must be a JSON map of {apiId, stage}' });
        return z.NEVER;
      }
    }),
  HTTP_TIMEOUT_MS: z.coerce.number().int().positive().default(3000),
  /** Comma-separated IAM role names whose identity headers a service API believes (the BFF's role). */
  TRUSTED_CALLER_ROLES: z
    .string()
    .default('')
    .transform((raw) => raw.split(',').map((s) => s.trim()).filter(Boolean)),
  /** DynamoDB table of Lambda-level idempotency records (saga steps, event consumers); CDK sets it where granted. */
  IDEMPOTENCY_TABLE_NAME: z.string().regex(/^[\w.-]{3,255}$/, 'IDEMPOTENCY_TABLE_NAME must be a DynamoDB table name').optional(),
  /** How long a completed record answers repeats (DynamoDB TTL). Outlives a saga (900 s) and SQS's retries. */
  IDEMPOTENCY_TTL_SECONDS: positiveInt('IDEMPOTENCY_TTL_SECONDS', 24 * 3600),
  /** Login throttling (identity): attempts per client IP per window, failed attempts per account per window. */
  LOGIN_MAX_PER_IP: positiveInt('LOGIN_MAX_PER_IP', 1000),
  LOGIN_IP_WINDOW_SEC: positiveInt('LOGIN_IP_WINDOW_SEC', 300),
  LOGIN_MAX_FAILURES_PER_ACCOUNT: positiveInt('LOGIN_MAX_FAILURES_PER_ACCOUNT', 10),
  LOGIN_ACCOUNT_WINDOW_SEC: positiveInt('LOGIN_ACCOUNT_WINDOW_SEC', 900),
  /** Chaos rules are read by every handler (CDK: on locally, opt-in on AWS). */
  CHAOS_ENABLED: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  FAILURE_PLANS_ENABLED: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
})
  .superRefine((env, ctx) => {
    if (env.VAULT_AUTH !== 'aws-iam') return;
    // A Vault role name is one path segment; an empty or odd one would only fail at login.
    const role = env.VAULT_AWS_ROLE ?? env.SERVICE_NAME;
    if (!/^[\w.-]+$/.test(role)) {
      ctx.addIssue({ code: 'custom', path: ['VAULT_AWS_ROLE'], message: 'VAULT_AUTH=aws-iam needs a Vault role name (VAULT_AWS_ROLE, default SERVICE_NAME)' });
    }
  })
  .transform((env) => (env.VAULT_AUTH === 'aws-iam' ? { ...env, VAULT_AWS_ROLE: env.VAULT_AWS_ROLE ?? env.SERVICE_NAME } : env));
export type Config = z.infer<typeof EnvSchema>;

let cached: Config | undefined;

/** Parses the environment once; a bad value stops the cold start with a readable message. */
export function config(env: NodeJS.ProcessEnv = process.env): Config {
  if (cached && env === process.env) return cached;
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${issues}`);
  }
  if (env === process.env) cached = parsed.data;
  return parsed.data;
}

/** Only the BFF's limits (no SERVICE_NAME needed: breakers are built in tests without a full environment). */
export function bffLimits(env: NodeJS.ProcessEnv = process.env): BffLimits {
  const parsed = BffLimitsSchema.safeParse(env);
  if (!parsed.success) throw new Error(`Invalid configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** For tests that change the environment between cases. */
export function resetConfigCache(): void {
  cached = undefined;
}
