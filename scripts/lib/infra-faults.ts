import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { pgAnswers, redisAnswers } from './infra';
import { portOpen, waitFor, which } from './proc';
import { settings } from './settings';

/**
 * Restarts of the machine's Postgres and Redis, for the soak's infrastructure faults. They stop
 * the server every stack on the machine shares: the soak runs them only when asked
 * (`--infra-faults pg,redis`), on a machine nobody else uses. Each is bounded: it gives up (and
 * throws) when the server is not back within its limit. The command lines are built by pure
 * functions (unit-tested) from what the machine reports.
 */

export interface Command {
  cmd: string;
  args: string[];
}

/* ---------- Postgres ---------- */

/**
 * How to restart the cluster listening on `port`: Debian's `pg_ctlcluster` when `pg_lsclusters`
 * lists it (what `up` starts it with, scripts/lib/infra.ts ensurePostgres), else the machine's
 * service command. `lsclusters` is `pg_lsclusters --no-header` output (undefined: not installed).
 */
export function pgRestartCommand(opts: { lsclusters?: string; port: number; hasServiceCommand: boolean }): Command {
  if (opts.lsclusters !== undefined) {
    for (const line of opts.lsclusters.split('\n')) {
      const [version, cluster, port, status] = line.trim().split(/\s+/);
      if (Number(port) === opts.port && status?.startsWith('online')) {
        // Fast shutdown (active transactions roll back, clients are disconnected), then start;
        // no systemctl redirect (machines without systemd, as ensurePostgres starts it).
        return { cmd: 'pg_ctlcluster', args: ['--skip-systemctl-redirect', '--mode', 'fast', version, cluster, 'restart'] };
      }
    }
  }
  if (opts.hasServiceCommand) return { cmd: 'service', args: ['postgresql', 'restart'] };
  throw new Error(`no way to restart the PostgreSQL on port ${opts.port} here (no online cluster in pg_lsclusters, no \`service postgresql\`)`);
}

/** Restarts the machine's Postgres; resolves once it answers again (within `boundMs`). */
export async function restartPostgres(boundMs = 90_000): Promise<{ command: string; tookMs: number }> {
  if (!['127.0.0.1', 'localhost'].includes(settings.pgHost)) throw new Error(`Postgres at ${settings.pgHost} is not this machine's: not restarting it`);
  const started = Date.now();
  const lsclusters = which('pg_lsclusters') ? spawnSync('pg_lsclusters', ['--no-header'], { encoding: 'utf8', timeout: 10_000 }).stdout : undefined;
  const command = pgRestartCommand({ lsclusters, port: settings.pgPort, hasServiceCommand: !!which('service') && fs.existsSync('/etc/init.d/postgresql') });
  const r = spawnSync(command.cmd, command.args, { encoding: 'utf8', timeout: boundMs });
  const line = [command.cmd, ...command.args].join(' ');
  if (r.error || r.status !== 0) {
    throw new Error(`${line} failed (${r.error?.message ?? `exit ${r.status}`}): ${`${r.stdout ?? ''}${r.stderr ?? ''}`.trim().slice(-300)}`);
  }
  await waitFor('PostgreSQL after its restart', pgAnswers, Math.max(5000, boundMs - (Date.now() - started)), 200);
  return { command: line, tookMs: Date.now() - started };
}

/* ---------- Redis ---------- */

/** What the running server says about itself: INFO server fields and CONFIG GET * pairs. */
export interface RedisFacts {
  info: Record<string, string>;
  config: Record<string, string>;
}

/** The parameters a restart carries over from the running server, so data and port stay as configured. */
const REDIS_CARRIED = [
  'bind',
  'port',
  'protected-mode',
  'unixsocket',
  'unixsocketperm',
  'dir',
  'dbfilename',
  'save',
  'appendonly',
  'appendfilename',
  'appenddirname',
  'appendfsync',
  'databases',
  'maxmemory',
  'maxmemory-policy',
  'logfile',
  'loglevel',
  'pidfile',
] as const;

