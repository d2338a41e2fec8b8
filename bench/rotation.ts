import type { Benchmark } from './lib/context';
export const rotation: Benchmark = { name: 'rotation', title: 'rotation (todo)', needsFloor: false, async run() { throw new Error('not written yet'); } };
