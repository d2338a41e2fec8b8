import type { Benchmark } from './lib/context';
export const outbox: Benchmark = { name: 'outbox', title: 'outbox (todo)', needsFloor: false, async run() { throw new Error('not written yet'); } };