export function parseRedisInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

/**
 * How to start the same Redis again: its config file when it was started with one (plus
 * `--daemonize yes`), else its running parameters (persistence, port, bind, dir, log) on the
 * command line. `redisServer` is `redis-server` from PATH, used when the reported executable is
 * not there (it reports a path relative to the directory it was started in).
 */
export function redisRestartCommand(facts: RedisFacts, opts: { redisServer?: string; exists: (file: string) => boolean }): Command {
  const reported = facts.info.executable;
  const cmd = reported && opts.exists(reported) ? reported : opts.redisServer;
  if (!cmd) throw new Error('redis-server not found (not at the path the server reports, not on PATH)');
  const configFile = facts.info.config_file ?? '';
  if (configFile) return { cmd, args: [configFile, '--daemonize', 'yes'] };
  if (facts.config.requirepass) throw new Error('this Redis has a password and no config file: restarting it would put the password on a command line');
  const args: string[] = [];
  for (const name of REDIS_CARRIED) {
    const value = facts.config[name];
    if (value === undefined) continue;
    if (name === 'unixsocket' && value === '') continue;
    if (name === 'unixsocketperm' && !facts.config.unixsocket) continue;
    if (name === 'pidfile' && value === '') continue;
    if (name === 'bind') args.push('--bind', ...value.split(/\s+/).filter(Boolean));
    // No save points must stay none (`--save ''`): left out, Redis would apply its defaults.
    else if (name === 'save') args.push('--save', ...(value.trim() === '' ? [''] : value.trim().split(/\s+/)));
    else args.push(`--${name}`, value);
  }
  args.push('--daemonize', 'yes');
  return { cmd, args };
}

/**
 * Restarts the machine's Redis (SHUTDOWN, which saves if the server is configured to, then the
 * same server on the same port with the same parameters); resolves once it answers PONG again.
 */
export async function restartRedis(boundMs = 30_000): Promise<{ command: string; tookMs: number }> {
  if (!['127.0.0.1', 'localhost'].includes(settings.redisHost)) throw new Error(`Redis at ${settings.redisHost} is not this machine's: not restarting it`);
  const started = Date.now();
  const { default: Redis } = await import('ioredis');
  const r = new Redis({ host: settings.redisHost, port: settings.redisPort, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => undefined);
  let command: Command;
  try {
    await r.connect();
    const info = parseRedisInfo((await r.info('server')) as string);
    const pairs = (await r.config('GET', '*')) as string[];
    const config: Record<string, string> = {};
    for (let i = 0; i + 1 < pairs.length; i += 2) config[pairs[i]] = pairs[i + 1];
    if (Number(info.tcp_port) !== settings.redisPort) throw new Error(`Redis reports port ${info.tcp_port}, expected ${settings.redisPort}`);
    command = redisRestartCommand({ info, config }, { redisServer: which('redis-server'), exists: (f) => fs.existsSync(f) });
    // The server closes the connection as it goes: that is the answer.
    await r.call('SHUTDOWN').catch((err: Error) => {
      if (!/Connection is closed|ECONNRESET|ended/i.test(err.message)) throw err;
    });
  } finally {
    r.disconnect();
  }
  await waitFor('Redis to stop', async () => !(await portOpen(settings.redisPort, settings.redisHost)), 15_000, 100);
  const line = [command.cmd, ...command.args].join(' ');
  const start = () => {
    const child = spawn(command.cmd, command.args, { detached: true, stdio: 'ignore', cwd: '/' });
    child.on('error', () => undefined);
    child.unref();
  };
  start();
  try {
    await waitFor('Redis after its restart', redisAnswers, Math.max(5000, boundMs - (Date.now() - started)), 100);
  } catch {
    // Once more (a port still in TIME_WAIT on some kernels), then give up loudly.
    start();
    await waitFor('Redis after its restart', redisAnswers, 10_000, 200);
  }
  return { command: line, tookMs: Date.now() - started };
}
