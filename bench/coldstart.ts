import type { Benchmark } from './lib/context';
export const coldstart: Benchmark = { name: 'coldstart', title: 'coldstart (todo)', needsFloor: false, async run() { throw new Error('not written yet'); } };
