import * as z from 'zod';

/**
 * Runtime configuration of a Lambda, read once from its environment.
 * CDK writes these variables; tests and scripts set the same names.
 */
const ServiceApiSchema = z.object({ apiId: z.string().min(1), stage: z.string().min(1) });

/**
 * A whole number from the environment (at least `min`), or the default when unset. A malformed
 * value ("", "ten", "1.5", "1e3", or below `min`) is a configuration error that stops the cold
 * start: never a silent 0 or NaN that would, say, switch throttling off.
 */
const wholeNumber = (name: string, fallback: number, min: 0 | 1) =>
  z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined) return fallback;
      if (!/^\d+$/.test(raw.trim()) || Number(raw) < min || !Number.isSafeInteger(Number(raw))) {
        const what = min === 1 ? 'a positive integer' : 'a whole number (0 or more)';
        ctx.addIssue({ code: 'custom', message: `${name} must be ${what}, got ${JSON.stringify(raw)}` });
        return z.NEVER;
      }
      return Number(raw);
    });
const positiveInt = (name: string, fallback: number) => wholeNumber(name, fallback, 1);
/** 0 allowed (e.g. "no retries"). */
const nonNegativeInt = (name: string, fallback: number) => wholeNumber(name, fallback, 0);

/** RATE_LIMITS='{"write":{"capacity":50,"refillPerSecond":5}}': per route class, either field optional. */
export const RATE_LIMIT_CLASSES = ['read', 'write', 'auth', 'ops', 'demo', 'race'] as const;
const BucketOverride = z.object({ capacity: z.number().positive().optional(), refillPerSecond: z.number().positive().optional() }).strict();
/** A comma-separated list (unset or empty: none), trimmed, empty items dropped. */
const commaList = z
  .string()
  .default('')
  .transform((raw) =>
    raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

const rateLimitOverrides = z
  .string()
  .default('{}')
  .transform((raw, ctx) => {
    // A typo'd class or a negative capacity would otherwise be ignored and the default silently kept.
    try {
      return z.partialRecord(z.enum(RATE_LIMIT_CLASSES), BucketOverride).parse(JSON.parse(raw));
    } catch {
      ctx.addIssue({
        code: 'custom',
        message: `RATE_LIMITS must be a JSON map of ${RATE_LIMIT_CLASSES.join('|')} -> {capacity?, refillPerSecond?} (positive numbers), got ${JSON.stringify(raw.slice(0, 200))}`,
      });
      return z.NEVER;
    }
  });

/**
 * The BFF's load shedding (functions/bff/downstream.ts, proxy.ts; numbers and reasons in
 * docs/gateway.md §3). Budgets bound one downstream call as the client sees it: the wait for a
 * slot, every attempt and every backoff pause. They stay well below API Gateway's 29 s so the
 * client gets our 503 + Retry-After, never the gateway's 504.
 */
const BffLimitsShape = {
  /** Calls in flight per downstream per BFF instance; more wait in the queue. */
  BFF_MAX_IN_FLIGHT: positiveInt('BFF_MAX_IN_FLIGHT', 16),
  /** Calls waiting per downstream per instance; beyond it a call is refused at once (503 upstream-busy). */
  BFF_MAX_QUEUE: nonNegativeInt('BFF_MAX_QUEUE', 32),
  /**
   * How long a call may wait for a downstream that refuses work (no free slot in this instance's
   * queue, or the platform throttling the service) before the client is told 503 + Retry-After.
   * A refused call never ran, so shedding it early is safe; waiting longer only turns a crowd into
   * queued clients (the flash-crowd target: refusals answered within 1 s at p99).
   */
  BFF_SHED_AFTER_MS: positiveInt('BFF_SHED_AFTER_MS', 800),
  /** Reads (GET/HEAD): a warm read answers in tens of ms; 4 s covers a cold catalog worker on a loaded 2-core machine. */
  BFF_READ_BUDGET_MS: positiveInt('BFF_READ_BUDGET_MS', 4000),
  /** Writes (catalog, chaos, ops, auth): a cold start leases Vault credentials; identity also runs scrypt. */
  BFF_WRITE_BUDGET_MS: positiveInt('BFF_WRITE_BUDGET_MS', 10_000),
  /** POST /api/orders' call to orders (cold start: Vault lease, catalog prices, StartExecution). */
  BFF_CHECKOUT_BUDGET_MS: positiveInt('BFF_CHECKOUT_BUDGET_MS', 12_000),
  /** Each claims call of an idempotent route (claim before, outcome after): 7 + 12 + 7 = 26 s < 29 s. */
  BFF_CLAIMS_BUDGET_MS: positiveInt('BFF_CLAIMS_BUDGET_MS', 7000),
  /** Circuit breaker per downstream (bff/downstream.ts): error percentage over the window that opens it. */
  BREAKER_ERROR_PERCENT: positiveInt('BREAKER_ERROR_PERCENT', 50).refine((n) => n <= 100, 'BREAKER_ERROR_PERCENT must be at most 100'),
  /** Calls in the window before the error rate is judged. */
  BREAKER_VOLUME_THRESHOLD: positiveInt('BREAKER_VOLUME_THRESHOLD', 5),
  /** Open -> half-open after this cool-down. */
  BREAKER_RESET_MS: positiveInt('BREAKER_RESET_MS', 5000),
  BREAKER_WINDOW_MS: positiveInt('BREAKER_WINDOW_MS', 10_000),
  /** Retries of an idempotent call (0: none), with full-jitter backoff between base and max delay. */
  RETRY_MAX: nonNegativeInt('RETRY_MAX', 2),
  RETRY_BASE_MS: positiveInt('RETRY_BASE_MS', 50),
  RETRY_MAX_DELAY_MS: positiveInt('RETRY_MAX_DELAY_MS', 500),
  /** Retries of a platform throttle (the call never ran), within the budget. */
  RETRY_THROTTLED_MAX: nonNegativeInt('RETRY_THROTTLED_MAX', 25),
  /** Budget of a downstream call that names none. */
  DOWNSTREAM_BUDGET_MS: positiveInt('DOWNSTREAM_BUDGET_MS', 20_000),
  /** Token-bucket overrides per route class (bff/middleware/rate-limit.ts has the defaults). */
  RATE_LIMITS: rateLimitOverrides,
};
const BffLimitsSchema = z.object(BffLimitsShape);
export type BffLimits = z.infer<typeof BffLimitsSchema>;

/** An optional value where an empty string (CDK writes '' for "not set") means unset. */
const optionalText = z.preprocess((v) => (v === '' ? undefined : v), z.string().optional());
const optionalUrl = z.preprocess((v) => (v === '' ? undefined : v), z.string().url().optional());

/** Powertools' levels; lower case is accepted too. */
const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;
const LoggingShape = {
  LOG_LEVEL: z.preprocess((v) => (typeof v === 'string' ? v.toUpperCase() : v), z.enum(LOG_LEVELS).default('INFO')),
};
/** The logger is built at import, before any handler reads the full configuration. */
const LoggingSchema = z.object({ ...LoggingShape, SERVICE_NAME: z.string().min(1).default('checkout-mesh') });
type LoggingConfig = z.infer<typeof LoggingSchema>;

/** Access tokens (shared/auth.ts): what identity issues and every verifier accepts. */
const TokenShape = {
  JWT_ISSUER: z.string().url().default('https://identity.checkout-mesh.dev'),
  JWT_AUDIENCE: z.string().min(1).default('checkout-mesh-api'),
  /** The longest access-token lifetime a verifier accepts (identity issues 15 min). */
  ACCESS_TOKEN_MAX_LIFETIME_SEC: positiveInt('ACCESS_TOKEN_MAX_LIFETIME_SEC', 15 * 60),
  /** Where the BFF reads identity's JWKS; unset: the identity API from SERVICE_APIS. */
  JWKS_URL: optionalUrl,
};
const TokenSchema = z.object(TokenShape);
type TokenConfig = z.infer<typeof TokenSchema>;

/** What a handler is wired to (CDK sets each where the function uses it). */
const WiringShape = {
  STATE_MACHINE_ARN: optionalText,
  /** The outbox dispatcher a handler kicks after its commit (unset: the minute sweep delivers). */
  DISPATCHER_FUNCTION_NAME: optionalText,
  PAYMENTS_TOPIC_ARN: optionalText,
  ORDERS_TOPIC_ARN: optionalText,
  /** Unset on AWS: the Stripe SDK talks to api.stripe.com. Locally the fake. */
  STRIPE_API_BASE: optionalUrl,
  PAYPAL_API_BASE: z.preprocess((v) => (v === '' ? undefined : v), z.string().url().default('https://api-m.sandbox.paypal.com')),
  /**
   * The public REST API (the store's pages) PayPal sends the buyer back to after approving or
   * cancelling: its id and stage (payments). Unset: no return URLs, PayPal ends on its own page.
   */
  STORE_API_ID: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .string()
      .regex(/^[A-Za-z0-9]{1,64}$/, 'STORE_API_ID must be an API id')
      .optional(),
  ),
  STORE_API_STAGE: z
    .string()
    .regex(/^[\w-]{1,128}$/)
    .default('prod'),
  /** Extra allow-listed PayPal certificate URL prefixes (the local fake's), comma-separated. */
  PAYPAL_CERT_URL_PREFIXES: commaList,
  /** Public, for the storefront's GET /api/config and the CSP (what Stripe.js is initialised with). */
  STRIPE_PUBLISHABLE_KEY: z.string().default(''),
  STRIPE_PUBLIC_API_BASE: z.preprocess((v) => (v === '' ? undefined : v), z.string().url().default('https://api.stripe.com')),
  /** Where the BFF finds web/ (tests point it at the repository's). */
  WEB_ROOT: optionalText,
  /** The breaker drill's cool-down (its breakers judge after 4 calls). */
  BREAKER_DRILL_RESET_MS: positiveInt('BREAKER_DRILL_RESET_MS', 2000),
  /** The breaker board (bff/breaker-board.ts): a BFF instance's snapshot lives this long in Redis without a new publish. */
  BREAKER_BOARD_TTL_MS: positiveInt('BREAKER_BOARD_TTL_MS', 60_000),
  /** ...and is published on every breaker state change, and at most this often while the instance serves. */
  BREAKER_BOARD_INTERVAL_MS: positiveInt('BREAKER_BOARD_INTERVAL_MS', 5000),
  /** Per claims attempt (the whole claims call is bounded by BFF_CLAIMS_BUDGET_MS). */
  CLAIMS_TIMEOUT_MS: positiveInt('CLAIMS_TIMEOUT_MS', 8000),
  /** Refresh-token lifetime (identity). */
  REFRESH_TOKEN_TTL_SEC: positiveInt('REFRESH_TOKEN_TTL_SEC', 7 * 24 * 3600),
  /** Lifetime of an Idempotency-Key claim (claims), and the default in-flight lease. */
  CLAIMS_TTL_SECONDS: positiveInt('CLAIMS_TTL_SECONDS', 24 * 3600),
  CLAIMS_LEASE_SECONDS: positiveInt('CLAIMS_LEASE_SECONDS', 30),
};

