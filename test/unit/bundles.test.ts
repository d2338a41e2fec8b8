import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { CheckoutMeshStack } from '../../cdk/lib/checkout-mesh-stack';
import { type BundleReport, bundleReports, bundleTable, contributorOf, familyOf, METAFILE, type Metafile, reportOf } from '../../scripts/lib/bundles';

/**
 * The bundle report (npm run bundles, scripts/lib/bundles.ts), and what the real bundles hold: the
 * stack is synthesized with esbuild bundling (as `cdk synth` does), and each function's metafile is
 * read back.
 */
describe('the bundle report', () => {
  it('names the package an input belongs to (the innermost node_modules), or our folder', () => {
    expect(contributorOf('node_modules/zod/v4/core/schemas.js')).toBe('zod');
    expect(contributorOf('node_modules/@smithy/core/dist-es/submodules/protocols/index.js')).toBe('@smithy/core');
    expect(contributorOf('node_modules/@aws-lambda-powertools/idempotency/node_modules/@aws-lambda-powertools/jmespath/lib/esm/index.js')).toBe(
      '@aws-lambda-powertools/jmespath',
    );
    expect(contributorOf('functions/shared/http.ts')).toBe('functions/shared');
    expect(contributorOf('stepfunctions/checkout-saga.asl.json')).toBe('stepfunctions/checkout-saga.asl.json');
    expect(familyOf('@smithy/core')).toBe('AWS SDK');
    expect(familyOf('@ioredis/commands')).toBe('Redis');
    expect(familyOf('pg-protocol')).toBe('Postgres');
    expect(familyOf('functions/bff')).toBe('ours');
    expect(familyOf('jose')).toBe('other');
  });

  it('sums each package over its files and lists the largest first', () => {
    const r = reportOf('Fn', {
      outputs: {
        'index.js.map': { bytes: 9, inputs: {} },
        'index.js': {
          bytes: 7000,
          entryPoint: 'functions/x/handlers/api.ts',
          inputs: {
            'node_modules/zod/a.js': { bytesInOutput: 1024 },
            'node_modules/zod/b.js': { bytesInOutput: 2048 },
            'functions/x/handlers/api.ts': { bytesInOutput: 1024 },
            'node_modules/empty/index.js': { bytesInOutput: 0 },
          },
        },
      },
    });
    expect(r).toMatchObject({ fn: 'Fn', bytes: 7000, entryPoint: 'functions/x/handlers/api.ts' });
    expect(r.contributors).toEqual([
      { name: 'zod', bytes: 3072 },
      { name: 'functions/x', bytes: 1024 },
    ]);
    expect(bundleTable([r], 1)).toContain('| Fn | 7 | zod 3, 1 more 1 |');
  });
});

