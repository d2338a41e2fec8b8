import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { BreakerBoard, publishBreakers } from '../../functions/bff/breaker-board';
import { type BreakerSnapshot, breakerReport, Downstream, registerDownstream } from '../../functions/bff/downstream';
import { logger } from '../../functions/shared/logger';
import type { ServiceResponse } from '../../functions/shared/service-client';
import { endpoints } from '../support/endpoints';

/**
 * The breaker board on the real Redis: each BFF instance publishes its breakers under a key of its
 * own with a TTL, any instance reads and merges them all; dead instances leave with their keys;
 * a state change publishes at once, in the background; Redis down never reaches a request.
 * A Redis database of its own (13) and a key prefix per run: nothing another suite reads is touched.
 */
const redis = new Redis(endpoints().redisUrl.replace(/\/\d+$/, '/13'));
const PREFIX = `test:breakers:${randomUUID().slice(0, 8)}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterAll(async () => {
  const keys = await redis.keys(`${PREFIX}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

const snapshot = (name: string, state: BreakerSnapshot['state'] = 'closed'): BreakerSnapshot => ({
  name,
  state,
  settings: { errorThresholdPercentage: 50, volumeThreshold: 5, resetTimeoutMs: 5000, rollingWindowMs: 10_000 },
  stats: { fires: 1, successes: 1, failures: 0, rejects: 0, timeouts: 0 },
  concurrency: { maxInFlight: 16, maxQueue: 32, inFlight: 0, queued: 0, refused: 0, expired: 0 },
  ...(state === 'open' ? { openedAt: new Date().toISOString(), retryAfterSeconds: 5 } : {}),
  transitions: [],
});

function boardOf(instance: string, breakers: () => BreakerSnapshot[], settings: Partial<BreakerBoard['settings']> = {}, client: Redis = redis) {
  return new BreakerBoard(() => client, { instance, startedAt: new Date().toISOString() }, breakers, { prefix: PREFIX, ...settings });
}

it('each instance publishes a key of its own with a TTL; any instance merges them all, naming each', async () => {
  const prefix = `${PREFIX}:merge`;
  const a = boardOf('inst-a', () => [snapshot('catalog', 'open'), snapshot('orders')], { prefix });
  const b = boardOf('inst-b', () => [snapshot('catalog'), snapshot('orders')], { prefix });
  await a.publish();
  await b.publish();
  const ttl = await redis.pttl(`${prefix}:instance:inst-a`);
  expect(ttl).toBeGreaterThan(55_000);
  expect(ttl).toBeLessThanOrEqual(60_000);
  expect(JSON.parse((await redis.get(`${prefix}:instance:inst-b`))!)).toMatchObject({ instance: 'inst-b', breakers: [{ name: 'catalog' }, { name: 'orders' }] });

  const view = await b.view();
  expect(view.board).toBe('ok');
  expect(view.instance).toBe('inst-b');
  expect(view.instances.map((i) => [i.instance, i.self])).toEqual([
    ['inst-b', true],
    ['inst-a', false],
  ]);
  expect(view.instances[1].ageMs).toBeGreaterThanOrEqual(0);
  expect(view.instances[1].ageMs).toBeLessThan(5000);
  const catalog = view.downstreams.find((d) => d.name === 'catalog')!;
  expect(catalog).toMatchObject({ state: 'open', openOn: 1 });
  expect(catalog.instances.map((r) => [r.instance, r.state])).toEqual([
    ['inst-b', 'closed'],
    ['inst-a', 'open'],
  ]);
  expect(catalog.instances[1].retryAfterSeconds).toBeGreaterThanOrEqual(4);
});

it('an instance that stops publishing leaves the view when its key expires, and the index forgets it', async () => {
  const prefix = `${PREFIX}:ttl`;
  const dead = boardOf('inst-dead', () => [snapshot('identity')], { prefix, ttlMs: 600 });
  const live = boardOf('inst-live', () => [snapshot('identity')], { prefix, ttlMs: 600 });
  await dead.publish();
  await live.publish();
  expect((await live.read()).map((b) => b.instance).sort()).toEqual(['inst-dead', 'inst-live']);
  await sleep(400);
  await live.publish();
  await sleep(300);
  // The dead instance's key has expired; the live one published 300 ms ago.
  expect(await redis.exists(`${prefix}:instance:inst-dead`)).toBe(0);
  expect((await live.read()).map((b) => b.instance)).toEqual(['inst-live']);
  expect((await live.view()).instances.map((i) => i.instance)).toEqual(['inst-live']);
  await live.publish();
  expect(await redis.zrangebyscore(`${prefix}:instances`, '-inf', '+inf')).toEqual(['inst-live']);
  // With no publish at all, the index itself goes too.
  expect(await redis.pttl(`${prefix}:instances`)).toBeLessThanOrEqual(600);
});

it('a stray or malformed snapshot is left out of the view', async () => {
  const prefix = `${PREFIX}:stray`;
  const board = boardOf('inst-ok', () => [snapshot('claims')], { prefix });
  await board.publish();
  await redis.set(`${prefix}:instance:bogus`, 'not json', 'PX', 60_000);
  await redis.set(`${prefix}:instance:noarray`, JSON.stringify({ instance: 'noarray', publishedAt: new Date().toISOString(), breakers: 'x' }), 'PX', 60_000);
  await redis.zadd(`${prefix}:instances`, Date.now(), 'bogus', Date.now(), 'noarray', Date.now(), 'gone');
  expect((await board.read()).map((b) => b.instance)).toEqual(['inst-ok']);
});

