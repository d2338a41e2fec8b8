/**
 * A BFF worker outside the emulator, for `npm run bench -- profile`: the deployed BFF's
 * environment, its deployed bundle (cdk.out asset), and N sequential GET /api/products/{id} invocations
 * (REST v1 events, as API Gateway sends them). Run under `node --cpu-prof`; prints JSON.
 */
import { performance } from 'node:perf_hooks';

interface Args {
  bundle: string;
  env: Record<string, string>;
  productId: string;
  warmup: number;
  n: number;
}

async function main() {
  const args = JSON.parse(process.argv[2]) as Args;
  for (const [k, v] of Object.entries(args.env)) if (k !== 'NODE_OPTIONS') process.env[k] = v;
  // require, not import(): the environment must be in place before the module initialises.
  const { handler } = require(args.bundle) as { handler: (e: unknown, c: unknown) => Promise<{ statusCode: number }> };
  const path = `/api/products/${args.productId}`;
  const event = () => ({
    resource: '/{proxy+}',
    path,
    httpMethod: 'GET',
    headers: { Host: '127.0.0.1', Accept: 'application/json' },
    multiValueHeaders: {},
    queryStringParameters: null,
    pathParameters: { proxy: path.slice(1) },
    requestContext: { identity: { sourceIp: '127.0.0.9' }, requestId: `bench-${Math.random()}`, stage: 'prod', path, httpMethod: 'GET' },
    body: null,
    isBase64Encoded: false,
  });
  const context = () => ({ awsRequestId: `bench-${Math.random()}`, functionName: 'bff', getRemainingTimeInMillis: () => 29_000, callbackWaitsForEmptyEventLoop: false });
  const statuses: Record<string, number> = {};
  for (let i = 0; i < args.warmup; i++) await handler(event(), context());
  const lat: number[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  // Same monotonic clock as the profiler's timestamps (µs): the parent keeps only this window.
  const windowStartUs = Number(process.hrtime.bigint() / 1000n);
  for (let i = 0; i < args.n; i++) {
    const s = performance.now();
    const r = await handler(event(), context());
    lat.push(performance.now() - s);
    statuses[r.statusCode] = (statuses[r.statusCode] ?? 0) + 1;
  }
  const wallMs = performance.now() - t0;
  const windowEndUs = Number(process.hrtime.bigint() / 1000n);
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(
    `${JSON.stringify({ latencies: lat, statuses, wallMs, windowStartUs, windowEndUs, cpuUserMs: cpu.user / 1000, cpuSystemMs: cpu.system / 1000 })}\n`,
  );
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
