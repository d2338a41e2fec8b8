import fs from 'node:fs';
import path from 'node:path';
import { formatReport, parseInfraFaults, runSoak } from '../test/soak/engine';

/**
 * npm run soak [-- --shoppers 20 --orders 300 --minutes 15 --fault-every 3 --infra-faults all]
 * Runs the chaos soak against the running local stack (`npm start` / `npm run up` first),
 * prints the report, writes it to .local/soak-<date>.json and exits non-zero on any violation.
 * --infra-faults (or CM_SOAK_INFRA_FAULTS): pg, redis, bao, workers, all or none; default all:
 * the full soak restarts the machine's Postgres and Redis too, which every stack on the machine
 * shares (pass `--infra-faults bao,workers` on a machine you share). The reduced soak in `npm test`
 * defaults to bao,workers; CI, which has the machine to itself, asks for all four.
 */
function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} needs a number`);
  return v;
}

function stringArg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = process.argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value`);
  return v;
}

async function main(): Promise<void> {
  const options = {
    shoppers: arg('shoppers', 20),
    orders: arg('orders', 300),
    timeLimitMs: arg('minutes', 20) * 60_000,
    faultEverySec: arg('fault-every', 3),
    infraFaults: parseInfraFaults(stringArg('infra-faults') ?? process.env.CM_SOAK_INFRA_FAULTS, parseInfraFaults('all')),
  };
  const report = await runSoak({ ...options, log: (l) => console.log(`${new Date().toISOString().slice(11, 19)} ${l}`) });
  console.log(`\n${formatReport(report)}`);
  const file = path.resolve(__dirname, '..', '.local', `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, JSON.stringify(report, null, 2));
  console.log(`report: ${path.relative(process.cwd(), file)}`);
  process.exit(report.ok ? 0 : 1);
}

main().catch((err: Error) => {
  console.error(`soak failed to run: ${err.message}`);
  process.exit(2);
});
