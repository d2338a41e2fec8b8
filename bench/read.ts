import Redis from 'ioredis';
import { Client } from 'pg';
import type { BenchContext, Benchmark } from './lib/context';
import { scaled } from './lib/context';
import { agent, closedLoop, request, type Res } from './lib/http';
import type { Row, Target } from './lib/report';
import { ratio, round, sleep, summarize } from './lib/stats';

/**
 * Read path: GET /api/products/{id} through the public API → BFF, which answers a hit from the
 * catalog's Redis entry at the door (bff/catalog-edge.ts), against the echo Lambda behind the same
 * emulator's API Gateway. At c=1 also the two-hop read (`Cache-Control: no-cache`: BFF → catalog
 * API → catalog, Redis hit there), the path every hit took before the door answered them. Our path and
 * the floor alternate in rounds at each concurrency, so drift on a shared machine hits both.
 * Then the cache-miss path (the key deleted before each read) and the SQL it costs, and the
 * Redis commands one hit costs (MONITOR on our logical DB).
 */
const PRODUCT = '00000000-0000-4000-8000-000000000101';
const CACHE_KEY = `catalog:product:v1:${PRODUCT}`;
const LEVELS = [1, 8, 32];
const ROUNDS = 4;

interface Phase {
  samples: number[];
  statuses: Record<string, number>;
  /** 200s answered by the BFF from the cache (x-served-by: bff). */
  atDoor: number;
  wallMs: number;
  requests: number;
}
const emptyPhase = (): Phase => ({ samples: [], statuses: {}, atDoor: 0, wallMs: 0, requests: 0 });

async function phase(into: Phase, total: number, concurrency: number, call: () => Promise<Res>) {
  const { results, wallMs } = await closedLoop(total, concurrency, () => call());
  into.wallMs += wallMs;
  into.requests += results.length;
  for (const r of results) {
    into.statuses[r.status] = (into.statuses[r.status] ?? 0) + 1;
    if (r.status === 200) into.samples.push(r.ms);
    if (r.status === 200 && r.headers['x-served-by'] === 'bff') into.atDoor++;
  }
}

/** Index + sequential scans on catalog.products, from the statistics collector. */
async function productScans(pg: Client): Promise<number> {
  await pg.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await pg.query<{ n: string }>(
    `SELECT coalesce(idx_scan, 0) + coalesce(seq_scan, 0) AS n FROM pg_stat_user_tables WHERE schemaname = 'catalog' AND relname = 'products'`,
  );
  return Number(rows[0].n);
}

/** Backends flush their statistics when idle, at the latest 10 s later (PG 15): wait that out, then read. */
async function settledScans(pg: Client): Promise<number> {
  await sleep(11_000);
  return productScans(pg);
}

