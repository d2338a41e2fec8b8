import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Integration and e2e suites need the system up. When it is not (no endpoints file, or the
 * health check is not green), bring it up first so `npm test` works on its own.
 * Unit-only runs never start anything.
 */
export default async function globalSetup(): Promise<void> {
  const args = process.argv.join(' ');
  const onlyUnit = /--selectProjects[ =]unit(\s|$)/.test(args) && !/integration|e2e/.test(args.split('--selectProjects')[1] ?? '');
  if (onlyUnit || process.env.CM_TEST_NO_UP === '1') return;
  const root = path.resolve(__dirname, '..', '..');
  const file = path.join(root, '.local', 'endpoints.json');
  if (fs.existsSync(file)) {
    const { healthUrl } = JSON.parse(fs.readFileSync(file, 'utf8')) as { healthUrl: string };
    const healthy = await fetch(healthUrl, { signal: AbortSignal.timeout(10_000) })
      .then((r) => r.ok)
      .catch(() => false);
    if (healthy) return;
  }
  console.log('\nThe system is not up: running `npm run up` first');
  const r = spawnSync('npx', ['tsx', 'scripts/cli.ts', 'up'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('`npm run up` failed; integration and e2e tests need the system up');
}
