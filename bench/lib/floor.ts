import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { apiBaseUrl } from '../../functions/shared/endpoints';
import { emulatorEnv } from '../../scripts/lib/deploy';
import { runLogged } from '../../scripts/lib/proc';
import { awsConfig, endpoints, ROOT } from './env';

/** The bench-only floor stack (cdk/bin/bench-app.ts), deployed beside the product stack. */
export interface Floor {
  stackName: string;
  echoApiUrl: string;
  echoFunctionName: string;
  stateMachineArn: string;
  sagaSteps: number;
}

const stackName = () => `${process.env.CM_STACK_NAME ?? 'CheckoutMesh'}Floor`;
const OUT_DIR = path.join(ROOT, '.local', 'cdk.out.bench');
const DIGEST_FILE = path.join(ROOT, '.local', 'bench-floor.sha');
const SOURCES = ['cdk/bin/bench-app.ts', 'cdk/lib/bench-floor-stack.ts', 'bench/floor/echo.ts', 'package-lock.json'];
const cdkArgs = () => ['--app', 'npx tsx cdk/bin/bench-app.ts', '--output', OUT_DIR];

async function outputs(): Promise<Record<string, string> | undefined> {
  const cfn = new CloudFormationClient(awsConfig());
  try {
    const stack = (await cfn.send(new DescribeStacksCommand({ StackName: stackName() }))).Stacks?.[0];
    if (!stack || !/_COMPLETE$/.test(stack.StackStatus ?? '') || /ROLLBACK|DELETE/.test(stack.StackStatus ?? '')) return undefined;
    return Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey!, o.OutputValue!]));
  } catch {
    return undefined;
  }
}

function digest(): string {
  const h = createHash('sha256');
  for (const f of SOURCES) h.update(fs.readFileSync(path.join(ROOT, f)));
  h.update(JSON.stringify(emulatorEnv()));
  h.update(process.env.CM_BENCH_SAGA_STEPS ?? '5');
  return h.digest('hex');
}

const cdklocal = path.join(ROOT, 'node_modules', '.bin', 'cdklocal');

/** Deploys the floor stack when it is missing or its sources changed (idempotent, ~10-20 s). */
export async function ensureFloor(log: (s: string) => void): Promise<Floor> {
  const d = digest();
  let out = await outputs();
  const unchanged = fs.existsSync(DIGEST_FILE) && fs.readFileSync(DIGEST_FILE, 'utf8') === d;
  if (!out || !unchanged) {
    log(`deploying the floor stack ${stackName()} (cdklocal, log in .local/logs/bench-floor.log)`);
    fs.rmSync(DIGEST_FILE, { force: true });
    await runLogged('bench-floor', cdklocal, ['deploy', stackName(), ...cdkArgs(), '--require-approval', 'never'], emulatorEnv(), ROOT);
    out = await outputs();
    if (!out) throw new Error('the floor stack did not reach a complete state; see .local/logs/bench-floor.log');
    fs.writeFileSync(DIGEST_FILE, d);
  }
  const e = endpoints();
  return {
    stackName: stackName(),
    echoApiUrl: apiBaseUrl({ apiId: out.EchoApiId, stage: out.EchoApiStage }, { region: e.region, emulatorEndpoint: e.awsEndpoint }),
    echoFunctionName: out.EchoFunctionName,
    stateMachineArn: out.FloorStateMachineArn,
    sagaSteps: Number(out.FloorSagaSteps),
  };
}

/** `npm run bench -- --destroy-floor`: removes the floor stack (nothing if it is not there). */
export async function destroyFloor(log: (s: string) => void): Promise<void> {
  if (!(await outputs())) {
    log('no floor stack to destroy');
    fs.rmSync(DIGEST_FILE, { force: true });
    return;
  }
  await runLogged('bench-floor', cdklocal, ['destroy', stackName(), ...cdkArgs(), '--force'], emulatorEnv(), ROOT);
  fs.rmSync(DIGEST_FILE, { force: true });
  log(`destroyed ${stackName()}`);
}
