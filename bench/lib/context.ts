import type { Endpoints } from '../../scripts/lib/deploy';
import type { Floor } from './floor';
import type { BenchResult } from './report';

export interface BenchContext {
  e: Endpoints;
  /** The floor stack, deployed on first use. */
  floor: () => Promise<Floor>;
  log: (line: string) => void;
  /** Multiplies every sample count (BENCH_SCALE, default 1); keeps loops bounded either way. */
  scale: number;
}

export interface Benchmark {
  name: string;
  title: string;
  needsFloor: boolean;
  run(ctx: BenchContext): Promise<Omit<BenchResult, 'name' | 'title'>>;
}

export const scaled = (ctx: BenchContext, n: number, min = 1) => Math.max(min, Math.round(n * ctx.scale));
