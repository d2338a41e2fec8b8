import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CloudFormationClient, DescribeStackResourcesCommand, DescribeStacksCommand, type Output } from '@aws-sdk/client-cloudformation';
import { LambdaClient, PutFunctionConcurrencyCommand } from '@aws-sdk/client-lambda';
import { GetQueueAttributesCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { apiBaseUrl } from '../../functions/shared/endpoints';
import { emulatorIam } from './emulator-iam';
import { say } from './log';
import { ENDPOINTS_FILE, LOCAL, ROOT, STACK_OUTPUTS_FILE } from './paths';
import { runLogged } from './proc';
import { paymentFakeUrls } from './infra';
import { adminPgUrl, redisUrl, type Secrets, settings } from './settings';

/** Environment for cdklocal and the AWS SDK against the emulator. */
export function emulatorEnv(): NodeJS.ProcessEnv {
  return {
    AWS_ENDPOINT_URL: settings.awsEndpoint,
    AWS_ENDPOINT_URL_S3: settings.awsEndpoint,
    AWS_S3_FORCE_PATH_STYLE: '1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: settings.region,
    AWS_DEFAULT_REGION: settings.region,
    CDK_DEFAULT_ACCOUNT: '000000000000',
    CDK_DEFAULT_REGION: settings.region,
    CM_AWS_ENDPOINT: settings.awsEndpoint,
    CM_STACK_NAME: settings.stackName,
    CDK_DISABLE_VERSION_CHECK: '1',
  };
}

const sdkConfig = () => ({
  endpoint: settings.awsEndpoint,
  region: settings.region,
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});

async function stackOutputs(stackName: string): Promise<Output[] | undefined> {
  const cfn = new CloudFormationClient(sdkConfig());
  try {
    const res = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = res.Stacks?.[0];
    if (!stack || !/_COMPLETE$/.test(stack.StackStatus ?? '') || /ROLLBACK|DELETE/.test(stack.StackStatus ?? '')) return undefined;
    return stack.Outputs ?? [];
  } catch {
    return undefined;
  }
}

/** A digest of everything that changes the synthesized app. */
function sourceDigest(secrets: Secrets): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else {
        hash.update(path.relative(ROOT, p));
        hash.update(fs.readFileSync(p));
      }
    }
  };
  for (const dir of ['cdk', 'functions', 'stepfunctions', 'web']) if (fs.existsSync(path.join(ROOT, dir))) walk(path.join(ROOT, dir));
  for (const file of ['package-lock.json', 'cdk.json']) hash.update(fs.readFileSync(path.join(ROOT, file)));
  hash.update(JSON.stringify(secrets.serviceTokens));
  hash.update(secrets.stripePublishableKey);
  hash.update(JSON.stringify(emulatorEnv()));
  // Everything cdk/lib/config.ts reads from the environment changes the template too.
  const configEnv = Object.entries(process.env)
    .filter(([k]) => /^(PG|CM_|VAULT_ADDR$)/.test(k))
    .sort();
  hash.update(JSON.stringify(configEnv));
  return hash.digest('hex');
}

const DIGEST_FILE = path.join(LOCAL, 'deployed.sha');

export async function deployStack(secrets: Secrets, opts: { force?: boolean } = {}): Promise<Record<string, string>> {
  const env = emulatorEnv();
  const cdklocal = path.join(ROOT, 'node_modules', '.bin', 'cdklocal');
  if (!(await stackOutputs('CDKToolkit'))) {
    say.step('cdklocal bootstrap (once per emulator)');
    await runLogged('deploy', cdklocal, ['bootstrap', `aws://000000000000/${settings.region}`], env, ROOT);
  }
  const digest = sourceDigest(secrets);
  let outputs = await stackOutputs(settings.stackName);
  const unchanged = fs.existsSync(DIGEST_FILE) && fs.readFileSync(DIGEST_FILE, 'utf8') === digest;
  if (!outputs || !unchanged || opts.force) {
    say.step('cdklocal deploy (bundling handlers with esbuild)');
    fs.rmSync(DIGEST_FILE, { force: true });
    await runLogged(
      'deploy',
      cdklocal,
      ['deploy', settings.stackName, '--require-approval', 'never', '--outputs-file', STACK_OUTPUTS_FILE, '--progress', 'events'],
      env,
      ROOT,
    );
    outputs = await stackOutputs(settings.stackName);
    if (!outputs) throw new Error('The stack did not reach a complete state; see .local/logs/deploy.log');
    await applyTemplateIntent();
    fs.writeFileSync(DIGEST_FILE, digest);
  } else {
    say.ok('stack unchanged since the last deploy');
  }
  return Object.fromEntries(outputs.map((o) => [o.OutputKey!, o.OutputValue!]));
}