const EnvSchema = z
  .object({
    ...BffLimitsShape,
    ...WiringShape,
    ...LoggingShape,
    ...TokenShape,
    SERVICE_NAME: z.string().min(1),
    DEPLOY_TARGET: z.enum(['local', 'aws']).default('local'),
    AWS_REGION: z.string().default('us-east-1'),
    /** Set only when running against an emulator; SDK v3 clients honour it too. */
    AWS_ENDPOINT_URL: z.string().url().optional(),
    PGHOST: z.string().default('127.0.0.1'),
    PGPORT: positiveInt('PGPORT', 5432),
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
    HTTP_TIMEOUT_MS: positiveInt('HTTP_TIMEOUT_MS', 3000),
    /** Comma-separated IAM role names whose identity headers a service API believes (the BFF's role). */
    TRUSTED_CALLER_ROLES: commaList,
    /**
     * How long a completed Lambda idempotency record (saga steps, event consumers; the service's
     * `idempotency_records`) answers repeats. Outlives a saga (900 s) and SQS's retries.
     */
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

/** Parses one schema; every issue is named by its variable, and the cold start stops. */
function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${issues}`);
  }
  return parsed.data;
}

/** Parses the environment once; a bad value stops the cold start with a readable message. */
export function config(env: NodeJS.ProcessEnv = process.env): Config {
  if (cached && env === process.env) return cached;
  const parsed = parseEnv(EnvSchema, env);
  if (env === process.env) cached = parsed;
  return parsed;
}

/*
 * Sections of the same schema that shared modules read on their own, without SERVICE_NAME:
 * the BFF's breakers and the logger are built in tests (and at import) without a full environment.
 */

export function bffLimits(env: NodeJS.ProcessEnv = process.env): BffLimits {
  return parseEnv(BffLimitsSchema, env);
}

export function loggingConfig(env: NodeJS.ProcessEnv = process.env): LoggingConfig {
  return parseEnv(LoggingSchema, env);
}

export function tokenConfig(env: NodeJS.ProcessEnv = process.env): TokenConfig {
  return parseEnv(TokenSchema, env);
}

/** For tests that change the environment between cases. */
export function resetConfigCache(): void {
  cached = undefined;
}
