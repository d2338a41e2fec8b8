import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './env';
import type { MachineInfo, Versions } from './machine';

/** One line of the results table: our path against its floor, measured in the same run. */
export interface Row {
  case: string;
  metric: string;
  unit: string;
  ours: number | string;
  floor?: number | string;
  /** ours / floor (or floor / ours for throughputs: always "how many times worse we are"). */
  ratio?: number;
}

export interface Target {
  name: string;
  /** What the issue asks for, e.g. "≤ 2.5" or "= 1". */
  limit: string;
  value: number | string;
  met: boolean;
}

export interface BenchResult {
  name: string;
  title: string;
  rows: Row[];
  targets: Target[];
  notes: string[];
  /** Everything else worth keeping (raw summaries, per-round figures). */
  data: Record<string, unknown>;
  durationMs?: number;
  error?: string;
}

export interface RunRecord {
  date: string;
  name: string;
  machine: MachineInfo;
  versions: Versions;
  selected: string[];
  results: BenchResult[];
}

const fmt = (v: number | string | undefined) => (v === undefined ? '' : typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '–') : v);

/** A Markdown table (readable on a terminal, pasteable into the README). */
export function table(results: BenchResult[]): string {
  const lines = ['| benchmark | case | metric | ours | floor | ratio |', '|---|---|---|---:|---:|---:|'];
  for (const r of results) {
    if (r.error) {
      lines.push(`| ${r.name} | – | error | ${r.error.split('\n')[0].slice(0, 120)} | | |`);
      continue;
    }
    for (const row of r.rows) {
      const unit = row.unit ? ` (${row.unit})` : '';
      lines.push(`| ${r.name} | ${row.case} | ${row.metric}${unit} | ${fmt(row.ours)} | ${fmt(row.floor)} | ${row.ratio !== undefined ? `${fmt(row.ratio)}×` : ''} |`);
    }
  }
  return lines.join('\n');
}

export function targetsTable(results: BenchResult[]): string {
  const lines = ['| target | limit | measured | met |', '|---|---|---:|:---:|'];
  for (const r of results) for (const t of r.targets) lines.push(`| ${t.name} | ${t.limit} | ${fmt(t.value)} | ${t.met ? 'yes' : '**no**'} |`);
  return lines.join('\n');
}

/** bench/results/<date>-<name>.json; the date is UTC to the second so runs never overwrite each other. */
export function writeRecord(record: RunRecord): string {
  const dir = path.join(ROOT, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const stamp = record.date.replace(/[:]/g, '').replace(/\.\d+Z$/, 'Z');
  const file = path.join(dir, `${stamp}-${record.name}.json`);
  fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
  fs.renameSync(`${file}.tmp`, file);
  return path.relative(ROOT, file);
}
