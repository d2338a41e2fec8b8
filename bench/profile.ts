import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { SourceMap } from 'node:module';
import path from 'node:path';
import { CloudFormationClient, DescribeStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { BenchContext, Benchmark } from './lib/context';
import { scaled } from './lib/context';
import { awsConfig, ROOT } from './lib/env';
import type { Row } from './lib/report';
import { round, summarize } from './lib/stats';

/**
 * Where a BFF read spends its CPU: the deployed BFF's handler and environment run in a
 * `node --cpu-prof` process (bench/lib/bff-worker.ts) for N sequential product reads against
 * the deployed catalog; the profile's self time is grouped by package and by function.
 * In-process latency minus CPU time is waiting (catalog hop, Redis). Not in the default run:
 * `npm run bench -- profile`. The .cpuprofile is kept in .local/profiles/ (open it in Chrome
 * DevTools or speedscope).
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function bucketOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  if (url.startsWith('node:')) return 'node core';
  if (url.includes('/functions/')) return `functions/${url.split('/functions/')[1].split('/')[0]}`;
  return path.basename(url);
}

/** Bundle positions → original sources through the bundle's source map (packages, our folders). */
function resolver(bundle: string) {
  const mapFile = `${bundle}.map`;
  const map = fs.existsSync(mapFile) ? new SourceMap(JSON.parse(fs.readFileSync(mapFile, 'utf8'))) : undefined;
  return (frame: ProfileNode['callFrame'] & { columnNumber?: number }) => {
    if (!map || !frame.url.endsWith(path.basename(bundle))) return frame.url;
    const entry = map.findEntry(frame.lineNumber, frame.columnNumber ?? 0) as { originalSource?: string };
    return entry?.originalSource ?? frame.url;
  };
}

export function summarizeProfile(p: CpuProfile, bundle: string, window: { startUs: number; endUs: number }) {
  const source = resolver(bundle);
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let t = p.startTime;
  p.samples.forEach((id, i) => {
    t += p.timeDeltas[i] ?? 0;
    if (t < window.startUs || t > window.endUs) return;
    const n = byId.get(id)!;
    if (n.callFrame.functionName === '(idle)') return;
    self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const buckets: Record<string, number> = {};
  const fns: Record<string, number> = {};
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const url = source(n.callFrame);
    const b = bucketOf(url, n.callFrame.functionName);
    buckets[b] = (buckets[b] ?? 0) + us;
    const f = `${n.callFrame.functionName || '(anonymous)'} ${b}`;
    fns[f] = (fns[f] ?? 0) + us;
  }
  const top = (m: Record<string, number>, k: number) =>
    Object.entries(m)
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([name, us]) => ({ name, ms: round(us / 1000), pct: round((100 * us) / total) }));
  return { totalMs: round(total / 1000), byPackage: top(buckets, 12), byFunction: top(fns, 15) };
}

export const profile: Benchmark = {
  name: 'profile',
  title: 'Profile: a BFF worker (node --cpu-prof) serving product reads against the deployed catalog',
  needsFloor: false,
  async run(ctx: BenchContext) {
    const cfg = awsConfig(ctx.e);
    const stack = process.env.CM_STACK_NAME ?? 'CheckoutMesh';
    const resources = (await new CloudFormationClient(cfg).send(new DescribeStackResourcesCommand({ StackName: stack }))).StackResources ?? [];
    const bff = resources.find((r) => r.ResourceType === 'AWS::Lambda::Function' && /^BffApi/.test(r.LogicalResourceId ?? ''))?.PhysicalResourceId;
    if (!bff) throw new Error('BFF function not found');
    const template = JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.out', `${stack}.template.json`), 'utf8')) as {
      Resources: Record<string, { Type: string; Metadata?: Record<string, string> }>;
    };
    const asset = Object.entries(template.Resources).find(([id, r]) => r.Type === 'AWS::Lambda::Function' && /^BffApi/.test(id))?.[1].Metadata?.['aws:asset:path'];
    if (!asset) throw new Error('BFF asset not found in cdk.out');
    const bundle = path.join(ROOT, 'cdk.out', asset, 'index.js');
    const env = (await new LambdaClient(cfg).send(new GetFunctionConfigurationCommand({ FunctionName: bff }))).Environment?.Variables ?? {};
    const dir = path.join(ROOT, '.local', 'profiles');
    fs.mkdirSync(dir, { recursive: true });
    const before = new Set(fs.readdirSync(dir));
    const n = scaled(ctx, 400, 20);
    const args = {
      bundle,
      env: { ...env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: ctx.e.region },
      productId: '00000000-0000-4000-8000-000000000101',
      warmup: 30,
      n,
    };
    const child = spawnSync(
      process.execPath,
      ['--enable-source-maps', '--cpu-prof', `--cpu-prof-dir=${dir}`, '--require', 'tsx/cjs', path.join(__dirname, 'lib', 'bff-worker.ts'), JSON.stringify(args)],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 300_000,
        env: { PATH: process.env.PATH, HOME: process.env.HOME },
      },
    );
    if (child.status !== 0) throw new Error(`bff worker failed: ${child.stderr.slice(-800)}`);
    const out = JSON.parse(child.stdout.trim().split('\n').pop()!) as {
      windowStartUs: number;
      windowEndUs: number;
      latencies: number[];
      statuses: Record<string, number>;
      wallMs: number;
      cpuUserMs: number;
      cpuSystemMs: number;
    };
    const file = fs.readdirSync(dir).find((f) => f.endsWith('.cpuprofile') && !before.has(f));
    if (!file) throw new Error('no .cpuprofile written');
    const prof = summarizeProfile(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as CpuProfile, bundle, {
      startUs: out.windowStartUs,
      endUs: out.windowEndUs,
    });
    const lat = summarize(out.latencies);
    const cpuPerReq = round((out.cpuUserMs + out.cpuSystemMs) / n, 2);
    ctx.log(`in-process p50 ${lat.p50} ms, CPU ${cpuPerReq} ms/request; top packages ${JSON.stringify(prof.byPackage.slice(0, 6))}`);
    const rows: Row[] = [
      { case: `${n} reads, in-process BFF`, metric: 'handler latency p50 / p99', unit: 'ms', ours: `${lat.p50} / ${lat.p99}` },
      { case: `${n} reads, in-process BFF`, metric: 'CPU per request (user+sys, whole process)', unit: 'ms', ours: cpuPerReq },
      ...prof.byPackage.slice(0, 8).map((b) => ({ case: 'busy self time by package', metric: b.name, unit: '%', ours: b.pct })),
    ];
    return {
      rows,
      targets: [],
      notes: [`profile: .local/profiles/${file}`],
      data: { latency: lat, statuses: out.statuses, cpuPerRequestMs: cpuPerReq, profile: prof, file },
    };
  },
};
