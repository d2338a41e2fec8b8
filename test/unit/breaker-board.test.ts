import { type InstanceBoard, mergeBoards } from '../../functions/bff/breaker-board';
import type { BreakerSnapshot } from '../../functions/bff/downstream';

/** The breaker board's merge (pure): per instance and per downstream, the answering instance live and first. */
const NOW = Date.parse('2026-12-04T12:00:00.000Z');
const at = (msAgo: number) => new Date(NOW - msAgo).toISOString();
const SERVICES = ['identity', 'catalog', 'claims'];
const rank = (name: string) => (SERVICES.includes(name) ? SERVICES.indexOf(name) : SERVICES.length);

function breaker(name: string, state: BreakerSnapshot['state'] = 'closed', more: Partial<BreakerSnapshot> = {}): BreakerSnapshot {
  return {
    name,
    state,
    settings: { errorThresholdPercentage: 50, volumeThreshold: 5, resetTimeoutMs: 5000, rollingWindowMs: 10_000 },
    stats: { fires: 3, successes: 2, failures: 1, rejects: 0, timeouts: 0 },
    concurrency: { maxInFlight: 16, maxQueue: 32, inFlight: 0, queued: 0, refused: 0, expired: 0 },
    transitions: [],
    ...more,
  };
}
const board = (instance: string, msAgo: number, breakers: BreakerSnapshot[]): InstanceBoard => ({
  instance,
  startedAt: at(msAgo + 60_000),
  publishedAt: at(msAgo),
  breakers,
});

it('lists every instance (the answering one first, live; then the freshest) and every downstream in service order, drills last', () => {
  const self = board('self0001', 0, [breaker('identity'), breaker('catalog'), breaker('claims'), breaker('drill:mine')]);
  const older = board('older002', 20_000, [breaker('identity'), breaker('catalog', 'open', { openedAt: at(2000), retryAfterSeconds: 5 }), breaker('claims')]);
  const fresher = board('fresh003', 3000, [breaker('drill:theirs', 'halfOpen'), breaker('claims'), breaker('catalog')]);
  const view = mergeBoards(self, [older, fresher], { now: NOW, ttlMs: 60_000, rank });

  expect(view.instance).toBe('self0001');
  expect(view.board).toBe('ok');
  expect(view.ttlSeconds).toBe(60);
  // The answering instance's own breakers, as the route answered before the board.
  expect(view.breakers.map((b) => b.name)).toEqual(['identity', 'catalog', 'claims', 'drill:mine']);
  expect(view.instances).toEqual([
    { instance: 'self0001', self: true, startedAt: self.startedAt, publishedAt: self.publishedAt, ageMs: 0, breakers: 4 },
    { instance: 'fresh003', self: false, startedAt: fresher.startedAt, publishedAt: fresher.publishedAt, ageMs: 3000, breakers: 3 },
    { instance: 'older002', self: false, startedAt: older.startedAt, publishedAt: older.publishedAt, ageMs: 20_000, breakers: 3 },
  ]);
  expect(view.downstreams.map((d) => d.name)).toEqual(['identity', 'catalog', 'claims', 'drill:mine', 'drill:theirs']);

  const catalog = view.downstreams.find((d) => d.name === 'catalog')!;
  // The worst state over the instances, and on how many it is open.
  expect(catalog).toMatchObject({ state: 'open', openOn: 1 });
  expect(catalog.instances.map((r) => [r.instance, r.self, r.state, r.ageMs])).toEqual([
    ['self0001', true, 'closed', 0],
    ['fresh003', false, 'closed', 3000],
    ['older002', false, 'open', 20_000],
  ]);
  // Retry-after of another instance's open breaker is counted from its opening, as of now (5 s cool-down, opened 2 s ago).
  expect(catalog.instances[2]).toMatchObject({ openedAt: at(2000), retryAfterSeconds: 3, stats: { failures: 1, successes: 2 } });
  expect(catalog.instances[0].retryAfterSeconds).toBeUndefined();
  expect(view.downstreams.find((d) => d.name === 'drill:theirs')).toMatchObject({ state: 'halfOpen', openOn: 0, instances: [{ instance: 'fresh003' }] });
});

it("the answering instance's live breakers win over its own snapshot; an overdue probe reads 0 s", () => {
  const self = board('self0001', 0, [breaker('identity', 'open', { openedAt: at(1000), retryAfterSeconds: 4 })]);
  const ownSnapshot = board('self0001', 4000, [breaker('identity', 'closed')]);
  const other = board('other002', 9000, [breaker('identity', 'open', { openedAt: at(9000) })]);
  const view = mergeBoards(self, [ownSnapshot, other, { ...other }], { now: NOW, ttlMs: 60_000, rank });
  expect(view.instances.map((i) => i.instance)).toEqual(['self0001', 'other002']);
  const identity = view.downstreams[0];
  expect(identity).toMatchObject({ name: 'identity', state: 'open', openOn: 2 });
  // Live: what the breaker itself says. Snapshot: opened 9 s ago with a 5 s cool-down, the probe is due.
  expect(identity.instances.map((r) => [r.instance, r.retryAfterSeconds])).toEqual([
    ['self0001', 4],
    ['other002', 0],
  ]);
});

it('with no other instance the view is this instance alone', () => {
  const view = mergeBoards(board('solo0001', 0, [breaker('identity')]), [], { now: NOW, ttlMs: 30_000, rank });
  expect(view.instances).toHaveLength(1);
  expect(view.downstreams).toEqual([
    {
      name: 'identity',
      state: 'closed',
      openOn: 0,
      instances: [{ instance: 'solo0001', self: true, ageMs: 0, state: 'closed', stats: breaker('x').stats, openings: 0 }],
    },
  ]);
});
