import { LAMBDA_NODE_MAJOR } from '../../cdk/lib/lambda-runtime';
import { endpoints } from '../support/endpoints';
import { stackFunctions } from '../support/stack-functions';

/**
 * The Lambdas run on the Node major their runtime declares: on the emulator that is the pinned
 * Node `npm run up` puts first on MiniStack's PATH (scripts/lib/lambda-node.ts), not the
 * machine's. Each Lambda reports `process.version`'s major in its /health report; the BFF
 * reports its own next to the services' in GET /api/health.
 */
const e = endpoints();

describe('Lambda runtime', () => {
  it(`every deployed Lambda declares nodejs${LAMBDA_NODE_MAJOR}.x`, async () => {
    const fns = await stackFunctions();
    expect(fns.length).toBeGreaterThanOrEqual(8);
    for (const fn of fns) expect({ fn: fn.FunctionName, runtime: fn.Runtime }).toEqual({ fn: fn.FunctionName, runtime: `nodejs${LAMBDA_NODE_MAJOR}.x` });
  });

  it('the BFF and every service run on the declared Node major (GET /api/health)', async () => {
    const declared = new Set((await stackFunctions()).map((f) => /^nodejs(\d+)\.x$/.exec(f.Runtime ?? '')?.[1]));
    expect([...declared]).toEqual([String(LAMBDA_NODE_MAJOR)]);
    const res = await fetch(e.healthUrl);
    const body = (await res.json()) as { node?: string; services: Record<string, { report?: { node?: string } }> };
    expect(res.status).toBe(200);
    const reported = { bff: body.node, ...Object.fromEntries(Object.entries(body.services).map(([name, s]) => [name, s.report?.node])) };
    expect(Object.keys(reported).sort()).toEqual(['bff', 'catalog', 'chaos', 'claims', 'identity', 'orders', 'payments']);
    for (const [name, node] of Object.entries(reported)) expect({ name, node }).toEqual({ name, node: `v${LAMBDA_NODE_MAJOR}` });
  });
});
