import fs from 'node:fs';
import path from 'node:path';

/**
 * What each Lambda bundle holds, from the esbuild metafile every ServiceFunction writes next to its
 * bundle (`metafile: true` in cdk/lib/service-function.ts: `index.meta.json` in the function's
 * cdk.out asset). Each input's `bytesInOutput` is what it adds to the minified index.js; inputs are
 * summed per package (the innermost `node_modules/<name>` of the path, so a nested copy counts
 * under its own name) or, for our code, per folder (`functions/shared`, `functions/bff`, ...).
 */
export const METAFILE = 'index.meta.json';

export interface Contributor {
  /** npm package name, or our folder (`functions/<dir>`, or the file outside functions/). */
  name: string;
  bytes: number;
}

export interface BundleReport {
  /** The function's logical id without CDK's hash suffix (PaymentsApi, OrdersSagaSagaStep, ...). */
  fn: string;
  entryPoint: string;
  /** The asset directory (index.js, its map, its metafile); empty when built from a metafile alone. */
  asset: string;
  /** Bytes of the minified index.js (what the metafile says it wrote). */
  bytes: number;
  /** Bytes of index.js.map beside it (0 when absent). */
  mapBytes: number;
  /** Every contributor, largest first. */
  contributors: Contributor[];
}

export interface Metafile {
  outputs: Record<string, { bytes: number; entryPoint?: string; inputs: Record<string, { bytesInOutput: number }> }>;
}

interface Template {
  Resources: Record<string, { Type: string; Metadata?: Record<string, string> }>;
}

/** The package (or our folder) an esbuild input path belongs to. */
export function contributorOf(input: string): string {
  const p = input.replace(/\\/g, '/');
  const at = p.lastIndexOf('node_modules/');
  if (at >= 0) {
    const [first, second] = p.slice(at + 'node_modules/'.length).split('/');
    return first.startsWith('@') ? `${first}/${second}` : first;
  }
  const parts = p.split('/');
  return parts[0] === 'functions' && parts.length > 2 ? `${parts[0]}/${parts[1]}` : p;
}

/** One bundle's report from its metafile (the output that has an entry point: index.js). */
export function reportOf(fn: string, meta: Metafile, asset = '', mapBytes = 0): BundleReport {
  const output = Object.values(meta.outputs).find((o) => o.entryPoint);
  if (!output) throw new Error(`${fn}: the metafile has no output with an entry point`);
  const sums = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    if (!bytesInOutput) continue;
    const name = contributorOf(input);
    sums.set(name, (sums.get(name) ?? 0) + bytesInOutput);
  }
  const contributors = [...sums].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes || a.name.localeCompare(b.name));
  return { fn, entryPoint: output.entryPoint!, asset, bytes: output.bytes, mapBytes, contributors };
}

/**
 * Every Lambda of a synthesized stack (its template in a cloud assembly: cdk.out, cdk.out.local, ...),
 * in template order. A function whose asset has no metafile is an error: it was bundled some other way.
 */
export function bundleReports(templateFile: string): BundleReport[] {
  const assemblyDir = path.dirname(templateFile);
  const template = JSON.parse(fs.readFileSync(templateFile, 'utf8')) as Template;
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.['aws:asset:path'])
    .map(([logicalId, r]) => {
      const asset = path.join(assemblyDir, r.Metadata!['aws:asset:path']);
      const metaFile = path.join(asset, METAFILE);
      if (!fs.existsSync(metaFile)) throw new Error(`${logicalId}: no ${METAFILE} in ${path.relative(process.cwd(), asset)}`);
      const map = path.join(asset, 'index.js.map');
      const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as Metafile;
      return reportOf(logicalId.replace(/[0-9A-F]{8}$/, ''), meta, asset, fs.existsSync(map) ? fs.statSync(map).size : 0);
    });
}

export const kb = (bytes: number): number => Math.round(bytes / 1024);

/**
 * Contributors grouped by what they are there for, for the summary table. A package is counted in
 * the first family whose pattern matches its name; the rest is `other`.
 */
export const FAMILIES: ReadonlyArray<readonly [string, RegExp]> = [
  ['AWS SDK', /^@(aws-sdk|smithy|aws-crypto)\//],
  ['Redis', /^(ioredis|@ioredis\/.*|denque|redis-errors|cluster-key-slot|standard-as-callback|debug|ms|supports-color|has-flag)$/],
  ['Postgres', /^(pg|pg-.*|pgpass|postgres-.*|split2|xtend)$/],
  ['zod', /^zod$/],
  ['Powertools', /^(@aws-lambda-powertools\/.*|@aws\/lambda-invoke-store|mnemonist|obliterator)$/],
  ['Stripe', /^stripe$/],
  ['ours', /^(functions|stepfunctions)\//],
];

export function familyOf(name: string): string {
  return FAMILIES.find(([, re]) => re.test(name))?.[0] ?? 'other';
}

/** KB per family for each function, largest bundle first. */
export function familyTable(reports: BundleReport[]): string {
  const names = [...FAMILIES.map(([n]) => n), 'other'];
  const rows = [...reports]
    .sort((a, b) => b.bytes - a.bytes || a.fn.localeCompare(b.fn))
    .map((r) => {
      const sums = new Map<string, number>();
      for (const c of r.contributors) sums.set(familyOf(c.name), (sums.get(familyOf(c.name)) ?? 0) + c.bytes);
      return `| ${r.fn} | ${kb(r.bytes)} | ${names.map((n) => (sums.get(n) ? kb(sums.get(n)!) : '–')).join(' | ')} |`;
    });
  return [`| function | KB | ${names.join(' | ')} |`, `|---|${'---:|'.repeat(names.length + 1)}`, ...rows].join('\n');
}

/** A Markdown table, largest bundle first: function, KB, and its `top` largest contributors in KB. */
export function bundleTable(reports: BundleReport[], top = 6): string {
  const rows = [...reports]
    .sort((a, b) => b.bytes - a.bytes || a.fn.localeCompare(b.fn))
    .map((r) => {
      const shown = r.contributors.slice(0, top).map((c) => `${c.name} ${kb(c.bytes)}`);
      const rest = r.contributors.slice(top).reduce((sum, c) => sum + c.bytes, 0);
      if (rest) shown.push(`${r.contributors.length - top} more ${kb(rest)}`);
      return `| ${r.fn} | ${kb(r.bytes)} | ${shown.join(', ')} |`;
    });
  return ['| function | KB | largest contributors (KB) |', '|---|---:|---|', ...rows].join('\n');
}
