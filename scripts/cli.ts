/**
 * npm start | up | down | status | deploy | seed
 *
 * start  = up, print the URLs, stay in the foreground; Ctrl-C stops what we started.
 * up     = bring everything up in the background (idempotent; recovers after a crash).
 * down   = stop every process we started (Postgres and Redis belong to the machine and stay).
 * status = one line per component.
 */
import fs from 'node:fs';
import { say, SetupError } from './lib/log';
import { ENDPOINTS_FILE, LOCAL } from './lib/paths';
import { httpOk, isAlive, ownedPid, portOpen, stopOwned } from './lib/proc';
import { killWorkers, orphanedWorkers } from './lib/lambda-workers';
import { secrets, settings } from './lib/settings';
import { bootstrapDatabase, ensureMinistack, ensurePaymentFakes, ensurePostgres, ensureRedis, ensureVault, ensureVenv, paymentFakeUrls } from './lib/infra';
import { migrate } from './lib/migrate';
import { MIGRATIONS } from './lib/paths';
import { adminPgUrl } from './lib/settings';
import { deployStack, writeEndpoints, type Endpoints } from './lib/deploy';
import { seedAll } from './lib/seed';

const OWNED = ['payment-fakes', 'ministack', 'openbao'] as const;

function checkNode(): void {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 20) throw new SetupError(`Node.js 20 or newer is required (found ${process.versions.node})`);
}

