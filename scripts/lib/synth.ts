import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './paths';

export type SynthTarget = 'aws' | 'local';

/**
 * Example context for the aws target: placeholder endpoints and network ids in the right
 * formats, so the template is what a real deploy would get, minus the real values.
 */
export const AWS_EXAMPLE_CONTEXT: Readonly<Record<string, string>> = {
  target: 'aws',
  pgHost: 'db.example.internal',
  redisUrl: 'rediss://cache.example.internal:6379/0',
  vaultAddr: 'https://vault.example.internal:8200',
  vpcId: 'vpc-0123456789abcdef0',
  privateSubnetIds: 'subnet-0123456789abcdef0,subnet-0fedcba9876543210',
  lambdaSecurityGroupId: 'sg-0123456789abcdef0',
};

/** A fixed, fake account and region per target: synth never asks AWS who we are. */
const TARGETS: Record<SynthTarget, { context: Record<string, string>; account: string; region: string }> = {
  aws: { context: { ...AWS_EXAMPLE_CONTEXT }, account: '123456789012', region: 'eu-west-1' },
  local: { context: { target: 'local' }, account: '000000000000', region: process.env.AWS_REGION ?? 'us-east-1' },
};

export const synthOutdir = (target: SynthTarget) => path.join(ROOT, `cdk.out.${target}`);

/**
 * Synthesizes one target into cdk.out.<target>/ and returns the stack template's path.
 * It runs the CDK app itself (the protocol the cdk CLI uses: CDK_OUTDIR, CDK_CONTEXT_JSON)
 * instead of `cdk synth`, because the CLI always asks STS for the default account (and may
 * fetch notices): this needs no credentials and no network, and never touches .local/.
 */
export async function synthesize(target: SynthTarget): Promise<string> {
  const { context, account, region } = TARGETS[target];
  const outdir = synthOutdir(target);
  fs.rmSync(outdir, { recursive: true, force: true });
  const tsx = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  const child = spawn(process.execPath, [tsx, path.join(ROOT, 'cdk', 'bin', 'app.ts')], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      ...process.env,
      CDK_OUTDIR: outdir,
      CDK_CONTEXT_JSON: JSON.stringify({ ...CLI_DEFAULT_CONTEXT, ...cdkJsonContext(), ...context }),
      CDK_DEFAULT_ACCOUNT: account,
      CDK_DEFAULT_REGION: region,
    },
  });
  const code = await new Promise<number | null>((resolve, reject) => child.once('error', reject).once('exit', resolve));
  if (code !== 0) throw new Error(`synth of the ${target} target failed (exit ${code})`);
  const template = stackTemplate(outdir);
  reportAnnotations(target, template);
  return template;
}

/** What `cdk synth` adds by default, so the template is the one `cdk deploy` would send. */
const CLI_DEFAULT_CONTEXT = {
  'aws:cdk:enable-path-metadata': true,
  'aws:cdk:enable-asset-metadata': true,
  'aws:cdk:version-reporting': true,
  'aws:cdk:disable-stack-trace': true,
};

/** The feature flags in cdk.json, which the CLI would pass to the app. */
function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
}

/**
 * Prints the construct warnings the CLI would print, and fails on errors (the app itself exits 0
 * with errors in its metadata; the CLI is what turns them into a failed synth).
 */
function reportAnnotations(target: SynthTarget, templateFile: string): void {
  type Entry = { type: string; data?: unknown };
  const metadataFile = templateFile.replace(/\.template\.json$/, '.metadata.json');
  if (!fs.existsSync(metadataFile)) return;
  const metadata = JSON.parse(fs.readFileSync(metadataFile, 'utf8')) as Record<string, Entry[]>;
  const found = Object.entries(metadata).flatMap(([where, entries]) =>
    entries.filter((e) => e.type === 'aws:cdk:warning' || e.type === 'aws:cdk:error').map((e) => ({ where, level: e.type.slice(8), text: String(e.data) })),
  );
  for (const a of found) console.error(`${a.level === 'error' ? '✗' : '!'} ${target} ${a.level} at ${a.where}: ${a.text}`);
  const errors = found.filter((a) => a.level === 'error').length;
  if (errors) throw new Error(`synth of the ${target} target reported ${errors} error(s)`);
}

/** The one stack template of the app, found through the cloud assembly's manifest. */
export function stackTemplate(outdir: string): string {
  type Manifest = { artifacts?: Record<string, { type: string; properties?: { templateFile?: string } }> };
  const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8')) as Manifest;
  const stacks = Object.values(manifest.artifacts ?? {}).filter((a) => a.type === 'aws:cloudformation:stack' && a.properties?.templateFile);
  if (stacks.length !== 1) throw new Error(`expected one stack in ${outdir}, found ${stacks.length}`);
  return path.join(outdir, stacks[0].properties!.templateFile!);
}
