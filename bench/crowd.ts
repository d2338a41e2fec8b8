import { Client } from 'pg';
import { crowdProduct, crowdUsers, runCrowd, summarizeCrowd, type CrowdOptions } from '../test/support/crowd';
import type { BenchContext, Benchmark } from './lib/context';
import type { Row, Target } from './lib/report';
import { apiBaseUrl } from '../functions/shared/endpoints';
import { percentile } from './lib/stats';

/**
 * Flash crowd: N readers at once (GET /api/products, the storefront's listing), anonymous from one
 * client and then each with its own user's token, beside 50 checkouts from distinct users, for
 * N = 100, 300, 500 (CROWD_SIZES=100,300 to choose). Refused readers retry after Retry-After, at
 * most 3 tries. Per run: answers by class, p50/p99 of successes and of refusals, most Lambda
 * workers at once and their RSS (sampled from /proc), the orders' end states and the invariants.
 * Floor: the same N requests at once to an API id that does not exist, which the emulator answers
 * itself (404, no Lambda): the fastest the emulator can answer N concurrent requests on this
 * machine, against which the refusals' p99 is read. The targets are absolute (issue "Hold a flash
 * crowd").
 */
const CHECKOUTS = 50;

/** p99 (ms) of N concurrent requests the emulator answers without running anything. */
async function emulatorFloorP99(ctx: BenchContext, n: number): Promise<number> {
  const url = `${apiBaseUrl({ apiId: 'nosuchapi0', stage: 'prod' }, { region: ctx.e.region, emulatorEndpoint: ctx.e.awsEndpoint })}/floor`;
  const ms = await Promise.all(
    Array.from({ length: n }, async () => {
      const started = performance.now();
      await fetch(url, { signal: AbortSignal.timeout(30_000) }).then(
        (r) => r.text(),
        () => undefined,
      );
      return performance.now() - started;
    }),
  );
  return Math.round(
    percentile(
      ms.sort((a, b) => a - b),
      99,
    ),
  );
}
const RSS_TARGET_MIB = 3 * 1024;

export const crowd: Benchmark = {
  name: 'crowd',
  title: `Flash crowd: N readers at once (one client / many users) + ${CHECKOUTS} checkouts, N = 100, 300, 500`,
  needsFloor: false,
  async run(ctx: BenchContext) {
    const sizes = (process.env.CROWD_SIZES ?? '100,300,500')
      .split(',')
      .map(Number)
      .filter((n) => Number.isInteger(n) && n > 0 && n <= 1000);
    const db = new Client({ connectionString: ctx.e.postgresUrl });
    await db.connect();
    const rows: Row[] = [];
    const targets: Target[] = [];
    const runs: Array<Record<string, unknown>> = [];
    try {
      ctx.log(`registering ${CHECKOUTS} users`);
      const users = await crowdUsers(CHECKOUTS);
      const productId = await crowdProduct(db, 100_000);
      for (const readers of sizes) {
        for (const readerMode of ['one-client', 'many-users'] as CrowdOptions['readerMode'][]) {
          // Let the previous crowd's workers finish and the stage's bucket refill.
          await new Promise((r) => setTimeout(r, 5000));
          const floorP99 = await emulatorFloorP99(ctx, readers);
          await new Promise((r) => setTimeout(r, 1000));
          const report = await runCrowd(db, { readers, readerMode, checkouts: CHECKOUTS, users, productId, log: ctx.log });
          const s = summarizeCrowd(report);
          const label = `N=${readers} ${readerMode}`;
          ctx.log(
            `${label}: ${JSON.stringify(s.readerStatuses)}; checkouts ${JSON.stringify(s.checkoutStatuses)}; ok p50/p99 ${s.okMs.p50}/${s.okMs.p99} ms, refusals ${s.refusalMs.p50}/${s.refusalMs.p99} ms (p99 by type ${JSON.stringify(s.refusalP99ByType)}); workers ${report.workers.maxWorkers} (${report.workers.maxRssMiB} MiB); orders ${JSON.stringify(report.orders.states)}; violations ${report.invariants.violations.length}`,
          );
          rows.push(
            { case: label, metric: 'readers served / first try 2xx', unit: '', ours: `${report.readersServed}/${readers}; ${report.firstTry['200'] ?? 0}` },
            { case: label, metric: 'ok p50 / p99', unit: 'ms', ours: `${s.okMs.p50} / ${s.okMs.p99}` },
            {
              case: label,
              metric: 'refusal p50 / p99 (floor: emulator answering N at once, p99)',
              unit: 'ms',
              ours: `${s.refusalMs.p50} / ${s.refusalMs.p99}`,
              floor: floorP99,
              ratio: Math.round((s.refusalMs.p99 / floorP99) * 100) / 100,
            },
            { case: label, metric: 'bad answers (504, other 5xx, refusal w/o problem+Retry-After)', unit: '', ours: s.badAnswers },
            {
              case: label,
              metric: 'max workers / RSS / PSS',
              unit: 'MiB',
              ours: `${report.workers.maxWorkers} / ${report.workers.maxRssMiB} / ${report.workers.maxPssMiB}`,
            },
            {
              case: label,
              metric: 'orders accepted / terminal / refused',
              unit: '',
              ours: `${report.orders.accepted} / ${report.orders.terminal} / ${report.orders.refused}`,
            },
          );
          targets.push(
            { name: `${label}: 0 bad answers`, limit: '= 0', value: s.badAnswers, met: s.badAnswers === 0 },
            { name: `${label}: refusal p99`, limit: '≤ 1000 ms', value: s.refusalMs.p99, met: !(s.refusalMs.p99 > 1000) },
            {
              name: `${label}: accepted orders terminal, invariants`,
              limit: 'all, 0 violations',
              value: `${report.orders.terminal}/${report.orders.accepted}, ${report.invariants.violations.length}`,
              met: report.orders.nonTerminal.length === 0 && report.invariants.violations.length === 0 && report.orders.refusedWithOrder === 0,
            },
          );
          if (readers >= 500)
            targets.push({
              name: `${label}: worker RSS`,
              limit: `≤ ${RSS_TARGET_MIB} MiB`,
              value: report.workers.maxRssMiB,
              met: report.workers.maxRssMiB <= RSS_TARGET_MIB,
            });
          runs.push({
            label,
            floorP99,
            summary: s,
            firstTry: report.firstTry,
            readersServed: report.readersServed,
            wallMs: Math.round(report.wallMs),
            workers: report.workers,
            orders: report.orders,
            violations: report.invariants.violations,
          });
        }
      }
    } finally {
      await db.end();
    }
    return { rows, targets, notes: ['Refusals are retried after Retry-After (3 tries per reader, 8 per checkout, same Idempotency-Key).'], data: { runs } };
  },
};
