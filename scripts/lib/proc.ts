import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { LOGS, PIDS } from './paths';

/** Background processes we own: one pid file and one log file per component. */
export const pidFile = (name: string) => path.join(PIDS, `${name}.pid`);
export const logFile = (name: string) => path.join(LOGS, `${name}.log`);

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function ownedPid(name: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(pidFile(name), 'utf8').trim());
    return pid > 0 && isAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Starts a detached process in its own process group, logging to .local/logs/<name>.log. */
export function startDetached(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): number {
  fs.mkdirSync(LOGS, { recursive: true });
  fs.mkdirSync(PIDS, { recursive: true });
  const out = fs.openSync(logFile(name), 'a');
  const child = spawn(cmd, args, {
    detached: true,
    stdio: ['ignore', out, out],
    env: { ...process.env, ...env },
    cwd,
  });
  child.unref();
  fs.writeFileSync(pidFile(name), String(child.pid));
  return child.pid!;
}

/**
 * Stops a component we started: SIGTERM to its process group, then SIGKILL after a grace period
 * (`graceMs` 0: SIGKILL at once, as a crash). Resolves once the process is gone (or after 5 s more).
 */
export async function stopOwned(name: string, graceMs = 5000): Promise<boolean> {
  const pid = ownedPid(name);
  fs.rmSync(pidFile(name), { force: true });
  if (!pid) return false;
  const signalGroup = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* gone */
      }
    }
  };
  if (graceMs > 0) signalGroup('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && isAlive(pid)) await sleep(100);
  if (isAlive(pid)) {
    signalGroup('SIGKILL');
    const killDeadline = Date.now() + 5000;
    while (Date.now() < killDeadline && isAlive(pid)) await sleep(50);
  }
  return true;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function portOpen(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number, everyMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await sleep(everyMs);
  }
  throw new Error(`${what} did not become ready within ${Math.round(timeoutMs / 1000)} s`);
}

export async function httpOk(url: string, init: RequestInit = {}): Promise<boolean> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(1000) });
    return res.ok;
  } catch {
    return false;
  }
}

export function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Runs a command to completion; throws with its output on failure. */
export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; log?: string } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...opts.env }, cwd: opts.cwd, maxBuffer: 64 << 20 });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (opts.log) {
    fs.mkdirSync(LOGS, { recursive: true });
    fs.appendFileSync(logFile(opts.log), `$ ${cmd} ${args.join(' ')}\n${output}\n`);
  }
  if (r.status !== 0) {
    const tail = output.trim().split('\n').slice(-15).join('\n');
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})\n${tail}`);
  }
  return r.stdout ?? '';
}

/** Like run, but streams into the component log and resolves when done (for long steps). */
export function runLogged(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Promise<void> {
  fs.mkdirSync(LOGS, { recursive: true });
  const out = fs.openSync(logFile(name), 'a');
  fs.writeSync(out, `\n$ ${cmd} ${args.join(' ')}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', out, out], env: { ...process.env, ...env }, cwd });
    child.on('error', reject);
    child.on('exit', (code) => {
      fs.closeSync(out);
      if (code === 0) resolve();
      else {
        const tail = fs.readFileSync(logFile(name), 'utf8').trim().split('\n').slice(-20).join('\n');
        reject(new Error(`${cmd} ${args.slice(0, 2).join(' ')} failed (exit ${code}); see .local/logs/${name}.log\n${tail}`));
      }
    });
  });
}
