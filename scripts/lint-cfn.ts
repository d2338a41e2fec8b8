/**
 * npm run lint:cfn: synthesizes both targets (aws with example context, local) and runs the
 * pinned cfn-lint from .venv over each template with .cfnlintrc.yaml. Exit 1 on any error or
 * warning: a warning is either fixed in cdk/ or ignored by rule id, with its reason, in .cfnlintrc.yaml.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensureVenv } from './lib/infra';
import { say } from './lib/log';
import { ROOT, VENV_BIN } from './lib/paths';
import { synthesize, type SynthTarget } from './lib/synth';

const TARGETS: SynthTarget[] = ['aws', 'local'];
const CFN_LINT = path.join(VENV_BIN, 'cfn-lint');
const CONFIG = path.join(ROOT, '.cfnlintrc.yaml');

/** cfn-lint's exit status is a bit mask: 2 errors, 4 warnings, 8 informational (not enabled here). */
function describeStatus(status: number): string {
  const kinds = [
    [2, 'errors'],
    [4, 'warnings'],
    [8, 'informational findings'],
  ] as const;
  const found = kinds.filter(([bit]) => status & bit).map(([, name]) => name);
  return found.length ? found.join(' and ') : `exit ${status}`;
}

function lint(target: SynthTarget, template: string): boolean {
  const r = spawnSync(CFN_LINT, ['--config-file', CONFIG, '--', template], { cwd: ROOT, stdio: 'inherit' });
  const status = r.status ?? 1;
  if (status === 0) say.ok(`cfn-lint ${target}: clean (${path.relative(ROOT, template)})`);
  else console.error(`✗ cfn-lint ${target}: ${describeStatus(status)} (${path.relative(ROOT, template)})`);
  return status === 0;
}

async function main(): Promise<number> {
  // .venv comes from `npm run up`; build it here (pinned requirements, cfn-lint among them) when it has no cfn-lint.
  if (!fs.existsSync(CFN_LINT)) await ensureVenv();
  if (!fs.existsSync(CFN_LINT)) throw new Error(`${CFN_LINT} is missing after installing localstack/requirements.txt`);
  say.step('synthesizing the aws and local templates');
  const templates = await Promise.all(TARGETS.map((target) => synthesize(target)));
  const clean = TARGETS.map((target, i) => lint(target, templates[i]));
  return clean.every(Boolean) ? 0 : 1;
}

main()
  .then((code) => process.exit(code))
  .catch((err: Error) => {
    console.error(`✗ ${err.message}`);
    process.exit(1);
  });
