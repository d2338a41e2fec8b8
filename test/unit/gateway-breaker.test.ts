import { backoffDelay, Downstream, isIdempotentMethod } from '../../functions/bff/downstream';
import { HttpProblem } from '../../functions/shared/problem';
import type { ServiceResponse } from '../../functions/shared/service-client';

const res = (status: number): ServiceResponse => ({ status, headers: new Headers(), body: `{"status":${status}}` });
const settings = { errorThresholdPercentage: 50, volumeThreshold: 4, resetTimeoutMs: 200, rollingWindowMs: 10_000 };
const noRetry = { retries: 0, baseDelayMs: 0, maxDelayMs: 0 };

describe('Downstream (circuit breaker + retries)', () => {
  const made: Downstream[] = [];
  afterAll(() => made.forEach((d) => d.shutdown()));
  const make = (caller: (m: string, p: string) => Promise<ServiceResponse>, retry = noRetry) => {
    const d = new Downstream(`t${made.length}`, caller, settings, retry, async () => undefined);
    made.push(d);
    return d;
  };

  it('closed → open after the error rate over the window → fails fast with 503 circuit-open + Retry-After', async () => {
    let calls = 0;
    const d = make(async () => (calls++, res(503)));
    for (let i = 0; i < 4; i++) expect((await d.call('GET', '/x')).status).toBe(503);
    expect(d.state).toBe('open');
    const err = await d.call('GET', '/x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpProblem);
    expect(err).toMatchObject({ status: 503, type: expect.stringMatching(/circuit-open$/), headers: { 'retry-after': '1' } });
    expect(calls).toBe(4); // the open call never reached the service
    const snap = d.snapshot();
    expect(snap).toMatchObject({ state: 'open', stats: { failures: 4, rejects: 1 }, retryAfterSeconds: 1 });
    expect(snap.transitions.map((t) => t.to)).toEqual(['open']);
  });

  it('half-opens after the cool-down, lets one probe through, and closes on success (re-opens on failure)', async () => {
    let status = 500;
    const d = make(async () => res(status));
    for (let i = 0; i < 4; i++) await d.call('GET', '/x');
    expect(d.state).toBe('open');
    await new Promise((r) => setTimeout(r, 250));
    expect(d.state).toBe('halfOpen');
    // A failing probe opens it again at once.
    expect((await d.call('GET', '/x')).status).toBe(500);
    expect(d.state).toBe('open');
    await new Promise((r) => setTimeout(r, 250));
    status = 200;
    expect((await d.call('GET', '/x')).status).toBe(200);
    expect(d.state).toBe('closed');
    expect(d.snapshot().transitions.map((t) => t.to)).toEqual(['open', 'halfOpen', 'open', 'halfOpen', 'closed']);
  });

  it('4xx answers are not failures', async () => {
    const d = make(async () => res(404));
    for (let i = 0; i < 10; i++) expect((await d.call('GET', '/x')).status).toBe(404);
    expect(d.state).toBe('closed');
  });

  it('retries idempotent methods only, on 5xx and network errors; 503 + Retry-After when unreachable or timed out', async () => {
    const retry = { retries: 2, baseDelayMs: 10, maxDelayMs: 100 };
    let calls = 0;
    const flaky = make(async () => (++calls < 3 ? res(503) : res(200)), retry);
    expect((await flaky.call('GET', '/x')).status).toBe(200);
    expect(calls).toBe(3);

    calls = 0;
    const post = make(async () => (calls++, res(503)), retry);
    expect((await post.call('POST', '/x')).status).toBe(503);
    expect(calls).toBe(1);
    calls = 0;
    expect((await post.call('POST', '/x', { retry: true })).status).toBe(503);
    expect(calls).toBe(3);

    const down = make(async () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { name: 'TypeError' })), retry);
    // Shed, never a 502/504: the client gets a stable type and when to come back.
    await expect(down.call('GET', '/x')).rejects.toMatchObject({ status: 503, type: expect.stringMatching(/upstream-unavailable$/), headers: { 'retry-after': '1' } });
    const slow = make(async () => Promise.reject(Object.assign(new Error('timed out'), { name: 'TimeoutError' })));
    await expect(slow.call('GET', '/x')).rejects.toMatchObject({ status: 503, type: expect.stringMatching(/upstream-timeout$/), headers: { 'retry-after': '1' } });

    expect(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'].every(isIdempotentMethod)).toBe(true);
    expect(['POST', 'PATCH'].some(isIdempotentMethod)).toBe(false);
  });

  it('backs off with full jitter, capped', () => {
    const s = { retries: 5, baseDelayMs: 50, maxDelayMs: 300 };
    expect(backoffDelay(0, s, () => 0.999)).toBe(49);
    expect(backoffDelay(2, s, () => 0.5)).toBe(100);
    expect(backoffDelay(10, s, () => 0.999)).toBe(299);
    expect(backoffDelay(3, s, () => 0)).toBe(0);
  });
});

describe('Downstream throttling', () => {
  it('retries platform 429s (they never ran) of any method without counting them as failures', async () => {
    let calls = 0;
    const d = new Downstream(
      'throttled',
      async () => (++calls <= 3 ? res(429) : res(201)),
      settings,
      { retries: 0, baseDelayMs: 1, maxDelayMs: 2, throttleRetries: 5 },
      async () => undefined,
    );
    expect((await d.call('POST', '/claims', { retry: true })).status).toBe(201);
    expect(calls).toBe(4);
    expect(d.state).toBe('closed');
    calls = 0;
    expect((await d.call('POST', '/orders')).status).toBe(201);
    expect(calls).toBe(4);
    calls = 0;
    expect((await d.call('POST', '/claims', { retryThrottled: false })).status).toBe(429);
    expect(calls).toBe(1);
    d.shutdown();
  });

  it('sheds a throttled call after shedAfterMs, well before its budget; a call that must get through waits to its deadline', async () => {
    // A fake clock that only the backoff pauses move: deterministic, no wall-clock timing.
    let clock = 1_000_000;
    const now = jest.spyOn(Date, 'now').mockImplementation(() => clock);
    try {
      const attemptsAt: number[] = [];
      const retry = { retries: 0, baseDelayMs: 50, maxDelayMs: 200, throttleRetries: 1000, budgetMs: 4000, shedAfterMs: 800 };
      const d = new Downstream(
        'crowded',
        async () => (attemptsAt.push(clock), res(429)),
        settings,
        retry,
        async (ms) => {
          clock += ms;
        },
      );
      const started = clock;
      expect((await d.call('GET', '/products')).status).toBe(429);
      expect(attemptsAt.length).toBeGreaterThan(1);
      expect(Math.max(...attemptsAt) - started).toBeLessThan(800);

      attemptsAt.length = 0;
      const patient = clock;
      expect((await d.call('PUT', '/claims/x/outcome', { budgetMs: 4000, shedAfterMs: 4000 })).status).toBe(429);
      expect(Math.max(...attemptsAt) - patient).toBeGreaterThan(2000);
      expect(Math.max(...attemptsAt) - patient).toBeLessThan(4000);
      d.shutdown();
    } finally {
      now.mockRestore();
    }
  });
});
