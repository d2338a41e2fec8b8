import { Client } from 'pg';
import { loginAs } from '../test/support/accounts';
import { crowdProduct, removeProduct } from '../test/support/crowd';
import type { BenchContext, Benchmark } from './lib/context';
import { scaled } from './lib/context';
import { agent, closedLoop, request, untilFinal } from './lib/http';
import type { Row, Target } from './lib/report';
import { ratio, round, summarize } from './lib/stats';

/**
 * Race: 100 writers PATCH one product's stock with the same ETag through the public API as the
 * admin (If-Match → BFF → catalog's guarded UPDATE). Exactly one may win; the other 99 get 412.
 * A writer refused at the door (503/429 + Retry-After: the BFF's bounded concurrency) waits and
 * sends the same write again, as docs/catalog.md tells clients to; the wall time includes that.
 * The product is the bench's own (test-data, removed at the end).
 * Floor: the same 100 requests, same client sockets, against the echo Lambda.
 * Also the BFF's own race demo (POST /api/catalog/race on the demo product: the fan-out runs inside the BFF).
 */
const WRITERS = 100;
// The width the read benchmark warmed; more sockets only add BFF cold starts to the figure.
const SOCKETS = 32;

export const race: Benchmark = {
  name: 'race',
  title: `Race: ${WRITERS} writers, one ETag (PATCH /api/products/{id}/stock) vs ${WRITERS} echo requests`,
  needsFloor: true,
  async run(ctx: BenchContext) {
    const floor = await ctx.floor();
    const api = ctx.e.apiBaseUrl;
    const pg = new Client({ connectionString: ctx.e.postgresUrl });
    await pg.connect();
    const PRODUCT = await crowdProduct(pg, 100);
    const admin = { authorization: `Bearer ${(await loginAs(api, 'admin')).accessToken}` };
    const a = agent(SOCKETS);
    const rounds = scaled(ctx, 3);
    const wallOurs: number[] = [];
    const wallFloor: number[] = [];
    const outcomes: Array<Record<string, unknown>> = [];
    const demo: Array<Record<string, unknown>> = [];
    let allConsistent = true;
    try {
      // Warm the BFF workers at this width (a read each).
      await closedLoop(SOCKETS, SOCKETS, () => request(a, 'GET', `${api}/api/products/${PRODUCT}`));
      await closedLoop(SOCKETS, SOCKETS, () => request(a, 'GET', `${floor.echoApiUrl}/x`));
      for (let r = 0; r < rounds; r++) {
        const before = await request(a, 'GET', `${api}/api/products/${PRODUCT}`, { headers: { 'cache-control': 'no-cache' } });
        if (before.status !== 200) throw new Error(`reading ${PRODUCT} answered ${before.status}`);
        const etag = String(before.headers.etag);
        const initialStock = (JSON.parse(before.body) as { stock: number }).stock;
        const body = JSON.stringify({ delta: 1 });
        const headers = { 'content-type': 'application/json', 'if-match': etag, ...admin };
        // A refusal (503/429 + Retry-After) means the write never ran: the writer sends it again
        // with the same ETag after the wait, as docs/catalog.md tells clients to.
        let throttled = 0;
        const writer = async () => {
          const res = await untilFinal(() => request(a, 'PATCH', `${api}/api/products/${PRODUCT}/stock`, { body, headers }));
          throttled += res.refusals;
          return res;
        };
        const ours = await closedLoop(WRITERS, WRITERS, writer);
        const fl = await closedLoop(WRITERS, WRITERS, () => request(a, 'PATCH', `${floor.echoApiUrl}/api/products/${PRODUCT}/stock`, { body, headers }));
        const after = await request(a, 'GET', `${api}/api/products/${PRODUCT}`);
        const finalStock = (JSON.parse(after.body) as { stock: number }).stock;
        const statuses: Record<string, number> = {};
        for (const res of ours.results) statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        const winners = ours.results.filter((x) => x.status >= 200 && x.status < 300).length;
        const consistent = winners === 1 && statuses['412'] === WRITERS - 1 && finalStock === initialStock + 1;
        allConsistent &&= consistent;
        wallOurs.push(ours.wallMs);
        wallFloor.push(fl.wallMs);
        outcomes.push({
          round: r + 1,
          wallMs: round(ours.wallMs),
          floorWallMs: round(fl.wallMs),
          statuses,
          throttledRetries: throttled,
          initialStock,
          finalStock,
          consistent,
        });
        ctx.log(
          `round ${r + 1}: ${round(ours.wallMs)} ms (echo ${round(fl.wallMs)} ms), ${JSON.stringify(statuses)}, ${throttled} refusals retried after Retry-After, stock ${initialStock} → ${finalStock}`,
        );

        const d = await request(a, 'POST', `${api}/api/catalog/race`, {
          body: JSON.stringify({ writers: WRITERS, delta: 1 }),
          headers: { 'content-type': 'application/json' },
        });
        const dj = d.status === 200 ? (JSON.parse(d.body) as Record<string, unknown>) : { status: d.status, body: d.body.slice(0, 200) };
        demo.push({ round: r + 1, clientMs: round(d.ms), ...dj });
        allConsistent &&= dj.consistent === true;
      }
    } finally {
      a.destroy();
      await removeProduct(pg, PRODUCT);
      await pg.end();
    }
    const so = summarize(wallOurs);
    const sf = summarize(wallFloor);
    const demoMs = summarize(demo.map((d) => Number(d.durationMs)).filter(Number.isFinite));
    const last = outcomes[outcomes.length - 1];
    const rows: Row[] = [
      { case: `${WRITERS} writers, ${SOCKETS} sockets`, metric: 'wall p50', unit: 'ms', ours: so.p50, floor: sf.p50, ratio: ratio(so.p50, sf.p50) },
      {
        case: `${WRITERS} writers`,
        metric: 'outcome (last round)',
        unit: '',
        ours: `${(last.statuses as Record<string, number>)['200'] ?? 0} won, ${(last.statuses as Record<string, number>)['412'] ?? 0}×412`,
      },
      { case: `${WRITERS} writers`, metric: 'rounds consistent', unit: '', ours: `${outcomes.filter((o) => o.consistent).length}/${outcomes.length}` },
      {
        case: `${WRITERS} writers`,
        metric: 'refusals retried after Retry-After (all rounds)',
        unit: '',
        ours: outcomes.reduce((n, o) => n + Number(o.throttledRetries), 0),
      },
      { case: 'POST /api/catalog/race', metric: 'writers wall p50 (in BFF)', unit: 'ms', ours: demoMs.p50 },
      { case: 'POST /api/catalog/race', metric: 'rounds consistent', unit: '', ours: `${demo.filter((d) => d.consistent === true).length}/${demo.length}` },
    ];
    const targets: Target[] = [
      { name: 'race: exactly one winner, 99 × 412, no lost update', limit: 'every round', value: allConsistent ? 'yes' : 'no', met: allConsistent },
      { name: 'race: wall p50 / echo wall p50', limit: '≤ 4', value: ratio(so.p50, sf.p50), met: ratio(so.p50, sf.p50) <= 4 },
    ];
    return {
      rows,
      targets,
      notes: [`${rounds} rounds; each round takes a fresh ETag. Client sockets capped at ${SOCKETS}: every writer still carries the one ETag.`],
      data: { rounds: outcomes, demo, wall: { ours: so, floor: sf } },
    };
  },
};
