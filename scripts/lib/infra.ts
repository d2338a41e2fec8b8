import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { LOCAL, LOGS, PIDS, ROOT, VENV, VENV_BIN } from './paths';
import { ensureLambdaNode } from './lambda-node';
import { SetupError, say } from './log';
import { httpOk, logFile, ownedPid, portOpen, run, runLogged, startDetached, stopOwned, waitFor, which } from './proc';
import { adminPgUrl, lambdaLimits, SERVICES, type Secrets, settings } from './settings';

/* ---------- Python side: .venv with pinned MiniStack and OpenBao ---------- */

const REQUIREMENTS = path.join(ROOT, 'localstack', 'requirements.txt');
const STAMP = path.join(VENV, '.requirements.sha');

export async function ensureVenv(): Promise<void> {
  const wanted = fs.readFileSync(REQUIREMENTS, 'utf8');
  if (fs.existsSync(STAMP) && fs.readFileSync(STAMP, 'utf8') === wanted && fs.existsSync(path.join(VENV_BIN, 'ministack'))) {
    return;
  }
  const python = which('python3') ?? which('python');
  if (!python) throw new SetupError('Python 3.10+ is required for the local emulator: install python3 (with venv and pip) and retry');
  if (!fs.existsSync(path.join(VENV_BIN, 'python'))) {
    say.step('creating .venv');
    try {
      run(python, ['-m', 'venv', VENV], { log: 'setup' });
    } catch (err) {
      const reason = (err as Error).message.split('\n').slice(-1)[0];
      throw new SetupError(`python3 -m venv failed (${reason}): install the venv module (e.g. apt-get install python3-venv) and retry`);
    }
  }
  say.step('installing pinned MiniStack and OpenBao into .venv (first run only)');
  await runLogged('setup', path.join(VENV_BIN, 'pip'), ['install', '--disable-pip-version-check', '-q', '-r', REQUIREMENTS]);
  fs.writeFileSync(STAMP, wanted);
}

/* ---------- Postgres ---------- */

