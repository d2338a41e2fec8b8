import { randomUUID } from 'node:crypto';
import type { BenchContext, Benchmark } from './lib/context';
import { scaled } from './lib/context';
import { agent, closedLoop, request, untilFinal } from './lib/http';
import type { Row, Target } from './lib/report';
import { ratio, round, summarize } from './lib/stats';

/**
 * Idempotency: 200 concurrent identical POSTs with one Idempotency-Key through the public
 * API (BFF `idempotent()` → claims), on the demo route whose effect is a Redis counter.
 * Effects must be exactly 1. Floor: the same 200 POSTs against the echo Lambda.
 */
const DUPLICATES = 200;
// The gateway e2e test's width: each concurrent request beyond the warm workers is a BFF cold start.
const SOCKETS = 48;

export const idempotency: Benchmark = {
  name: 'idempotency',
  title: `Idempotency: ${DUPLICATES} concurrent duplicates (POST /api/demo/idempotent-echo, one key) vs echo`,
  needsFloor: true,
  async run(ctx: BenchContext) {
    const floor = await ctx.floor();
    const api = ctx.e.apiBaseUrl;
    const a = agent(SOCKETS);
    const post = (url: string, body: unknown, key: string) =>
      request(a, 'POST', url, { body: JSON.stringify(body), headers: { 'content-type': 'application/json', 'idempotency-key': key } });
    const rounds = scaled(ctx, 3);
    const wallOurs: number[] = [];
    const wallFloor: number[] = [];
    const perRound: Array<Record<string, unknown>> = [];
    let exactlyOnce = true;
    try {
      // Warm BFF and claims workers at this width (distinct keys, their own counters).
      const warm = `bench-warm-${randomUUID()}`;
      await closedLoop(SOCKETS, SOCKETS, () => post(`${api}/api/demo/idempotent-echo`, { counterId: warm }, randomUUID()));
      await closedLoop(SOCKETS, SOCKETS, () => post(`${floor.echoApiUrl}/api/demo/idempotent-echo`, { counterId: warm }, randomUUID()));
      for (let r = 0; r < rounds; r++) {
        const key = randomUUID();
        const counterId = `bench-${randomUUID()}`;
        const payload = { counterId, note: 'bench duplicates' };
        // Each duplicate until its final answer: a refusal at the door (503 + Retry-After) or the
        // key still in flight (409 + Retry-After) is sent again after the wait, as a client would.
        const ours = await closedLoop(DUPLICATES, DUPLICATES, () => untilFinal(() => post(`${api}/api/demo/idempotent-echo`, payload, key), { retry409: true }));
        const fl = await closedLoop(DUPLICATES, DUPLICATES, () => post(`${floor.echoApiUrl}/api/demo/idempotent-echo`, payload, key));
        const counter = await request(a, 'GET', `${api}/api/demo/idempotent-echo/${counterId}`);
        const effects = (JSON.parse(counter.body) as { value: number }).value;
        const statuses: Record<string, number> = {};
        for (const res of ours.results) statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        const originals = ours.results.filter((x) => x.status === 201 && x.headers['idempotent-replayed'] === undefined).length;
        exactlyOnce &&= effects === 1 && originals === 1;
        wallOurs.push(ours.wallMs);
        wallFloor.push(fl.wallMs);
        const refusals = ours.results.reduce((n, x) => n + x.refusals, 0);
        perRound.push({ round: r + 1, wallMs: round(ours.wallMs), floorWallMs: round(fl.wallMs), statuses, originals, effects, refusals });
        ctx.log(`round ${r + 1}: ${round(ours.wallMs)} ms (echo ${round(fl.wallMs)} ms), ${JSON.stringify(statuses)}, ${refusals} refusals retried, effects ${effects}`);
      }
    } finally {
      a.destroy();
    }
    const so = summarize(wallOurs);
    const sf = summarize(wallFloor);
    const last = perRound[perRound.length - 1];
    const rows: Row[] = [
      { case: `${DUPLICATES} duplicates, ${SOCKETS} sockets`, metric: 'wall p50', unit: 'ms', ours: so.p50, floor: sf.p50, ratio: ratio(so.p50, sf.p50) },
      {
        case: `${DUPLICATES} duplicates`,
        metric: 'answers (last round)',
        unit: '',
        ours: Object.entries(last.statuses as Record<string, number>)
          .map(([s, n]) => `${n}×${s}`)
          .join(' '),
      },
      { case: `${DUPLICATES} duplicates`, metric: 'effects per key (every round)', unit: '', ours: perRound.map((p) => p.effects).join(', ') },
    ];
    const targets: Target[] = [
      { name: 'idempotency: effects per key', limit: '= 1', value: perRound.map((p) => p.effects).join(','), met: exactlyOnce },
      { name: 'idempotency: wall p50 / echo wall p50', limit: '≤ 4', value: ratio(so.p50, sf.p50), met: ratio(so.p50, sf.p50) <= 4 },
    ];
    return {
      rows,
      targets,
      notes: [
        `${rounds} rounds, one fresh key and counter each. 201 = the original or a replay (Idempotent-Replayed: true); a 503 (refused at the door) or 409 (in flight) is retried after its Retry-After until a final answer.`,
      ],
      data: { rounds: perRound, wall: { ours: so, floor: sf } },
    };
  },
};