it('publishes on every breaker state change and creation, in the background, and at most once per interval as requests end', async () => {
  const prefix = `${PREFIX}:transitions`;
  let reports = 0;
  const board = boardOf(
    'inst-flaky',
    () => {
      reports++;
      return breakerReport();
    },
    { prefix, intervalMs: 60_000 },
  );
  const reader = boardOf('inst-reader', () => [], { prefix });
  const stateOnBoard = async (name: string) => (await reader.read()).find((b) => b.instance === 'inst-flaky')?.breakers.find((b) => b.name === name)?.state;
  const middleware = publishBreakers(() => board);
  let upstream = 503;
  let d: Downstream | undefined;
  try {
    // Serving: the first request to end publishes, the next ones within the interval do not.
    const after = middleware.after as () => void;
    after();
    after();
    after();
    await board.settle();
    expect(reports).toBe(1);

    // A breaker created (a drill) is on the board at once, without a request publishing it.
    d = registerDownstream(
      new Downstream(
        'drill:flaky',
        async (): Promise<ServiceResponse> => ({ status: upstream, headers: new Headers(), body: '{}' }),
        { errorThresholdPercentage: 50, volumeThreshold: 2, resetTimeoutMs: 400, rollingWindowMs: 10_000 },
        { retries: 0, baseDelayMs: 1, maxDelayMs: 1, throttleRetries: 0, budgetMs: 2000 },
      ),
    );
    await board.settle();
    expect(await stateOnBoard('drill:flaky')).toBe('closed');

    // Failures open the breaker: the change is on the board at once too.
    for (let i = 0; i < 4 && d.state !== 'open'; i++) await d.call('GET', '/x').catch(() => undefined);
    expect(d.state).toBe('open');
    await board.settle();
    expect(await stateOnBoard('drill:flaky')).toBe('open');
    const open = (await reader.view()).downstreams.find((x) => x.name === 'drill:flaky')!;
    expect(open.instances).toEqual([expect.objectContaining({ instance: 'inst-flaky', self: false, state: 'open', retryAfterSeconds: expect.any(Number) })]);
    expect(open.instances[0].stats.failures).toBeGreaterThanOrEqual(2);

    // After the cool-down the breaker half-opens by itself (a timer): published too; a good probe closes it.
    await sleep(600);
    await board.settle();
    expect(await stateOnBoard('drill:flaky')).toBe('halfOpen');
    upstream = 200;
    await d.call('GET', '/x');
    await board.settle();
    expect(await stateOnBoard('drill:flaky')).toBe('closed');
  } finally {
    d?.shutdown();
  }
});

it('one publish at a time: changes during one are sent by exactly one more after it, carrying the last state', async () => {
  const prefix = `${PREFIX}:coalesce`;
  let version = 0;
  let reports = 0;
  const board = boardOf(
    'inst-busy',
    () => {
      reports++;
      return [snapshot(`v${version}`)];
    },
    { prefix },
  );
  for (version = 1; version <= 5; version++) board.publishSoon();
  version = 5;
  await board.settle();
  expect(reports).toBe(2);
  expect((await board.read())[0].breakers.map((b) => b.name)).toEqual(['v5']);
});

it('Redis hanging or down: publishing returns at once, never throws and ends within its bound; failures are logged once per interval; the view is this instance alone', async () => {
  // A Redis that accepts commands and never answers (the worst case: no error to fail fast on).
  const never = () => new Promise<never>(() => undefined);
  const chain: Record<string, unknown> = {};
  for (const m of ['set', 'zadd', 'zremrangebyscore', 'pexpire']) chain[m] = () => chain;
  chain.exec = never;
  const hanging = { status: 'ready', multi: () => chain, zrangebyscore: never, mget: never } as unknown as Redis;
  const warn = jest.spyOn(logger, 'warn').mockImplementation(() => undefined);
  try {
    const board = boardOf('inst-alone', () => [snapshot('payments', 'open')], { timeoutMs: 200 }, hanging);
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      board.publishSoon();
      expect(performance.now() - started).toBeLessThan(20);
      await board.settle();
      expect(performance.now() - started).toBeLessThan(1000);
    }
    expect(warn.mock.calls.filter(([msg]) => String(msg).startsWith('breaker board not published'))).toHaveLength(1);
    const started = performance.now();
    const view = await board.view();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(view.board).toBe('unavailable');
    expect(view.instances.map((i) => [i.instance, i.self])).toEqual([['inst-alone', true]]);
    expect(view.downstreams).toEqual([expect.objectContaining({ name: 'payments', state: 'open', openOn: 1 })]);

    // Down (refusing at once, as the shared client does without a connection): the same.
    const down = boardOf('inst-down', () => [], { timeoutMs: 200 }, {
      status: 'ready',
      multi: () => ({ ...chain, exec: () => Promise.reject(new Error("Stream isn't writeable")) }),
      zrangebyscore: () => Promise.reject(new Error("Stream isn't writeable")),
    } as unknown as Redis);
    down.publishSoon();
    await down.settle();
    expect((await down.view()).board).toBe('unavailable');
  } finally {
    warn.mockRestore();
  }
});
