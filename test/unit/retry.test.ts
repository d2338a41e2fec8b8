import { backoffDelay, retryOnThrottle } from '../../functions/shared/retry';

/** The one retry-on-429 loop (ServiceClient, the BFF's Downstream, the catalog race). */
const answers = (...statuses: number[]) => {
  let i = 0;
  const fn = async () => ({ status: statuses[Math.min(i++, statuses.length - 1)] });
  return { fn, calls: () => i };
};

describe('retryOnThrottle', () => {
  it('retries 429 until another answer', async () => {
    const a = answers(429, 429, 200);
    expect((await retryOnThrottle(a.fn, { deadline: Date.now() + 5000, sleep: async () => undefined })).status).toBe(200);
    expect(a.calls()).toBe(3);
  });

  it('stops at maxRetries and hands back the last 429', async () => {
    const a = answers(429);
    expect((await retryOnThrottle(a.fn, { deadline: Date.now() + 5000, maxRetries: 4, sleep: async () => undefined })).status).toBe(429);
    expect(a.calls()).toBe(5);
  });

  it('never sleeps past the deadline', async () => {
    const clock = { now: 1000 };
    const slept: number[] = [];
    const a = answers(429);
    const res = await retryOnThrottle(a.fn, {
      deadline: 1300,
      backoff: { baseDelayMs: 100, maxDelayMs: 100 },
      random: () => 0.99,
      now: () => clock.now,
      sleep: async (ms) => {
        slept.push(ms);
        clock.now += ms;
      },
    });
    expect(res.status).toBe(429);
    expect(slept).toEqual([99, 99, 99]); // a fourth pause would end at 1297 + 99 > 1300
    expect(a.calls()).toBe(4);
  });

  it('a custom predicate decides what is throttled (a 429 problem is an answer, not a throttle)', async () => {
    const a = answers(429);
    await retryOnThrottle(a.fn, { deadline: Date.now() + 5000, isThrottled: () => false, sleep: async () => undefined });
    expect(a.calls()).toBe(1);
  });

  it('backs off with full jitter, capped', () => {
    const s = { baseDelayMs: 50, maxDelayMs: 300 };
    expect(backoffDelay(0, s, () => 0.999)).toBe(49);
    expect(backoffDelay(10, s, () => 0.999)).toBe(299);
    expect(backoffDelay(3, s, () => 0)).toBe(0);
  });
});