export async function pgAnswers(): Promise<boolean> {
  const client = new Client({ connectionString: adminPgUrl('postgres'), connectionTimeoutMillis: 1000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function ensurePostgres(): Promise<void> {
  if (await pgAnswers()) return;
  const local = settings.pgHost === '127.0.0.1' || settings.pgHost === 'localhost';
  if (local && which('pg_ctlcluster') && fs.existsSync('/etc/postgresql')) {
    const versions = fs.readdirSync('/etc/postgresql');
    say.step(`starting the machine's PostgreSQL ${versions.join(', ')}`);
    for (const v of versions) {
      try {
        run('pg_ctlcluster', ['--skip-systemctl-redirect', v, 'main', 'start'], { log: 'setup' });
      } catch {
        /* already running or another cluster name: the probe below decides */
      }
    }
    await waitFor('PostgreSQL', pgAnswers, 20_000).catch(() => undefined);
    if (await pgAnswers()) return;
  }
  if (await portOpen(settings.pgPort, settings.pgHost)) {
    throw new SetupError(`PostgreSQL at ${settings.pgHost}:${settings.pgPort} refuses user "${settings.pgAdminUser}": allow it (trust or set PGPASSWORD) and retry`);
  }
  throw new SetupError(
    `PostgreSQL is not running on ${settings.pgHost}:${settings.pgPort} and could not be started: install it (apt-get install postgresql) or set PGHOST/PGPORT`,
  );
}

/**
 * The database, one owner role + schema per service, and the role Vault uses to mint
 * per-lease users. Owner roles cannot log in; leased users inherit them.
 */
export async function bootstrapDatabase(secrets: Secrets): Promise<void> {
  const admin = new Client({ connectionString: adminPgUrl('postgres') });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [settings.pgDatabase]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${ident(settings.pgDatabase)}`);
  } finally {
    await admin.end();
  }
  const db = new Client({ connectionString: adminPgUrl() });
  await db.connect();
  try {
    // Serialise concurrent `up`s: role creation is not idempotent under a race.
    await db.query('SELECT pg_advisory_lock(727001)');
    await ensureRole(db, 'vault_admin', `LOGIN CREATEROLE PASSWORD ${literal(secrets.vaultDbPassword)}`);
    await db.query(`ALTER ROLE vault_admin WITH LOGIN CREATEROLE PASSWORD ${literal(secrets.vaultDbPassword)}`);
    await db.query(`REVOKE CREATE ON SCHEMA public FROM PUBLIC`);
    for (const svc of SERVICES) {
      const owner = `${svc}_owner`;
      await ensureRole(db, owner, 'NOLOGIN');
      await db.query(`CREATE SCHEMA IF NOT EXISTS ${ident(svc)} AUTHORIZATION ${ident(owner)}`);
      await db.query(`ALTER SCHEMA ${ident(svc)} OWNER TO ${ident(owner)}`);
      await db.query(`ALTER ROLE ${ident(owner)} SET search_path = ${ident(svc)}`);
      // Vault must be able to grant the owner role to the users it creates.
      await db.query(`GRANT ${ident(owner)} TO vault_admin WITH ADMIN OPTION`);
    }
    // Leased users whose lease Vault forgot (the dev-mode Vault of earlier versions kept leases in
    // memory; a wiped .local/openbao) outlive it: drop those long expired and no longer connected.
    const stale = await db.query<{ rolname: string }>(
      `SELECT rolname FROM pg_roles r WHERE rolname LIKE 'v-%' AND rolvaliduntil < now() - interval '10 minutes'
          AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.usename = r.rolname)`,
    );
    let dropped = 0;
    for (const { rolname } of stale.rows) {
      try {
        await db.query(`DROP OWNED BY ${ident(rolname)}`);
        await db.query(`DROP ROLE ${ident(rolname)}`);
        dropped++;
      } catch {
        // Owns objects in another database of this server: that database's `up` drops it.
      }
    }
    if (dropped) say.info(`dropped ${dropped} expired leased database users`);
    await db.query('SELECT pg_advisory_unlock(727001)');
  } finally {
    await db.end();
  }
}

async function ensureRole(db: Client, name: string, options: string): Promise<void> {
  const r = await db.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
  if (r.rowCount === 0) await db.query(`CREATE ROLE ${ident(name)} ${options}`);
}

const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;

/* ---------- Redis ---------- */

export async function redisAnswers(): Promise<boolean> {
  if (!(await portOpen(settings.redisPort, settings.redisHost))) return false;
  const { default: Redis } = await import('ioredis');
  const r = new Redis({ host: settings.redisHost, port: settings.redisPort, lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1000 });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

export async function ensureRedis(): Promise<void> {
  if (await redisAnswers()) return;
  const local = settings.redisHost === '127.0.0.1' || settings.redisHost === 'localhost';
  const server = which('redis-server');
  if (local && server) {
    say.step("starting the machine's Redis");
    fs.mkdirSync(LOGS, { recursive: true });
    run(server, ['--daemonize', 'yes', '--bind', '127.0.0.1', '--port', String(settings.redisPort), '--save', '', '--appendonly', 'no', '--logfile', logFile('redis')], {
      log: 'setup',
    });
    await waitFor('Redis', redisAnswers, 10_000);
    return;
  }
  throw new SetupError(
    `Redis is not running on ${settings.redisHost}:${settings.redisPort} and could not be started: install it (apt-get install redis-server) or set CM_REDIS_HOST/CM_REDIS_PORT`,
  );
}

/* ---------- OpenBao (Vault API) ---------- */

async function vault<T = unknown>(token: string, method: string, p: string, body?: unknown): Promise<T> {
  const res = await fetch(`${settings.vaultAddr}/v1/${p}`, {
    method,
    headers: { 'X-Vault-Token': token, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`Vault ${method} ${p}: ${res.status} ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : {}) as T;
}

async function vaultTokenWorks(token: string): Promise<boolean> {
  try {
    await vault(token, 'GET', 'auth/token/lookup-self');
    return true;
  } catch {
    return false;
  }
}

/*
 * OpenBao runs as a real server, not `bao server -dev`: integrated storage (raft, single node) in
 * .local/openbao/data, so tokens, leases, policies and KV secrets survive a restart or a crash,
 * and the Lambdas keep their tokens and leases without a redeploy. (OpenBao 2.7 has no `file`
 * storage backend any more; raft on one node is its durable on-disk store.) It is initialised
 * once with one Shamir key share; the unseal key and the initial root token are written to
 * .local/openbao/init.json (0600, git-ignored with .local) and never printed nor passed on a
 * command line. `up` unseals it on every start. The root token the tooling uses
 * (.local/secrets.json vaultRootToken) is a root-policy token created with that fixed id.
 */
export const OPENBAO_DIR = path.join(LOCAL, 'openbao');
const OPENBAO_CONFIG = path.join(OPENBAO_DIR, 'config.hcl');
const OPENBAO_DATA = path.join(OPENBAO_DIR, 'data');
const OPENBAO_INIT = path.join(OPENBAO_DIR, 'init.json');

interface OpenBaoInit {
  /** Unseal key shares (hex), as sys/init returned them. */
  keys: string[];
  rootToken: string;
  initializedAt: string;
}

/** The server configuration: no secrets in it (the unseal key stays in init.json). */
export function openBaoConfig(opts: { port: number; dataDir: string }): string {
  const api = `127.0.0.1:${opts.port}`;
  const cluster = `127.0.0.1:${opts.port + 1}`;
  return `# Written by \`npm run up\` (scripts/lib/infra.ts): the local OpenBao, persistent, no TLS on loopback.
storage "raft" {
  path    = ${JSON.stringify(opts.dataDir)}
  node_id = "checkout-mesh-local"
}
listener "tcp" {
  address         = "${api}"
  cluster_address = "${cluster}"
  tls_disable     = true
}
api_addr     = "http://${api}"
cluster_addr = "http://${cluster}"
ui           = false
`;
}

interface SealStatus {
  initialized: boolean;
  sealed: boolean;
  storage_type?: string;
}

async function sealStatus(): Promise<SealStatus | undefined> {
  try {
    const res = await fetch(`${settings.vaultAddr}/v1/sys/seal-status`, { signal: AbortSignal.timeout(2000) });
    if (!res.ok) return undefined;
    return (await res.json()) as SealStatus;
  } catch {
    return undefined;
  }
}

/** sys/health answers 200 only on an initialised, unsealed, active node. */
const vaultActive = () => httpOk(`${settings.vaultAddr}/v1/sys/health`);

function readInit(): OpenBaoInit | undefined {
  if (!fs.existsSync(OPENBAO_INIT)) return undefined;
  return JSON.parse(fs.readFileSync(OPENBAO_INIT, 'utf8')) as OpenBaoInit;
}

/** Written with 0600 from the first byte (tmp file + rename), never logged. */
function writeInit(init: OpenBaoInit): void {
  const tmp = `${OPENBAO_INIT}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(init, null, 2), { mode: 0o600 });
  fs.renameSync(tmp, OPENBAO_INIT);
}

async function vaultNoToken<T>(method: string, p: string, body: unknown, timeoutMs = 5000): Promise<T> {
  const res = await fetch(`${settings.vaultAddr}/v1/${p}`, {
    method,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  // Never echo the body: init and unseal answers carry keys.
  if (!res.ok) throw new Error(`Vault ${method} ${p}: ${res.status}`);
  return JSON.parse(text) as T;
}

/** Starts our OpenBao server (persistent) and waits until it answers, sealed or not. */
async function startOpenBao(port: number): Promise<void> {
  fs.mkdirSync(OPENBAO_DATA, { recursive: true, mode: 0o700 });
  fs.chmodSync(OPENBAO_DIR, 0o700);
  fs.writeFileSync(OPENBAO_CONFIG, openBaoConfig({ port, dataDir: OPENBAO_DATA }));
  startDetached('openbao', path.join(VENV_BIN, 'bao'), ['server', `-config=${OPENBAO_CONFIG}`]);
  await waitFor('OpenBao', async () => (await sealStatus()) !== undefined, 30_000, 100);
}

/** Initialises (first start only), unseals, and makes sure the tooling's root token works. */
async function initAndUnseal(secrets: Secrets): Promise<void> {
  let status = await sealStatus();
  if (!status) throw new SetupError('OpenBao does not answer sys/seal-status');
  if (!status.initialized) {
    if (fs.existsSync(OPENBAO_INIT)) {
      // The data directory was wiped: the old keys open nothing any more.
      fs.renameSync(OPENBAO_INIT, `${OPENBAO_INIT}.stale-${Date.now()}`);
    }
    say.step('initialising OpenBao (first start: one unseal key, kept in .local/openbao/init.json)');
    const res = await vaultNoToken<{ keys: string[]; root_token: string }>('PUT', 'sys/init', { secret_shares: 1, secret_threshold: 1 }, 60_000);
    writeInit({ keys: res.keys, rootToken: res.root_token, initializedAt: new Date().toISOString() });
    status = (await sealStatus()) ?? status;
  }
  const init = readInit();
  if (status.sealed) {
    if (!init) {
      throw new SetupError(
        'OpenBao is initialised but .local/openbao/init.json (its unseal key) is missing: restore it, or `npm run down && rm -rf .local/openbao` to start over',
      );
    }
    say.step('unsealing OpenBao (key from .local/openbao/init.json)');
    for (const key of init.keys) {
      const r = await vaultNoToken<{ sealed: boolean }>('PUT', 'sys/unseal', { key });
      if (!r.sealed) break;
    }
  }
  await waitFor('OpenBao (unsealed, active)', vaultActive, 30_000, 100);
  if (await vaultTokenWorks(secrets.vaultRootToken)) return;
  if (!init) throw new SetupError('OpenBao rejects the root token of .local/secrets.json and .local/openbao/init.json is missing');
  // The tooling (scripts, tests, endpoints.json) keeps using the root token of .local/secrets.json.
  // No display name: database users it leases are named `v-token-<role>-…` as with the dev server's.
  await vault(init.rootToken, 'POST', 'auth/token/create-orphan', { id: secrets.vaultRootToken, policies: ['root'] });
}

export async function ensureVault(secrets: Secrets): Promise<void> {
  const port = Number(new URL(settings.vaultAddr).port || 8200);
  const ours = ownedPid('openbao');
  if (ours) {
    const status = await sealStatus();
    if (status && status.storage_type !== 'raft') {
      // An OpenBao of ours from before (`bao server -dev`, all in memory): replace it. It kept
      // nothing, so the new one starts empty; the Lambdas re-lease on their next call.
      say.step('replacing the in-memory (dev mode) OpenBao with a persistent one');
      await stopOwned('openbao');
    } else if (!status) {
      say.step('restarting OpenBao (ours, not answering)');
      await stopOwned('openbao');
    }
  } else if (await portOpen(port)) {
    // Not ours: a Vault run elsewhere (Docker, a shared dev Vault) is driven with its root token.
    if (!(await vaultTokenWorks(secrets.vaultRootToken))) {
      throw new SetupError(`Port ${port} is taken by another process (not our OpenBao): stop it or set VAULT_ADDR to a free port`);
    }
    await configureVault(secrets);
    return;
  }
  if (!ownedPid('openbao')) {
    await waitFor(`port ${port} to be free`, async () => !(await portOpen(port)), 10_000, 100).catch(() => {
      throw new SetupError(`Port ${port} is still taken after stopping our OpenBao: free it and retry`);
    });
    say.step(`starting OpenBao (persistent storage in .local/openbao, 127.0.0.1:${port})`);
    await startOpenBao(port);
  }
  await initAndUnseal(secrets);
  await configureVault(secrets);
}

/**
 * Stops our OpenBao (SIGTERM, or SIGKILL as a crash) and brings it back with `ensureVault`: the
 * same data, unsealed again. The soak's `baoRestart` fault; resolves once it serves requests.
 */
export async function restartVault(secrets: Secrets, how: 'stop' | 'crash' = 'stop'): Promise<void> {
  if (!ownedPid('openbao')) throw new Error('OpenBao is not ours (no live .local/pids/openbao.pid): not restarting it');
  await stopOwned('openbao', how === 'crash' ? 0 : 5000);
  await ensureVault(secrets);
}

/** Removes a leased user if it still exists (reassigning what it owned to the service's owner role). */
export function revocationStatement(svc: string): string {
  return `DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{{name}}') THEN
    REASSIGN OWNED BY "{{name}}" TO ${svc}_owner;
    DROP OWNED BY "{{name}}";
    DROP ROLE "{{name}}";
  END IF;
END $$;`;
}

/** Idempotent: engines, the database connection, one role and policy and token per service, KV secrets. */
export async function configureVault(secrets: Secrets): Promise<void> {
  const root = secrets.vaultRootToken;
  const mounts = await vault<Record<string, unknown>>(root, 'GET', 'sys/mounts');
  const mounted = (mounts as { data?: Record<string, unknown> }).data ?? mounts;
  if (!('database/' in mounted)) await vault(root, 'POST', 'sys/mounts/database', { type: 'database' });
  if (!('secret/' in mounted)) await vault(root, 'POST', 'sys/mounts/secret', { type: 'kv', options: { version: '2' } });

  await vault(root, 'POST', 'database/config/checkout_mesh', {
    plugin_name: 'postgresql-database-plugin',
    connection_url: `postgresql://{{username}}:{{password}}@${settings.pgHost}:${settings.pgPort}/${settings.pgDatabase}?sslmode=disable`,
    username: 'vault_admin',
    password: secrets.vaultDbPassword,
    allowed_roles: SERVICES.join(','),
    // Vault would otherwise rotate vault_admin's password away from what we store.
    verify_connection: true,
  });
  for (const svc of SERVICES) {
    await vault(root, 'POST', `database/roles/${svc}`, {
      db_name: 'checkout_mesh',
      default_ttl: settings.dbLeaseTtl,
      max_ttl: settings.dbLeaseMaxTtl,
      creation_statements: [
        `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}' IN ROLE ${svc}_owner;`,
        `ALTER ROLE "{{name}}" SET search_path = ${svc};`,
        // Revocation reassigns / drops what the user owned, which needs the user's privileges.
        `GRANT "{{name}}" TO vault_admin;`,
      ],
      // Revocation runs only after our pool drained; it must not kill sessions, just remove the user.
      // A user already gone is revoked too: OpenBao keeps leases across restarts, and a lease whose
      // user was dropped elsewhere (up's clean-up of long-expired users, another database) would
      // otherwise fail every revocation, and with it every revoke-prefix of the role. One
      // dollar-quoted block: the plugin runs it as one statement.
      revocation_statements: [revocationStatement(svc)],
    });
  }
  const policies: Record<string, string> = {};
  for (const svc of [...SERVICES, 'bff', 'chaos']) {
    const dbPart = (SERVICES as readonly string[]).includes(svc) ? `path "database/creds/${svc}" { capabilities = ["read"] }\n` : '';
    policies[svc] = `${dbPart}path "secret/data/${svc}/*" { capabilities = ["read"] }
path "secret/data/shared/*" { capabilities = ["read"] }
path "sys/leases/renew" { capabilities = ["update"] }
path "sys/leases/revoke" { capabilities = ["update"] }
path "sys/health" { capabilities = ["read"] }
`;
  }
  // Identity manages the JWT signing keys (rotation writes new key material).
  policies.identity += 'path "secret/data/identity/*" { capabilities = ["create", "read", "update"] }\n';
  for (const [svc, policy] of Object.entries(policies)) {
    await vault(root, 'PUT', `sys/policies/acl/${svc}`, { policy });
    const id = secrets.serviceTokens[svc];
    if (!(await vaultTokenWorks(id))) {
      await vault(root, 'POST', 'auth/token/create-orphan', {
        id,
        policies: [svc],
        period: '768h',
        no_default_policy: false,
        display_name: `svc-${svc}`,
      });
    }
  }
  // Local dev provider credentials: they only open the local fakes (localstack/fakes).
  await vault(root, 'POST', 'secret/data/payments/stripe', {
    data: { webhookSecret: secrets.stripeWebhookSecret, apiKey: secrets.stripeApiKey, publishableKey: secrets.stripePublishableKey },
  });
  await vault(root, 'POST', 'secret/data/payments/paypal', {
    data: { webhookId: secrets.paypalWebhookId, clientId: secrets.paypalClientId, clientSecret: secrets.paypalClientSecret },
  });
}

