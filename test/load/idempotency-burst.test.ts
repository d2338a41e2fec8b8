import { randomUUID } from 'node:crypto';
import { gatewayClient } from '../support/gateway-client';

/**
 * The Idempotency-Key contract under a burst: 200 identical POSTs at once with one key. It fills
 * the bounded runtime (the BFF's share of the Lambda cap and more), so it runs in the serial load
 * phase (scripts/test.ts) where it cannot refuse other suites' requests.
 */
jest.setTimeout(180_000);
const client = gatewayClient();
afterAll(() => client.close());
const { echo, counter } = client;

describe('Idempotency-Key contract under a burst', () => {
  it('200 concurrent identical POSTs with one key: exactly one effect, the rest replays or 409', async () => {
    const key = randomUUID();
    const counterId = `c-${randomUUID()}`;
    const payload = { counterId, items: [{ sku: 'A', qty: 2 }], note: 'concurrent' };
    // Warm the BFF and claims workers first (each distinct key is its own claim), so the burst
    // measures the contract rather than dozens of simultaneous cold starts on a small machine.
    await Promise.all(Array.from({ length: 48 }, () => echo({ counterId: `warm-${counterId}` }, randomUUID())));
    // The embedded runtime is bounded (32 concurrent Lambdas): part of the burst is refused by the
    // platform or shed at the door (503 + Retry-After), which runs nothing. Like a client honouring
    // Retry-After, each refused request is sent again, so every one ends with a real answer.
    // Bounded by time, not by a count: with every suite running beside it, a few requests can be
    // refused 20 times in a row and still be answered within the minute.
    const refused = (r: { status: number }) => r.status === 429 || r.status === 503;
    let platformRefusals = 0;
    const retryUntil = Date.now() + 90_000;
    const results = await Promise.all(
      Array.from({ length: 200 }, async () => {
        for (;;) {
          const r = await echo(payload, key);
          if (!refused(r) || Date.now() > retryUntil) return r;
          platformRefusals++;
          await new Promise((done) => setTimeout(done, 250 + Math.random() * 750));
        }
      }),
    );
    console.log(`burst on one key: ${platformRefusals} refusals (429/503) retried`);

    const statuses = results.reduce<Record<number, number>>((m, r) => {
      m[r.status] = (m[r.status] ?? 0) + 1;
      return m;
    }, {});
    const unexpected = results
      .filter((r) => r.status !== 201 && r.status !== 409)
      .slice(0, 3)
      .map((r) => ({ status: r.status, body: r.body }));
    expect({ statuses, unexpected }).toEqual({ statuses, unexpected: [] });
    const created = results.filter((r) => r.status === 201);
    const original = created.filter((r) => r.headers['idempotent-replayed'] === undefined);
    expect(original).toHaveLength(1);
    for (const r of created) {
      expect(r.body).toBe(original[0].body);
      if (r !== original[0]) expect(r.headers['idempotent-replayed']).toBe('true');
    }
    for (const r of results.filter((x) => x.status === 409)) {
      expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(r.json().type).toMatch(/idempotency-key-in-flight$/);
    }
    expect(original[0].json()).toMatchObject({ counterId, value: 1 });
    expect(await counter(counterId)).toBe(1);

    // A later retry (key order changed: same canonical body) replays the same bytes.
    const later = await echo({ note: 'concurrent', items: [{ qty: 2, sku: 'A' }], counterId }, key);
    expect(later.status).toBe(201);
    expect(later.headers['idempotent-replayed']).toBe('true');
    expect(later.body).toBe(original[0].body);
    expect(later.headers.location).toBe(original[0].headers.location);
    expect(await counter(counterId)).toBe(1);
  });
});
