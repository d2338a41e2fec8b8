import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * npm test: every jest project, in two phases. Phase 1 runs the suites that can share the stack
 * in parallel (unit, integration, e2e, browser); phase 2 runs, one file at a time, the suites that
 * change the whole system's behaviour (a flash crowd fills the bounded runtime, the chaos soak
 * injects faults into every service), so they cannot disturb the others. Extra arguments go to both phases (e.g. `-t <name>`).
 *
 * CM_TEST_RESULTS=<file>: write jest's JSON results of both phases, merged, to <file> (CI).
 */
const PHASES: Array<{ projects: string[]; serial: boolean }> = [
  { projects: ['unit', 'integration', 'e2e', 'browser'], serial: false },
  { projects: ['load', 'soak'], serial: true },
];

const jest = path.resolve(__dirname, '..', 'node_modules', 'jest', 'bin', 'jest.js');
const out = process.env.CM_TEST_RESULTS;
const extra = process.argv.slice(2);
let status = 0;
const results: Array<Record<string, unknown>> = [];

for (const [i, phase] of PHASES.entries()) {
  // --forceExit: a handle a test leaks (a keep-alive socket, a Redis client) must not hold the
  // run open until CI's time limit; leaks are still reported by jest's "did not exit" warning.
  const args = [jest, '--selectProjects', ...phase.projects, ...(phase.serial ? ['--runInBand'] : []), '--forceExit', ...extra];
  const file = out ? `${out}.phase${i + 1}` : undefined;
  if (file) {
    fs.rmSync(file, { force: true });
    args.push('--json', `--outputFile=${file}`);
  }
  console.log(`\n▶ jest ${phase.projects.join(' ')}${phase.serial ? ' (one file at a time)' : ''}`);
  const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (r.status !== 0) status = r.status ?? 1;
  if (file && fs.existsSync(file)) results.push(JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>);
}

if (out) {
  const sum = (k: string) => results.reduce((n, r) => n + Number(r[k] ?? 0), 0);
  const merged = {
    numPassedTests: sum('numPassedTests'),
    numFailedTests: sum('numFailedTests'),
    numPendingTests: sum('numPendingTests'),
    numTodoTests: sum('numTodoTests'),
    numTotalTests: sum('numTotalTests'),
    // A phase that wrote no results (crashed) counts as a failed suite.
    phasesWithoutResults: PHASES.length - results.length,
    testResults: results.flatMap((r) => (r.testResults as unknown[]) ?? []),
    success: status === 0,
  };
  fs.writeFileSync(out, JSON.stringify(merged));
}
process.exit(status);