/* ---------- MiniStack ---------- */

/** Which Node the running MiniStack of ours puts first on its PATH (written when we start it). */
/** What our MiniStack was started with (settings and Lambda Node): a change restarts it. */
const MINISTACK_SETTINGS = path.join(PIDS, 'ministack.settings.json');
/** MiniStack's entry point with the corrections that make it behave as AWS does (throttles, callback tasks). */
const MINISTACK_LAUNCHER = path.join(ROOT, 'localstack', 'ministack_launch.py');

export async function ensureMinistack(): Promise<void> {
  const url = new URL(settings.awsEndpoint);
  const port = Number(url.port || 4566);
  // MiniStack, or LocalStack when Docker users run it (same port, its own health path).
  const healthy = async () => (await httpOk(`${settings.awsEndpoint}/_ministack/health`)) || (await httpOk(`${settings.awsEndpoint}/_localstack/health`));
  let limits: ReturnType<typeof lambdaLimits>;
  try {
    limits = lambdaLimits();
  } catch (err) {
    throw new SetupError((err as Error).message);
  }
  // MiniStack starts each Lambda worker as `node` from its own PATH (Popen(["node", ...]) in
  // ministack/core/lambda_runtime.py; no setting names the binary): the pinned Node of the
  // declared runtime goes first on that PATH, so the workers run it and not the machine's Node.
  const lambdaNode = await ensureLambdaNode();
  const wanted = {
    // Enforce what AWS enforces: signatures and IAM policies (execute-api grants included). The
    // root caller is the access key `test` with secret `test` (scripts, cdklocal, tests).
    AUTH: 'true',
    // Bounded to what this machine can run (scripts/lib/settings.ts lambdaLimits).
    LAMBDA_ACCOUNT_CONCURRENCY: String(limits.accountConcurrency),
    LAMBDA_WARM_TTL_SECONDS: String(limits.warmTtlSeconds),
    LAMBDA_NODE: `${lambdaNode.binary} v${lambdaNode.version}`,
    // The launcher's AWS-fidelity corrections (localstack/ministack_launch.py): a new one restarts.
    LAUNCHER: createHash('sha256').update(fs.readFileSync(MINISTACK_LAUNCHER)).digest('hex').slice(0, 16),
  };
  if (await healthy()) {
    // Not ours (LocalStack in Docker, an emulator started by hand): nothing to place or restart.
    if (!ownedPid('ministack')) return;
    // One of ours started with other settings (before AUTH=true, other limits, another Node): restart it.
    const startedWith = fs.existsSync(MINISTACK_SETTINGS) ? fs.readFileSync(MINISTACK_SETTINGS, 'utf8') : undefined;
    if ((await ministackAuth()) !== 'disabled' && startedWith === JSON.stringify(wanted)) return;
    say.step('restarting MiniStack with new settings (AUTH=true, bounded Lambda concurrency, the pinned Lambda Node)');
    await stopOwned('ministack');
  }
  if (await portOpen(port)) {
    throw new SetupError(`Port ${port} is taken by another process (not a healthy MiniStack): stop it or set CM_AWS_ENDPOINT`);
  }
  say.step(
    `starting MiniStack (Lambdas on Node ${lambdaNode.version}, AUTH=true, at most ${limits.accountConcurrency} concurrent, idle workers reaped after ${limits.warmTtlSeconds} s)`,
  );
  const { LAMBDA_NODE: _stamp, LAUNCHER: _launcher, ...env } = wanted;
  startDetached(
    'ministack',
    path.join(VENV_BIN, 'python'),
    [MINISTACK_LAUNCHER],
    {
      BIND_HOST: '127.0.0.1',
      GATEWAY_PORT: String(port),
      LAMBDA_EXECUTOR: 'local',
      MINISTACK_REGION: settings.region,
      ...env,
      PATH: [lambdaNode.binDir, process.env.PATH ?? ''].join(path.delimiter),
    },
    ROOT,
  );
  await waitFor('MiniStack', healthy, 60_000);
  fs.mkdirSync(path.dirname(MINISTACK_SETTINGS), { recursive: true });
  fs.writeFileSync(MINISTACK_SETTINGS, JSON.stringify(wanted));
}