/** One `up` at a time per checkout: a second caller waits for the first (two deploys would collide). */
async function withUpLock<T>(fn: () => Promise<T>): Promise<T> {
  fs.mkdirSync(LOCAL, { recursive: true });
  const lock = `${LOCAL}/up.lock`;
  for (let waited = 0; ; waited += 500) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch {
      const holder = Number(fs.readFileSync(lock, 'utf8') || 0);
      if (!holder || !isAlive(holder)) {
        fs.rmSync(lock, { force: true });
        continue;
      }
      if (waited === 0) say.info(`another \`up\` (pid ${holder}) is running; waiting for it`);
      if (waited > 600_000) throw new SetupError(`another \`up\` (pid ${holder}) has held .local/up.lock for 10 minutes`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

async function up(opts: { force?: boolean } = {}): Promise<Endpoints> {
  return withUpLock(() => upLocked(opts));
}

async function upLocked(opts: { force?: boolean }): Promise<Endpoints> {
  const started = Date.now();
  checkNode();
  const sec = secrets();
  await ensureVenv();
  say.step('Postgres and Redis');
  await ensurePostgres();
  await ensureRedis();
  await bootstrapDatabase(sec);
  say.step('OpenBao');
  await ensureVault(sec);
  say.step('MiniStack');
  await ensureMinistack();
  say.step('migrations');
  const result = await migrate(adminPgUrl(), MIGRATIONS);
  say.info(`${result.applied.length} applied, ${result.skipped} already applied`);
  const outputs = await deployStack(sec, opts);
  const endpoints = writeEndpoints(outputs, sec);
  await ensurePaymentFakes(sec, endpoints.apiBaseUrl);
  const seeded = await seedAll();
  if (seeded.length) say.info(`seeded: ${seeded.join(', ')}`);
  await waitHealthy(endpoints.healthUrl);
  say.ok(`up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return endpoints;
}

async function waitHealthy(url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      if (res.ok) return;
      last = `${res.status} ${(await res.text()).slice(0, 500)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new SetupError(`The system did not report healthy at ${url}: ${last}`);
}

function printUrls(e: Endpoints): void {
  console.log('');
  console.log(`  Storefront  ${e.storefrontUrl}`);
  console.log(`  Health      ${e.healthUrl}`);
  console.log(`  API base    ${e.apiBaseUrl}`);
  console.log(`  Endpoints   .local/endpoints.json   Logs  .local/logs/`);
  console.log('');
}

async function down(): Promise<void> {
  for (const name of OWNED) {
    if (await stopOwned(name)) say.ok(`stopped ${name}`);
  }
  // Lambda workers of an emulator of ours that crashed (kill -9) outlive its process group: end
  // them too. Only ours (started by the emulator on our port): other stacks run the same names.
  const orphans = killWorkers(orphanedWorkers(settings.stackName, Number(new URL(settings.awsEndpoint).port || 4566))).length;
  if (orphans) say.ok(`stopped ${orphans} orphaned Lambda workers of an earlier emulator`);
  fs.rmSync(`${LOCAL}/deployed.sha`, { force: true });
  say.ok('down (Postgres and Redis are the machine’s and keep running)');
}

async function status(): Promise<void> {
  const line = (name: string, ok: boolean, detail: string) => console.log(`${ok ? '✓' : '✗'} ${name.padEnd(10)} ${detail}`);
  line('postgres', await portOpen(settings.pgPort, settings.pgHost), `${settings.pgHost}:${settings.pgPort}`);
  line('redis', await portOpen(settings.redisPort, settings.redisHost), `${settings.redisHost}:${settings.redisPort}`);
  const seal = (await fetch(`${settings.vaultAddr}/v1/sys/seal-status`, { signal: AbortSignal.timeout(1000) })
    .then((r) => r.json())
    .catch(() => undefined)) as { sealed?: boolean; storage_type?: string } | undefined;
  const sealState = seal ? `${seal.sealed ? 'sealed (npm run up unseals it)' : 'unsealed'}, ${seal.storage_type ?? '?'} storage` : 'not answering';
  line('openbao', await httpOk(`${settings.vaultAddr}/v1/sys/health`), `${settings.vaultAddr} pid ${ownedPid('openbao') ?? '-'}, ${sealState}`);
  line('ministack', await httpOk(`${settings.awsEndpoint}/_ministack/health`), `${settings.awsEndpoint} pid ${ownedPid('ministack') ?? '-'}`);
  const fakes = paymentFakeUrls();
  line(
    'fakes',
    (await httpOk(`${fakes.stripe}/health`)) && (await httpOk(`${fakes.paypal}/health`)),
    `stripe ${fakes.stripe}, paypal ${fakes.paypal} pid ${ownedPid('payment-fakes') ?? '-'}`,
  );
  if (fs.existsSync(ENDPOINTS_FILE)) {
    const e = JSON.parse(fs.readFileSync(ENDPOINTS_FILE, 'utf8')) as Endpoints;
    const res = await fetch(e.healthUrl, { signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
    line('api', res?.ok ?? false, `${e.healthUrl} -> ${res?.status ?? 'no answer'}`);
    if (res) {
      const body = (await res.json().catch(() => ({}))) as { services?: Record<string, { status: string }> };
      for (const [svc, r] of Object.entries(body.services ?? {})) line(`  ${svc}`, r.status === 'up', r.status);
    }
  } else {
    line('api', false, 'not deployed (npm run up)');
  }
}

async function main(): Promise<void> {
  const command = process.argv[2] ?? 'status';
  switch (command) {
    case 'up':
      printUrls(await up({ force: process.argv.includes('--force') }));
      return;
    case 'deploy':
      printUrls(await up({ force: true }));
      return;
    case 'start': {
      const endpoints = await up();
      printUrls(endpoints);
      say.info('Running. Press Ctrl-C to stop everything this started.');
      const stop = async () => {
        console.log('');
        await down();
        process.exit(0);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      // Stay alive; watch the emulator so a crash is reported rather than silent.
      setInterval(async () => {
        if (!(await httpOk(`${settings.awsEndpoint}/_ministack/health`))) say.warn('MiniStack stopped answering; run `npm run up` to recover');
      }, 15_000);
      return;
    }
    case 'down':
      return down();
    case 'status':
      return status();
    case 'seed':
      say.ok(`seeded: ${(await seedAll()).join(', ') || 'nothing'}`);
      return;
    default:
      throw new SetupError(`Unknown command "${command}": use start, up, down, status, deploy or seed`);
  }
}

main().catch((err: Error) => {
  if (err instanceof SetupError) {
    console.error(`✗ ${err.message}`);
  } else {
    console.error(`✗ ${err.message}`);
    if (process.env.DEBUG) console.error(err.stack);
  }
  process.exit(1);
});
