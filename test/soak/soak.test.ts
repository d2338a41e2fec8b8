import { formatReport, runSoak } from './engine';

/**
 * The reduced chaos soak CI runs (K = 4 shoppers, 40 orders, a fault every ~3 s): every
 * invariant must hold. `npm run soak` runs the full one (K = 20, 300 orders).
 */
it('a reduced chaos soak keeps every invariant', async () => {
  const report = await runSoak({ shoppers: 4, orders: 40, timeLimitMs: 6 * 60_000, faultEverySec: 3 });
  console.log(formatReport(report));
  expect(report.invariants.violations).toEqual([]);
  expect(report.orders.placed).toBeGreaterThanOrEqual(30);
  expect(Object.values(report.faults).reduce((a, b) => a + b, 0)).toBeGreaterThan(5);
  expect(report.orders.byState.COMPLETED ?? 0).toBeGreaterThan(0);
}, 15 * 60_000);