/** MiniStack's IAM enforcement as its health report states it (LocalStack reports none). */
async function ministackAuth(): Promise<'enabled' | 'disabled' | undefined> {
  try {
    const res = await fetch(`${settings.awsEndpoint}/_ministack/health`, { signal: AbortSignal.timeout(1000) });
    if (!res.ok) return undefined;
    return ((await res.json()) as { auth?: 'enabled' | 'disabled' }).auth;
  } catch {
    return undefined;
  }
}

/* ---------- Payment provider fakes ---------- */

export const paymentFakeUrls = () => ({
  stripe: `http://127.0.0.1:${settings.stripeFakePort}`,
  paypal: `http://127.0.0.1:${settings.paypalFakePort}`,
});

/**
 * The local Stripe and PayPal fakes (one Node process), delivering webhooks to the public API.
 * Restarted only when what they are configured with changes (their state is in memory).
 */
export async function ensurePaymentFakes(secrets: Secrets, apiBaseUrl: string): Promise<void> {
  const urls = paymentFakeUrls();
  const env = {
    STRIPE_FAKE_PORT: String(settings.stripeFakePort),
    STRIPE_FAKE_WEBHOOK_URL: `${apiBaseUrl}/webhooks/stripe`,
    STRIPE_FAKE_WEBHOOK_SECRET: secrets.stripeWebhookSecret,
    PAYPAL_FAKE_PORT: String(settings.paypalFakePort),
    PAYPAL_FAKE_WEBHOOK_URL: `${apiBaseUrl}/webhooks/paypal`,
    PAYPAL_FAKE_WEBHOOK_ID: secrets.paypalWebhookId,
    PAYPAL_FAKE_CLIENT_ID: secrets.paypalClientId,
    PAYPAL_FAKE_CLIENT_SECRET: secrets.paypalClientSecret,
    // Docker: Lambdas in containers reach the fakes through the host's name for them.
    FAKES_BIND_HOST: process.env.CM_LAMBDA_FAKES_HOST ? '0.0.0.0' : '127.0.0.1',
    PAYPAL_FAKE_CERT_BASE_URL: process.env.CM_LAMBDA_FAKES_HOST ? `http://${process.env.CM_LAMBDA_FAKES_HOST}:${settings.paypalFakePort}` : '',
  };
  const digest = createHash('sha256')
    .update(JSON.stringify(env))
    .update(fs.readFileSync(path.join(ROOT, 'localstack', 'fakes', 'stripe-fake.ts')))
    .update(fs.readFileSync(path.join(ROOT, 'localstack', 'fakes', 'paypal-fake.ts')))
    .digest('hex');
  const digestFile = path.join(LOCAL, 'pids', 'payment-fakes.digest');
  const healthy = async () => (await httpOk(`${urls.stripe}/health`)) && (await httpOk(`${urls.paypal}/health`));
  if (ownedPid('payment-fakes') && fs.existsSync(digestFile) && fs.readFileSync(digestFile, 'utf8') === digest && (await healthy())) return;
  await stopOwned('payment-fakes');
  for (const port of [settings.stripeFakePort, settings.paypalFakePort]) {
    if (await portOpen(port)) {
      throw new SetupError(`Port ${port} (payment provider fake) is taken by another process: free it or set CM_STRIPE_FAKE_PORT / CM_PAYPAL_FAKE_PORT`);
    }
  }
  say.step('starting the Stripe and PayPal fakes');
  startDetached(
    'payment-fakes',
    process.execPath,
    [path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(ROOT, 'localstack', 'fakes', 'serve.ts')],
    env,
    ROOT,
  );
  await waitFor('payment fakes', healthy, 30_000);
  fs.writeFileSync(digestFile, digest);
}
