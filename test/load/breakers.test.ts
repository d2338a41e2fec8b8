import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { loginAs } from '../support/accounts';
import { withChaosRule } from '../support/chaos';
import { endpoints } from '../support/endpoints';

/**
 * Every downstream of the BFF sits behind its own circuit breaker (functions/bff/proxy.ts ->
 * downstream.ts): a chaos error rule on one route of each service makes the calls through it fail,
 * the BFF's breaker for that service opens, and the next call fails fast with 503 circuit-open +
 * Retry-After without reaching the service. Runs in the serial load phase: an open breaker refuses
 * every caller of that service on that BFF instance for its cool-down.
 */
jest.setTimeout(300_000);
const api = endpoints().apiBaseUrl;

interface Case {
  service: string;
  /** The service's own route the rule targets (narrow, so nothing else of the service fails). */
  route: string;
  /** The public call that goes to it. */
  call: (tokens: { admin: string; customer: string }) => Promise<Response>;
}

const PROBE = randomUUID();
const CASES: Case[] = [
  { service: 'identity', route: 'GET /me', call: (t) => fetch(`${api}/api/me`, { headers: { authorization: `Bearer ${t.customer}` } }) },
  { service: 'catalog', route: `GET /products/${PROBE}`, call: () => fetch(`${api}/api/products/${PROBE}`) },
  {
    service: 'claims',
    route: 'POST /claims',
    call: () =>
      fetch(`${api}/api/demo/idempotent-echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
        body: JSON.stringify({ counterId: `breaker-${PROBE}` }),
      }),
  },
  // The webhook replay is proxied to payments alone (the outbox and DLQ views merge several services' answers).
  {
    service: 'payments',
    route: 'POST /ops/webhooks/stripe/replay',
    call: (t) => fetch(`${api}/api/ops/webhooks/stripe/replay`, { method: 'POST', headers: { authorization: `Bearer ${t.admin}` } }),
  },
  { service: 'orders', route: 'GET /orders', call: (t) => fetch(`${api}/api/orders`, { headers: { authorization: `Bearer ${t.customer}` } }) },
  { service: 'chaos', route: 'GET /rules', call: () => fetch(`${api}/api/chaos/rules`) },
];

describe('a circuit breaker on every downstream', () => {
  let tokens: { admin: string; customer: string };
  beforeAll(async () => {
    tokens = { admin: (await loginAs(api, 'admin')).accessToken, customer: (await loginAs(api, 'customer')).accessToken };
  });

  it.each(CASES)('$service: a chaos error rule opens its breaker; the next call fails fast with 503 circuit-open + Retry-After', async ({ service, route, call }) => {
    // A rule on the chaos service's own route also makes its removal fail fast once that breaker
    // is open (removal goes through the same service): it gets a short life and ends by itself.
    const rule = { target: { service, route }, fault: { type: 'error', status: 503 }, ttlSeconds: service === 'chaos' ? 10 : 60 } as const;
    await withChaosRule(api, tokens.admin, rule, async () => {
      // Failures through one BFF instance open its breaker (5 calls, more than half failing).
      let open: Response | undefined;
      let failures = 0;
      for (let i = 0; i < 40 && !open; i++) {
        const res = await call(tokens);
        const body = (await res.json().catch(() => ({}))) as { type?: string };
        if (res.status === 503 && body.type?.endsWith('/circuit-open')) open = res;
        else if (res.status >= 500) failures++;
        if (!open) await sleep(100);
      }
      expect({ service, opened: open !== undefined }).toEqual({ service, opened: true });
      expect(failures).toBeGreaterThanOrEqual(1);
      expect(Number(open!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(open!.headers.get('content-type')).toBe('application/problem+json');

      // Fails fast: an open breaker answers without calling the service.
      const started = performance.now();
      const fast = await call(tokens);
      const elapsed = performance.now() - started;
      const fastBody = (await fast.json()) as { type?: string; service?: string };
      if (fast.status === 503 && fastBody.type?.endsWith('/circuit-open')) {
        expect(fastBody.service).toBe(service);
        expect(elapsed).toBeLessThan(2000);
      }
    });
    // After the cool-down (5 s) a probe goes through and the breaker closes.
    await sleep(5500);
    let recovered = false;
    for (let i = 0; i < 30 && !recovered; i++) {
      const res = await call(tokens);
      await res.arrayBuffer();
      recovered = res.status < 500;
      if (!recovered) await sleep(1000);
    }
    expect({ service, recovered }).toEqual({ service, recovered: true });
  });
});
