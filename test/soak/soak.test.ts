import { formatReport, INFRA_FAULT_KIND, parseInfraFaults, runSoak } from './engine';

/**
 * The reduced chaos soak CI runs (K = 4 shoppers, 40 orders, a fault every ~3 s, every third
 * one from the second on an infrastructure fault): every invariant must hold and no order may
 * stay non-terminal.
 * Infrastructure faults: our OpenBao restarted and our MiniStack's Lambda workers killed by
 * default; CM_SOAK_INFRA_FAULTS=pg,redis,bao,workers (or all) adds restarts of the machine's
 * Postgres and Redis, which every stack on the machine shares. `npm run soak` runs the full one.
 */
const infraFaults = parseInfraFaults(process.env.CM_SOAK_INFRA_FAULTS);

it(
  `a reduced chaos soak keeps every invariant (infrastructure faults: ${infraFaults.join(', ') || 'none'})`,
  async () => {
    const report = await runSoak({ shoppers: 4, orders: 40, timeLimitMs: 6 * 60_000, faultEverySec: 3, infraFaults });
    console.log(formatReport(report));
    expect(report.invariants.violations).toEqual([]);
    expect(report.orders.placed).toBeGreaterThanOrEqual(30);
    expect(Object.values(report.faults).reduce((a, b) => a + b, 0)).toBeGreaterThan(5);
    expect(report.orders.byState.COMPLETED ?? 0).toBeGreaterThan(0);
    // Each infrastructure fault asked for happened at least once.
    const missing = infraFaults.map((f) => INFRA_FAULT_KIND[f]).filter((kind) => !report.faults[kind]);
    expect(missing).toEqual([]);
  },
  15 * 60_000,
);