describe('the Lambda bundles', () => {
  let outdir: string;
  let reports: BundleReport[];
  const bundle = (fn: string) => {
    const r = reports.find((x) => x.fn === fn);
    if (!r) throw new Error(`no function ${fn} among ${reports.map((x) => x.fn).join(', ')}`);
    return r;
  };
  const packages = (fn: string) => bundle(fn).contributors.map((c) => c.name);
  /** Our own files in a bundle (from its metafile). */
  const ownFiles = (fn: string) => {
    const meta = JSON.parse(fs.readFileSync(path.join(bundle(fn).asset, METAFILE), 'utf8')) as Metafile;
    const out = Object.values(meta.outputs).find((o) => o.entryPoint)!;
    return Object.keys(out.inputs).filter((i) => !i.includes('node_modules/'));
  };

  beforeAll(() => {
    outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cm-bundles-'));
    // Asset metadata (aws:asset:path) is what the cdk CLI asks for; the report finds each bundle through it.
    const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
    new CheckoutMeshStack(app, 'CheckoutMesh', { env: { account: '000000000000', region: 'us-east-1' } });
    app.synth();
    reports = bundleReports(path.join(outdir, 'CheckoutMesh.template.json'));
  }, 180_000);
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  it('writes an esbuild metafile next to every bundle', () => {
    expect(reports.length).toBeGreaterThanOrEqual(13);
    for (const r of reports) expect([r.fn, r.entryPoint]).toEqual([r.fn, expect.stringMatching(/^functions\/[a-z]+\/handlers\/[a-z-]+\.ts$/)]);
    expect(packages('PaymentsApi')).toContain('stripe');
  });

  it("carries the environment's credentials, not the SDK's default chain with its STS/SSO clients", () => {
    const chain = /^@aws-sdk\/(credential-provider-(node|ini|sso|web-identity|process|login|http)|nested-clients|token-providers)$/;
    for (const r of reports) expect([r.fn, r.contributors.map((c) => c.name).filter((n) => chain.test(n))]).toEqual([r.fn, []]);
    expect(packages('PaymentsMeshDispatcher')).toContain('@aws-sdk/client-sns');
  });

  it('kicks the dispatchers with a signed Invoke, not the Lambda client (74 KB of models for one call)', () => {
    for (const r of reports) expect([r.fn, packages(r.fn).filter((p) => p === '@aws-sdk/client-lambda')]).toEqual([r.fn, []]);
    // The kick's module also publishes to SNS; the functions that only kick do not carry the SNS client.
    for (const fn of ['OrdersApi', 'OrdersSagaSagaStep']) expect([fn, packages(fn).includes('@aws-sdk/client-sns')]).toEqual([fn, false]);
  });

  it('serves the ops routes from their own function: the API Lambdas carry no SQS client', () => {
    for (const fn of ['PaymentsApi', 'OrdersApi']) expect([fn, packages(fn).includes('@aws-sdk/client-sqs')]).toEqual([fn, false]);
    for (const fn of ['PaymentsMeshOps', 'OrdersMeshOps']) expect([fn, packages(fn).includes('@aws-sdk/client-sqs')]).toEqual([fn, true]);
    expect(packages('PaymentsMeshOps')).not.toContain('stripe');
  });

  it('serves the OpenAPI description from a file built at build time: no generator in the BFF', () => {
    expect(packages('BffApi')).toContain('zod');
    expect(packages('BffApi')).not.toContain('zod-openapi');
    expect(ownFiles('BffApi').filter((f) => f.startsWith('functions/bff/openapi/'))).toEqual([]);
    expect(fs.existsSync(path.join(bundle('BffApi').asset, 'web', 'openapi.json'))).toBe(true);
  });

  it('leaves out of a function the shared code it does not use', () => {
    // Chaos keeps its rules in Redis and has no database: no pg, no Vault client.
    expect(packages('ChaosApi')).toEqual(expect.arrayContaining(['ioredis', '@middy/core']));
    expect(packages('ChaosApi').filter((p) => /^(pg|pg-.*)$/.test(p))).toEqual([]);
    expect(ownFiles('ChaosApi').filter((f) => /shared\/(db|vault)\.ts$/.test(f))).toEqual([]);
    // The scheduled purge is no HTTP handler: no Redis, no middy, no chaos.
    expect(packages('ClaimsPurgeFn')).toContain('pg');
    expect(packages('ClaimsPurgeFn').filter((p) => /^(ioredis|@middy\/core)$/.test(p))).toEqual([]);
    expect(ownFiles('ClaimsPurgeFn').filter((f) => /shared\/(chaos|http|redis)\.ts$/.test(f))).toEqual([]);
  });

  it('keeps Lambda idempotency records in Postgres: no DynamoDB client anywhere, and the sweep alone in the dispatchers', () => {
    for (const r of reports) expect([r.fn, packages(r.fn).filter((p) => /dynamodb/.test(p))]).toEqual([r.fn, []]);
    for (const fn of ['OrdersSagaSagaStep', 'OrdersMeshPaymentEventsConsumer', 'PaymentsMeshAuditConsumer']) {
      expect([fn, ownFiles(fn).filter((f) => f === 'functions/shared/idempotency-store.ts')]).toEqual([fn, ['functions/shared/idempotency-store.ts']]);
    }
    // The audit consumer uses no SDK client now: no SDK base, only Vault's SigV4 signer (the SDK was 205 KB with DynamoDB's client).
    expect(packages('PaymentsMeshAuditConsumer').filter((p) => /^@aws-sdk\/(core|client-.*)$/.test(p))).toEqual([]);
    for (const fn of ['OrdersMeshDispatcher', 'PaymentsMeshDispatcher']) {
      expect([fn, ownFiles(fn).filter((f) => /shared\/idempotency/.test(f))]).toEqual([fn, ['functions/shared/idempotency-sweep.ts']]);
      expect([fn, packages(fn).includes('@aws-lambda-powertools/idempotency')]).toEqual([fn, false]);
    }
  });
});
