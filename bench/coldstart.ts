import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CloudFormationClient, DescribeStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { GetFunctionConfigurationCommand, InvokeCommand, LambdaClient, UpdateFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import type { BenchContext, Benchmark } from './lib/context';
import { awsConfig, ROOT } from './lib/env';
import { kb, METAFILE, reportOf } from '../scripts/lib/bundles';
import { installedLambdaNodeVersion, lambdaNodeBinary } from '../scripts/lib/lambda-node';
import type { Row, Target } from './lib/report';
import { nowMs, ratio, round, sleep } from './lib/stats';

/**
 * Cold start and size, per function of the product stack and for the echo floor:
 * - bundle: index.js of its cdk.out asset (minified; the source map is a separate file);
 * - load: `require()` of that bundle in a fresh process of the Lambdas' Node (.local/lambda-node),
 *   with --enable-source-maps as deployed, and without;
 * - cold: first invocation after UpdateFunctionConfiguration (the emulator recycles the
 *   function's workers on a configuration change), then warm: the next invocation.
 * HTTP functions get a request for an unknown path (routing, middlewares, 404; no data
 * access), SQS consumers an empty batch, the others `{}` (the saga step rejects it: its
 * first invocation still loads and initialises everything; its error recycles the worker,
 * so it has no warm figure). The nonce variable is removed
 * again afterwards (one more recycle).
 */
/** Issue 18's target for every bundle (minified index.js). */
const BUNDLE_LIMIT_KB = 700;

interface Fn {
  logicalId: string;
  physical: string;
  asset: string;
  kind: 'rest' | 'http' | 'sqs' | 'other';
}

interface Template {
  // biome-ignore lint/suspicious/noExplicitAny: CloudFormation resource properties of every type, read by path
  Resources: Record<string, { Type: string; Properties?: Record<string, any>; Metadata?: Record<string, string> }>;
}

function functionsOf(outDir: string, stackName: string, physical: Map<string, string>): Fn[] {
  const t = JSON.parse(fs.readFileSync(path.join(outDir, `${stackName}.template.json`), 'utf8')) as Template;
  const sqs = new Set(
    Object.values(t.Resources)
      .filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping')
      .map((r) => r.Properties?.FunctionName?.Ref as string),
  );
  const restTargets = new Set(
    Object.values(t.Resources)
      .filter((r) => r.Type === 'AWS::Lambda::Permission' && JSON.stringify(r.Properties?.SourceArn ?? '').includes('execute-api'))
      .map((r) => r.Properties?.FunctionName?.['Fn::GetAtt']?.[0] as string),
  );
  const httpApiTargets = new Set(
    Object.values(t.Resources)
      .filter((r) => r.Type === 'AWS::ApiGatewayV2::Integration')
      .map((r) => r.Properties?.IntegrationUri?.['Fn::GetAtt']?.[0] as string),
  );
  return Object.entries(t.Resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.['aws:asset:path'])
    .map(([id, r]) => ({
      logicalId: id,
      physical: physical.get(id) ?? id,
      asset: path.join(outDir, r.Metadata!['aws:asset:path']),
      kind: httpApiTargets.has(id) ? 'http' : sqs.has(id) ? 'sqs' : restTargets.has(id) ? 'rest' : 'other',
    }));
}

function eventFor(kind: Fn['kind']): unknown {
  const path = '/__bench/cold-start';
  if (kind === 'http')
    return {
      version: '2.0',
      routeKey: '$default',
      rawPath: path,
      rawQueryString: '',
      headers: { host: '127.0.0.1' },
      requestContext: { http: { method: 'GET', path, sourceIp: '127.0.0.1', protocol: 'HTTP/1.1', userAgent: 'bench' }, requestId: 'bench', stage: '$default' },
      isBase64Encoded: false,
    };
  if (kind === 'rest')
    return {
      resource: '/{proxy+}',
      path,
      httpMethod: 'GET',
      headers: { Host: '127.0.0.1' },
      multiValueHeaders: {},
      queryStringParameters: null,
      pathParameters: { proxy: path.slice(1) },
      requestContext: { identity: { sourceIp: '127.0.0.1' }, requestId: 'bench', stage: 'prod', path, httpMethod: 'GET' },
      body: null,
      isBase64Encoded: false,
    };
  if (kind === 'sqs') return { Records: [] };
  return {};
}

/** Module load time of a bundle in a fresh node (median of 3), as the worker loads it. */
/** The Node the emulator runs the Lambdas on (what a cold start loads the bundle with); this process's Node if it is not installed. */
function runtimeNode(): { binary: string; version: string } {
  const version = installedLambdaNodeVersion();
  return version ? { binary: lambdaNodeBinary(), version } : { binary: process.execPath, version: process.version };
}

function loadMs(bundle: string, sourceMaps: boolean): number {
  const script = `const t=performance.now();try{require(${JSON.stringify(bundle)})}catch(e){}process.stdout.write(String(performance.now()-t));process.exit(0)`;
  const runs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const r = spawnSync(runtimeNode().binary, [...(sourceMaps ? ['--enable-source-maps'] : []), '-e', script], {
      env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', SERVICE_NAME: 'bench', LOG_LEVEL: 'ERROR' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    runs.push(Number(r.stdout));
  }
  return round(runs.sort((a, b) => a - b)[1]);
}

export const coldstart: Benchmark = {
  name: 'coldstart',
  title: 'Cold start and size: bundle KB, module load, first and second invocation per function vs the echo Lambda',
  needsFloor: true,
  async run(ctx: BenchContext) {
    const floor = await ctx.floor();
    const cfg = awsConfig(ctx.e);
    const cfn = new CloudFormationClient(cfg);
    const lambda = new LambdaClient(cfg);
    const stackName = process.env.CM_STACK_NAME ?? 'CheckoutMesh';
    const physicalOf = async (stack: string) =>
      new Map(((await cfn.send(new DescribeStackResourcesCommand({ StackName: stack }))).StackResources ?? []).map((r) => [r.LogicalResourceId!, r.PhysicalResourceId!]));
    const fns = functionsOf(path.join(ROOT, 'cdk.out'), stackName, await physicalOf(stackName));
    const echo = functionsOf(path.join(ROOT, '.local', 'cdk.out.bench'), floor.stackName, await physicalOf(floor.stackName)).find((f) => /^Echo/.test(f.logicalId));
    if (!echo) throw new Error('echo function not found in the floor stack template');

    const waitActive = async (name: string) => {
      for (let i = 0; i < 100; i++) {
        const c = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
        if (c.LastUpdateStatus !== 'InProgress' && c.State !== 'Pending') return c;
        await sleep(100);
      }
      throw new Error(`${name} did not become active`);
    };
    const setNonce = async (name: string, nonce: string | undefined) => {
      const c = await waitActive(name);
      const vars = { ...(c.Environment?.Variables ?? {}) };
      if (nonce === undefined) delete vars.BENCH_COLD_START_NONCE;
      else vars.BENCH_COLD_START_NONCE = nonce;
      await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, Environment: { Variables: vars } }));
      await waitActive(name);
    };
    const invoke = async (fn: Fn) => {
      const started = nowMs();
      const res = await lambda.send(new InvokeCommand({ FunctionName: fn.physical, Payload: Buffer.from(JSON.stringify(eventFor(fn.kind))) }));
      return { ms: round(nowMs() - started), error: res.FunctionError };
    };

    const measure = async (fn: Fn) => {
      const bundle = path.join(fn.asset, 'index.js');
      const sizeKB = round(fs.statSync(bundle).size / 1024, 0);
      const mapFile = `${bundle}.map`;
      const mapKB = fs.existsSync(mapFile) ? round(fs.statSync(mapFile).size / 1024, 0) : 0;
      // The largest contributors, from the esbuild metafile beside the bundle (npm run bundles prints all of them).
      const metaFile = path.join(fn.asset, METAFILE);
      const top = fs.existsSync(metaFile)
        ? reportOf(fn.logicalId, JSON.parse(fs.readFileSync(metaFile, 'utf8')))
            .contributors.slice(0, 5)
            .map((c) => `${c.name} ${kb(c.bytes)}`)
        : [];
      const load = loadMs(bundle, true);
      const loadNoMaps = loadMs(bundle, false);
      await setNonce(fn.physical, String(Date.now()));
      const cold = await invoke(fn);
      const warm = await invoke(fn);
      return {
        fn: fn.logicalId.replace(/[0-9A-F]{8}$/, ''),
        kind: fn.kind,
        sizeKB,
        mapKB,
        top,
        loadMs: load,
        loadNoSourceMapsMs: loadNoMaps,
        coldMs: cold.ms,
        warmMs: warm.ms,
        coldError: cold.error,
      };
    };

    const floorM = await measure(echo);
    ctx.log(`echo: ${JSON.stringify(floorM)}`);
    const measured = [];
    try {
      for (const fn of fns) {
        const m = await measure(fn);
        measured.push(m);
        ctx.log(
          `${m.fn}: ${m.sizeKB} KB, load ${m.loadMs} ms (no maps ${m.loadNoSourceMapsMs}), cold ${m.coldMs} ms, warm ${m.warmMs} ms${m.coldError ? ` (${m.coldError})` : ''}`,
        );
      }
    } finally {
      for (const fn of [...fns, echo]) await setNonce(fn.physical, undefined).catch(() => undefined);
    }
    const rows: Row[] = measured.map((m) => ({
      case: m.fn,
      metric: 'KB / load / cold / warm',
      unit: 'ms',
      ours: `${m.sizeKB} / ${m.loadMs} / ${m.coldMs} / ${m.coldError ? 'n/a (error recycles the worker)' : m.warmMs}`,
      floor: `${floorM.sizeKB} / ${floorM.loadMs} / ${floorM.coldMs} / ${floorM.warmMs}`,
      ratio: ratio(m.coldMs, floorM.coldMs),
    }));
    const biggest = measured.reduce((a, b) => (b.sizeKB > a.sizeKB ? b : a));
    const over = measured.filter((m) => m.sizeKB > BUNDLE_LIMIT_KB);
    const targets: Target[] = [
      { name: `bundles ≤ ${BUNDLE_LIMIT_KB} KB minified (largest: ${biggest.fn})`, limit: `≤ ${BUNDLE_LIMIT_KB} KB`, value: biggest.sizeKB, met: over.length === 0 },
      {
        name: 'cold first invocation / echo cold (worst function)',
        limit: '≤ 2',
        value: Math.max(...measured.map((m) => ratio(m.coldMs, floorM.coldMs))),
        met: measured.every((m) => ratio(m.coldMs, floorM.coldMs) <= 2),
      },
    ];
    return {
      rows,
      targets,
      notes: [
        `KB = index.js of the cdk.out asset (minified, source map external); load = require() in a fresh process of the Lambdas' Node (${runtimeNode().version}) with --enable-source-maps; cold = first invocation after a configuration change (client-side, through the emulator); warm = the next one. Ratio = cold / echo cold.`,
        ...(over.length ? [`over ${BUNDLE_LIMIT_KB} KB: ${over.map((m) => `${m.fn} ${m.sizeKB} KB (${m.top.join(', ')})`).join('; ')}`] : []),
      ],
      data: { functions: measured, floor: floorM },
    };
  },
};
