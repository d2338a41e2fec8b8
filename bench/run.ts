/**
 * npm run bench [-- <name> ...] [--name <label>] [--destroy-floor]
 *
 * Runs the selected benchmarks (all by default) against the stack `npm run up` started,
 * prints a table and writes bench/results/<date>-<label>.json with the machine, versions
 * and date. Every benchmark measures our path and its floor in the same run, alternating.
 * Benchmarks print figures; they are never timed tests and never gate CI.
 */
import { ensureFloor, destroyFloor, type Floor } from './lib/floor';
import type { BenchContext, Benchmark } from './lib/context';
import { assertLoopback, endpoints } from './lib/env';
import { machine, versions } from './lib/machine';
import { table, targetsTable, writeRecord, type BenchResult, type RunRecord } from './lib/report';
import { read } from './read';
import { saga } from './saga';
import { race } from './race';
import { idempotency } from './idempotency';
import { outbox } from './outbox';
import { rotation } from './rotation';
import { coldstart } from './coldstart';
import { profile } from './profile';
import { crowd } from './crowd';

const ALL: Benchmark[] = [read, saga, race, idempotency, outbox, rotation, coldstart, crowd, profile];
/** Run only when named: a diagnosis, not a measurement against a floor. */
const ON_REQUEST = new Set(['profile']);

function parseArgs(argv: string[]) {
  const names: string[] = [];
  let label = 'run';
  let destroy = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--name') label = argv[++i] ?? label;
    else if (a === '--destroy-floor') destroy = true;
    else if (a === '--help' || a === '-h') {
      console.log(`usage: npm run bench [-- ${ALL.map((b) => b.name).join('|')} ...] [--name <label>] [--destroy-floor]`);
      process.exit(0);
    } else names.push(a);
  }
  const unknown = names.filter((n) => !ALL.some((b) => b.name === n));
  if (unknown.length) throw new Error(`unknown benchmark(s) ${unknown.join(', ')}; choose from ${ALL.map((b) => b.name).join(', ')}`);
  return {
    selected: names.length ? ALL.filter((b) => names.includes(b.name)) : ALL.filter((b) => !ON_REQUEST.has(b.name)),
    label: label.replace(/[^\w.-]+/g, '-'),
    destroy,
  };
}

async function main() {
  const { selected, label, destroy } = parseArgs(process.argv.slice(2));
  const log = (line: string) => process.stderr.write(`  ${line}\n`);
  if (destroy) {
    await destroyFloor(log);
    if (!process.argv.slice(2).some((a) => ALL.some((b) => b.name === a))) return;
  }
  const e = endpoints();
  for (const url of [e.apiBaseUrl, e.awsEndpoint, e.vaultAddr, e.redisUrl.replace(/^redis:/, 'http:'), e.postgresUrl.replace(/^postgres:/, 'http:')]) assertLoopback(url);
  // Up to a minute: after a cold-start run every worker starts cold again.
  let healthy = false;
  for (let i = 0; i < 12 && !healthy; i++) {
    healthy = (await fetch(e.healthUrl, { signal: AbortSignal.timeout(10_000) }).catch(() => undefined))?.ok === true;
    if (!healthy) await new Promise((r) => setTimeout(r, 5000));
  }
  if (!healthy) throw new Error(`the stack is not healthy (${e.healthUrl}); run \`npm run up\` first`);

  let floorPromise: Promise<Floor> | undefined;
  const ctx: BenchContext = {
    e,
    floor: () => (floorPromise ??= ensureFloor(log)),
    log,
    scale: Number(process.env.BENCH_SCALE ?? 1),
  };
  const date = new Date().toISOString();
  const results: BenchResult[] = [];
  for (const b of selected) {
    process.stderr.write(`▶ ${b.name}: ${b.title}\n`);
    const started = Date.now();
    try {
      const r = await b.run(ctx);
      results.push({ name: b.name, title: b.title, ...r, durationMs: Date.now() - started });
    } catch (err) {
      const message = (err as Error).stack ?? String(err);
      log(`failed: ${message}`);
      results.push({ name: b.name, title: b.title, rows: [], targets: [], notes: [], data: {}, error: (err as Error).message, durationMs: Date.now() - started });
    }
  }
  const record: RunRecord = { date, name: label, machine: machine(), versions: versions(), selected: selected.map((b) => b.name), results };
  const file = writeRecord(record);
  const m = record.machine;
  const v = record.versions;
  console.log(
    `\nCheckout Mesh benchmarks, ${date} — ${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB; node ${v.node}, MiniStack ${v.ministack}, ${v.gitSha.slice(0, 10)}${v.gitDirty ? '+dirty' : ''}\n`,
  );
  console.log(table(results));
  if (results.some((r) => r.targets.length)) console.log(`\n${targetsTable(results)}`);
  console.log(`\nJSON: ${file}`);
  if (results.some((r) => r.error)) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