export const read: Benchmark = {
  name: 'read',
  title: 'Read path: GET /api/products/{id} (public API → BFF → catalog, Redis hit) vs echo Lambda',
  needsFloor: true,
  async run(ctx: BenchContext) {
    const floor = await ctx.floor();
    const ours = `${ctx.e.apiBaseUrl}/api/products/${PRODUCT}`;
    const echo = `${floor.echoApiUrl}/api/products/${PRODUCT}`;
    const rows: Row[] = [];
    const targets: Target[] = [];
    const data: Record<string, unknown> = { product: PRODUCT, levels: {} };
    const redis = new Redis(ctx.e.redisUrl, { maxRetriesPerRequest: 1 });
    const pg = new Client({ connectionString: ctx.e.postgresUrl });
    await pg.connect();
    try {
      // Warm both paths at the highest concurrency: the emulator starts one worker per
      // concurrent request it cannot serve warm, and cold starts are benchmark 7's business.
      for (const c of LEVELS) {
        const a = agent(c);
        await closedLoop(c * 3, c, () => request(a, 'GET', ours));
        await closedLoop(c * 3, c, () => request(a, 'GET', echo));
        a.destroy();
      }
      const scansBeforeHits = await settledScans(pg);

      for (const c of LEVELS) {
        const perRound = scaled(ctx, c === 1 ? 30 : c === 8 ? 120 : 256, c);
        const o = emptyPhase();
        const f = emptyPhase();
        const viaCatalog = emptyPhase();
        const a = agent(c);
        for (let r = 0; r < ROUNDS; r++) {
          // Alternate which goes first, so neither always follows the other's tail.
          const pair: Array<[Phase, string]> =
            r % 2 === 0
              ? [
                  [o, ours],
                  [f, echo],
                ]
              : [
                  [f, echo],
                  [o, ours],
                ];
          for (const [p, url] of pair) await phase(p, perRound, c, () => request(a, 'GET', url));
          if (c === 1) await phase(viaCatalog, perRound, c, () => request(a, 'GET', ours, { headers: { 'cache-control': 'no-cache' } }));
        }
        a.destroy();
        const so = summarize(o.samples);
        const sf = summarize(f.samples);
        // Served reads only: a refusal at the door (503 + Retry-After, bounded concurrency) is an
        // answer, but not a read; counting it would make shedding look like throughput.
        const served = (p: Phase) => p.statuses['200'] ?? 0;
        const rpsO = round((served(o) / o.wallMs) * 1000);
        const rpsF = round((served(f) / f.wallMs) * 1000);
        ctx.log(`c=${c}: ours p50 ${so.p50} ms p99 ${so.p99} ms ${rpsO} req/s; echo p50 ${sf.p50} ms p99 ${sf.p99} ms ${rpsF} req/s`);
        rows.push(
          { case: `hit c=${c}`, metric: '200s per second', unit: '', ours: rpsO, floor: rpsF, ratio: ratio(rpsF, rpsO) },
          { case: `hit c=${c}`, metric: 'p50', unit: 'ms', ours: so.p50, floor: sf.p50, ratio: ratio(so.p50, sf.p50) },
          { case: `hit c=${c}`, metric: 'p99', unit: 'ms', ours: so.p99, floor: sf.p99, ratio: ratio(so.p99, sf.p99) },
        );
        rows.push({ case: `hit c=${c}`, metric: '200s answered at the door', unit: '', ours: `${o.atDoor} of ${served(o)}` });
        if (c === 1) {
          const sv = summarize(viaCatalog.samples);
          rows.push({ case: 'hit c=1 via catalog (no-cache)', metric: 'p50', unit: 'ms', ours: sv.p50, floor: sf.p50, ratio: ratio(sv.p50, sf.p50) });
          (data as Record<string, unknown>).viaCatalog = { ...sv, statuses: viaCatalog.statuses };
        }
        const non200 = Object.entries(o.statuses).filter(([s]) => s !== '200');
        if (non200.length) rows.push({ case: `hit c=${c}`, metric: 'non-200 answers', unit: '', ours: non200.map(([s, n]) => `${n}×${s}`).join(' ') });
        (data.levels as Record<string, unknown>)[c] = { ours: { ...so, rps: rpsO, statuses: o.statuses }, floor: { ...sf, rps: rpsF, statuses: f.statuses } };
        if (c === 1) targets.push({ name: 'read p50 / echo floor p50 (c=1)', limit: '≤ 2.0', value: ratio(so.p50, sf.p50), met: ratio(so.p50, sf.p50) <= 2.0 });
        else targets.push({ name: `read c=${c}: echo 200s/s / ours`, limit: '≤ 2.5', value: ratio(rpsF, rpsO), met: ratio(rpsF, rpsO) <= 2.5 });
      }
      const scansAfterHits = await settledScans(pg);

      // Redis commands per hit on our logical DB (BFF and catalog both use it).
      const db = Number(new URL(ctx.e.redisUrl).pathname.slice(1) || 0);
      const monitor = await redis.monitor();
      const commands: Record<string, number> = {};
      // Commands run inside a Lua script (source "lua") are not round trips: count them apart.
      monitor.on('monitor', (_time: string, args: string[], source: string, database: string) => {
        if (Number(database) !== db) return;
        const name = `${source === 'lua' ? 'lua:' : ''}${String(args[0]).toUpperCase()}`;
        commands[name] = (commands[name] ?? 0) + 1;
      });
      const probes = 20;
      const a1 = agent(1);
      await sleep(200);
      for (let i = 0; i < probes; i++) await request(a1, 'GET', ours);
      await sleep(200);
      monitor.disconnect();
      const redisPerHit = Object.fromEntries(Object.entries(commands).map(([k, v]) => [k, round(v / probes, 2)]));
      const redisTotal = round(
        Object.entries(commands)
          .filter(([k]) => !k.startsWith('lua:'))
          .reduce((s, [, v]) => s + v, 0) / probes,
        2,
      );
      ctx.log(`redis commands per hit: ${JSON.stringify(redisPerHit)}`);

      // Cache misses: the entry deleted before each read (DEL on our logical DB only).
      const misses = scaled(ctx, 30, 5);
      const mo: number[] = [];
      const mf: number[] = [];
      const missStatuses: Record<string, number> = {};
      const scansBeforeMiss = scansAfterHits;
      for (let i = 0; i < misses; i++) {
        await redis.del(CACHE_KEY);
        const r = await request(a1, 'GET', ours);
        missStatuses[r.status] = (missStatuses[r.status] ?? 0) + 1;
        if (r.status === 200) mo.push(r.ms);
        mf.push((await request(a1, 'GET', echo)).ms);
      }
      a1.destroy();
      const scansAfterMiss = await settledScans(pg);
      const sm = summarize(mo);
      const smf = summarize(mf);
      const sqlPerMiss = round((scansAfterMiss - scansBeforeMiss) / misses, 2);
      const sqlPerHit = round((scansAfterHits - scansBeforeHits) / LEVELS.length, 2);
      rows.push(
        { case: 'miss c=1', metric: 'p50', unit: 'ms', ours: sm.p50, floor: smf.p50, ratio: ratio(sm.p50, smf.p50) },
        { case: 'miss c=1', metric: 'p99', unit: 'ms', ours: sm.p99, floor: smf.p99, ratio: ratio(sm.p99, smf.p99) },
        { case: 'miss c=1', metric: 'SQL scans of catalog.products per read', unit: '', ours: sqlPerMiss },
        { case: 'hit', metric: 'SQL scans during all hit phases', unit: '', ours: scansAfterHits - scansBeforeHits },
        { case: 'hit', metric: 'Redis round trips per read (at the door)', unit: '', ours: redisTotal },
      );
      data.miss = { ours: sm, floor: smf, statuses: missStatuses, sqlScansPerMiss: sqlPerMiss, scans: { scansBeforeMiss, scansAfterMiss } };
      data.hitSql = { scansBeforeHits, scansAfterHits, perLevel: sqlPerHit };
      data.redisPerHit = redisPerHit;
      return {
        rows,
        targets,
        notes: [
          'SQL is counted from pg_stat_user_tables (index + sequential scans of catalog.products) after the backends flushed their statistics; the repository issues one SELECT by primary key per miss.',
          'Redis commands are counted with MONITOR on our logical DB over 20 sequential hits (answered at the door: rate limit, the cache entry).',
        ],
        data,
      };
    } finally {
      redis.disconnect();
      await pg.end();
    }
  },
};
