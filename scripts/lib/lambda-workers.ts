import fs from 'node:fs';

/**
 * MiniStack's Lambda workers, found in /proc. MiniStack runs each concurrent invocation in its own
 * `node /tmp/ministack-lambda-<FunctionName>-<random>/_worker.js` process, a direct child of the
 * emulator's process, with the emulator's environment (GATEWAY_PORT among it). Only workers of
 * our own emulator are ever picked: by parent pid, or (orphans of a crashed emulator, re-parented)
 * by the gateway port in their environment, never by name alone (other stacks on the machine run
 * workers with the same names).
 */
export interface ProcEntry {
  pid: number;
  ppid: number;
  cmdline: string;
}

export interface LambdaWorker {
  pid: number;
  ppid: number;
  functionName: string;
}

/** The function a worker runs, from its command line; undefined when it is no worker of `stackName`. */
export function workerFunctionName(cmdline: string, stackName: string): string | undefined {
  const m = /\/ministack-lambda-([A-Za-z0-9_-]+?)-[A-Za-z0-9_]{8}\/_worker\.[cm]?js\b/.exec(cmdline);
  if (!m?.[1].startsWith(`${stackName}-`)) return undefined;
  return m[1];
}

/** The parent pid from /proc/<pid>/stat (the command name, field 2, may hold spaces and parentheses). */
export function parsePpid(stat: string): number {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(rest[1]);
}

/** Workers of `stackName` among `procs` whose parent is `parentPid`. */
export function childWorkers(procs: ProcEntry[], parentPid: number, stackName: string): LambdaWorker[] {
  const out: LambdaWorker[] = [];
  for (const p of procs) {
    if (p.ppid !== parentPid) continue;
    const functionName = workerFunctionName(p.cmdline, stackName);
    if (functionName) out.push({ pid: p.pid, ppid: p.ppid, functionName });
  }
  return out;
}

export function listProcs(): ProcEntry[] {
  const out: ProcEntry[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim();
      if (!cmdline.includes('ministack-lambda-')) continue;
      out.push({ pid: Number(name), ppid: parsePpid(fs.readFileSync(`/proc/${name}/stat`, 'utf8')), cmdline });
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/** The Lambda workers our MiniStack (pid `ministackPid`) runs now. */
export function ministackWorkers(ministackPid: number, stackName: string): LambdaWorker[] {
  return childWorkers(listProcs(), ministackPid, stackName);
}

/** Whether a process's environment says it belongs to the emulator on `gatewayPort`. */
export function environHasGatewayPort(environ: string, gatewayPort: number): boolean {
  return environ.split('\0').includes(`GATEWAY_PORT=${gatewayPort}`);
}

/** Whether `pid` is a live MiniStack process (its command line names it, or our launcher of it). */
function isMinistack(pid: number): boolean {
  try {
    return /\bministack(?:_launch\.py)?\b/.test(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * Workers left behind by an emulator of ours that died (kill -9): re-parented (their parent is
 * no live MiniStack, whoever's) and started by the emulator on our gateway port.
 */
export function orphanedWorkers(stackName: string, gatewayPort: number): LambdaWorker[] {
  const out: LambdaWorker[] = [];
  for (const p of listProcs()) {
    const functionName = workerFunctionName(p.cmdline, stackName);
    if (!functionName || isMinistack(p.ppid)) continue;
    try {
      if (!environHasGatewayPort(fs.readFileSync(`/proc/${p.pid}/environ`, 'utf8'), gatewayPort)) continue;
    } catch {
      continue;
    }
    out.push({ pid: p.pid, ppid: p.ppid, functionName });
  }
  return out;
}

/** SIGKILLs the given workers; returns those that were still there to kill. */
export function killWorkers(workers: LambdaWorker[]): LambdaWorker[] {
  const killed: LambdaWorker[] = [];
  for (const w of workers) {
    try {
      process.kill(w.pid, 'SIGKILL');
      killed.push(w);
    } catch {
      /* already gone */
    }
  }
  return killed;
}