/**
 * The emulator drops some properties CloudFormation would apply. Read what the synthesized
 * template asks for and apply it through the service APIs (idempotent).
 * - Lambda ReservedConcurrentExecutions (ignored by MiniStack's CloudFormation provisioner).
 * - SQS RedrivePolicy (dropped by older MiniStack releases; re-applied if missing).
 * - Task-token calls (AUTH=true gap): MiniStack authorizes states:SendTaskSuccess/Failure against
 *   resource "*" (the request names no state machine), so the template's grant on the saga's ARN,
 *   which AWS honours, never matches. The roles holding that grant get the same actions on "*"
 *   as an inline policy on the emulator only; the template (and so AWS) keeps the narrow grant.
 */
async function applyTemplateIntent(): Promise<void> {
  const templateFile = path.join(ROOT, 'cdk.out', `${settings.stackName}.template.json`);
  const template = JSON.parse(fs.readFileSync(templateFile, 'utf8')) as {
    Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  };
  const cfn = new CloudFormationClient(sdkConfig());
  const res = await cfn.send(new DescribeStackResourcesCommand({ StackName: settings.stackName }));
  const physical = new Map((res.StackResources ?? []).map((r) => [r.LogicalResourceId!, r.PhysicalResourceId!]));
  const lambda = new LambdaClient(sdkConfig());
  const sqs = new SQSClient(sdkConfig());
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const props = resource.Properties ?? {};
    if (resource.Type === 'AWS::IAM::Policy' && JSON.stringify(props.PolicyDocument ?? {}).includes('states:SendTaskSuccess')) {
      for (const role of (props.Roles as Array<{ Ref: string }> | undefined) ?? []) {
        await putEmulatorTaskTokenPolicy(physical.get(role.Ref)!);
      }
    }
    if (resource.Type === 'AWS::Lambda::Function' && typeof props.ReservedConcurrentExecutions === 'number') {
      await lambda.send(
        new PutFunctionConcurrencyCommand({
          FunctionName: physical.get(logicalId),
          ReservedConcurrentExecutions: props.ReservedConcurrentExecutions,
        }),
      );
    }
    if (resource.Type === 'AWS::SQS::Queue' && props.RedrivePolicy) {
      const queueUrl = physical.get(logicalId)!;
      const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }));
      if (!attrs.Attributes?.RedrivePolicy) {
        const policy = props.RedrivePolicy as { deadLetterTargetArn: { 'Fn::GetAtt': [string, string] }; maxReceiveCount: number };
        const dlqUrl = physical.get(policy.deadLetterTargetArn['Fn::GetAtt'][0])!;
        const dlqArn = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }));
        await sqs.send(
          new SetQueueAttributesCommand({
            QueueUrl: queueUrl,
            Attributes: {
              RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn.Attributes!.QueueArn, maxReceiveCount: policy.maxReceiveCount }),
            },
          }),
        );
        say.info(`applied RedrivePolicy the emulator dropped on ${logicalId}`);
      }
    }
  }
}

/** The emulator-only grant described in applyTemplateIntent (IAM's query API, signed as root). */
async function putEmulatorTaskTokenPolicy(roleName: string): Promise<void> {
  await emulatorIam(settings.awsEndpoint, settings.region, {
    Action: 'PutRolePolicy',
    RoleName: roleName,
    PolicyName: 'emulator-task-token-gap',
    PolicyDocument: JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['states:SendTaskSuccess', 'states:SendTaskFailure'], Resource: '*' }],
    }),
  });
}

export interface Endpoints {
  apiBaseUrl: string;
  storefrontUrl: string;
  healthUrl: string;
  awsEndpoint: string;
  region: string;
  vaultAddr: string;
  vaultToken: string;
  postgresUrl: string;
  redisUrl: string;
  services: Record<string, string>;
  /** Local Stripe / PayPal fakes (what the deployed payments Lambda and the browser talk to). */
  paymentFakes: { stripe: string; paypal: string };
  stack: Record<string, string>;
}

export function writeEndpoints(outputs: Record<string, string>, secrets: Secrets): Endpoints {
  const url = (apiId: string, stage: string) => apiBaseUrl({ apiId, stage }, { region: settings.region, emulatorEndpoint: settings.awsEndpoint });
  const base = url(outputs.PublicApiId, outputs.PublicApiStage);
  const services: Record<string, string> = {};
  for (const [key, value] of Object.entries(outputs)) {
    const m = /^(\w+)ApiId$/.exec(key);
    if (m && key !== 'PublicApiId') services[m[1].toLowerCase()] = url(value, '$default');
  }
  const endpoints: Endpoints = {
    apiBaseUrl: base,
    storefrontUrl: `${base}/`,
    healthUrl: `${base}/api/health`,
    awsEndpoint: settings.awsEndpoint,
    region: settings.region,
    vaultAddr: settings.vaultAddr,
    // The local dev root token, so scripts and tests can read dev secrets; never used on AWS.
    vaultToken: secrets.vaultRootToken,
    postgresUrl: adminPgUrl(),
    redisUrl: redisUrl(),
    services,
    paymentFakes: paymentFakeUrls(),
    stack: outputs,
  };
  fs.writeFileSync(ENDPOINTS_FILE, JSON.stringify(endpoints, null, 2));
  return endpoints;
}
