/**
 * npm run bundles [-- local|aws] [--from <cloud assembly dir>] [--top N] [--json <file>]
 *
 * What every Lambda bundle holds: synthesizes the target (local by default; no account, no
 * network, see scripts/lib/synth.ts) into cdk.out.<target>/, or reads an assembly already there
 * (`--from cdk.out`: what `npm run up` deployed), and prints one Markdown row per function: the
 * size of its minified index.js and its largest contributors (npm packages, our folders) from the
 * esbuild metafile written next to each bundle (scripts/lib/bundles.ts), then the same sums by
 * family (AWS SDK, Redis, Postgres, zod, Powertools, Stripe, our code). `--json` also writes
 * every contributor of every function. It prints; it does not judge (docs/bench.md has the targets).
 */
import fs from 'node:fs';
import path from 'node:path';
import { bundleReports, bundleTable, familyTable, kb } from './lib/bundles';
import { stackTemplate, synthesize, type SynthTarget } from './lib/synth';

function parseArgs(argv: string[]) {
  let target: SynthTarget = 'local';
  let from: string | undefined;
  let top = 6;
  let json: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === 'local' || a === 'aws') target = a;
    else if (a === '--from') from = argv[++i];
    else if (a === '--top') top = Number(argv[++i]);
    else if (a === '--json') json = argv[++i];
    else throw new Error(`unknown argument ${a}; usage: npm run bundles [-- local|aws] [--from <dir>] [--top N] [--json <file>]`);
  }
  if (!Number.isInteger(top) || top < 1) throw new Error('--top takes a positive integer');
  if (from === '' || json === '') throw new Error('--from and --json take a path');
  return { target, from, top, json };
}

async function main() {
  const { target, from, top, json } = parseArgs(process.argv.slice(2));
  const template = from ? stackTemplate(path.resolve(from)) : await synthesize(target);
  const reports = bundleReports(template);
  console.log(`Bundles of ${path.relative(process.cwd(), template)} (minified index.js; source maps apart), KB = 1024 bytes\n`);
  console.log(bundleTable(reports, top));
  console.log('\nBy family (KB):\n');
  console.log(familyTable(reports));
  const sizes = reports.map((r) => kb(r.bytes));
  console.log(`\n${reports.length} functions, ${Math.min(...sizes)}–${Math.max(...sizes)} KB, ${sizes.reduce((a, b) => a + b, 0)} KB in all`);
  if (json) {
    fs.writeFileSync(json, `${JSON.stringify({ template: path.relative(process.cwd(), template), functions: reports }, null, 2)}\n`);
    console.log(`JSON: ${json}`);
  }
}

main().catch((err: Error) => {
  console.error(`✗ ${err.message}`);
  process.exit(1);
});
