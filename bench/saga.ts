import type { Benchmark } from './lib/context';
export const saga: Benchmark = { name: 'saga', title: 'saga (todo)', needsFloor: false, async run() { throw new Error('not written yet'); } };
