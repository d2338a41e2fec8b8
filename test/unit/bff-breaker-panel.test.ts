import path from 'node:path';
import type { Context } from 'aws-lambda';
import { resetConfigCache } from '../../functions/shared/config';
import { httpApi } from '../../functions/shared/http';
import { BreakerBoard, type BreakersView, setBreakerBoard } from '../../functions/bff/breaker-board';

/**
 * GET /api/ops/breakers on a fresh instance: every configured service's breaker, before any call.
 * Redis (the breaker board) is down here: the answer is this instance alone, never an error.
 */
const SERVICES = ['identity', 'catalog', 'claims', 'payments', 'orders', 'chaos'];
process.env.SERVICE_NAME = 'bff';
process.env.SERVICE_APIS = JSON.stringify(Object.fromEntries(SERVICES.map((s) => [s, { apiId: `${s}api`, stage: '$default' }])));
process.env.AWS_ENDPOINT_URL = 'http://emulator.test';
process.env.WEB_ROOT = path.resolve(__dirname, '..', '..', 'web');
resetConfigCache();
// require, not import: the environment above must be in place before the routes' modules load.
const { publicRoutes } = require('../../functions/bff/routes') as typeof import('../../functions/bff/routes');
const { downstreamRegistry } = require('../../functions/bff/downstream') as typeof import('../../functions/bff/downstream');

beforeAll(() =>
  setBreakerBoard(
    new BreakerBoard(() => {
      throw new Error('Redis is down');
    }),
  ),
);
afterAll(() => {
  setBreakerBoard(undefined);
  downstreamRegistry().forEach((d) => d.shutdown());
});

it('lists the six service breakers, closed and unused, in SERVICE_APIS order, with their bulkhead limits', async () => {
  const realFetch = global.fetch;
  let called = 0;
  global.fetch = (async () => (called++, new Response('{}'))) as typeof fetch;
  try {
    const handler = httpApi(publicRoutes());
    const event = {
      httpMethod: 'GET',
      path: '/api/ops/breakers',
      headers: {},
      body: null,
      isBase64Encoded: false,
      queryStringParameters: null,
      requestContext: { identity: { sourceIp: '203.0.113.1' } },
    };
    const res = await handler(event as never, {} as Context);
    expect(res.statusCode).toBe(200);
    const body = JSON.parse(res.body) as BreakersView;
    expect(body.breakers.map((b) => b.name)).toEqual(SERVICES);
    for (const b of body.breakers) {
      expect(b).toMatchObject({ state: 'closed', stats: { fires: 0 }, concurrency: { maxInFlight: 16, maxQueue: 32 } });
    }
    // The merged view without the board: this instance only, marked, live.
    expect(body.board).toBe('unavailable');
    expect(body.instances).toEqual([expect.objectContaining({ instance: body.instance, self: true, ageMs: 0, breakers: SERVICES.length })]);
    expect(body.downstreams.map((d) => [d.name, d.state, d.instances.map((r) => r.instance)])).toEqual(SERVICES.map((s) => [s, 'closed', [body.instance]]));
    expect(called).toBe(0);
  } finally {
    global.fetch = realFetch;
  }
});
