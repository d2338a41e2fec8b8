import type Redis from 'ioredis';
import { ChaosRules, type ChaosRule, matches, NewRuleSchema, RULES_KEY } from '../../functions/shared/chaos';

const rule = (target: ChaosRule['target'], over: Partial<ChaosRule> = {}): ChaosRule => ({
  id: 'r1',
  target,
  fault: { type: 'error', status: 503 },
  probability: 1,
  createdAt: new Date().toISOString(),
  expiresAt: new Date(Date.now() + 60_000).toISOString(),
  ...over,
});

describe('chaos rule matching', () => {
  it('matches on service, route glob, step and order', () => {
    expect(matches(rule({ service: 'catalog' }), { service: 'catalog', method: 'GET', path: '/products' })).toBe(true);
    expect(matches(rule({ service: 'catalog' }), { service: 'orders' })).toBe(false);
    const r = rule({ service: 'catalog', route: 'PATCH /products/*' });
    expect(matches(r, { service: 'catalog', method: 'PATCH', path: '/products/1/stock' })).toBe(true);
    expect(matches(r, { service: 'catalog', method: 'GET', path: '/products/1' })).toBe(false);
    expect(matches(rule({ service: 'catalog', route: '/products*' }), { service: 'catalog', method: 'GET', path: '/products' })).toBe(true);
    const step = rule({ service: 'orders', step: 'CapturePayment', orderId: '2f1c1c1e-8f7b-4a57-9f38-5b1f3f0c6a10' });
    expect(matches(step, { service: 'orders', step: 'CapturePayment', orderId: '2f1c1c1e-8f7b-4a57-9f38-5b1f3f0c6a10' })).toBe(true);
    expect(matches(step, { service: 'orders', step: 'CapturePayment', orderId: '00000000-0000-4000-8000-000000000000' })).toBe(false);
    expect(matches(step, { service: 'orders', step: 'ReserveStock' })).toBe(false);
  });

  it('ignores expired rules', () => {
    expect(matches(rule({ service: 'catalog' }, { expiresAt: new Date(Date.now() - 1).toISOString() }), { service: 'catalog' })).toBe(false);
  });

  it('validates new rules strictly', () => {
    expect(NewRuleSchema.safeParse({ target: { service: 'catalog' }, fault: { type: 'latency', latencyMs: 100 } }).success).toBe(true);
    expect(NewRuleSchema.safeParse({ target: { service: 'catalog' }, fault: { type: 'latency' } }).success).toBe(false);
    expect(NewRuleSchema.safeParse({ target: { service: 'catalog', extra: 1 }, fault: { type: 'error' } }).success).toBe(false);
    expect(NewRuleSchema.safeParse({ target: { service: 'catalog' }, fault: { type: 'error' }, probability: 2 }).success).toBe(false);
  });
});

describe('ChaosRules cache', () => {
  it('reads Redis at most once per ttl however many requests ask', async () => {
    let reads = 0;
    const fake = { hgetall: async (key: string) => (reads++, key === RULES_KEY ? {} : {}) } as unknown as Redis;
    const rules = new ChaosRules(() => fake, 1000);
    await Promise.all(Array.from({ length: 100 }, () => rules.pick({ service: 'catalog' })));
    expect(reads).toBe(1);
  });

  it('treats Redis being down as no rules', async () => {
    const down = { hgetall: async () => Promise.reject(new Error('ECONNREFUSED')) } as unknown as Redis;
    expect(await new ChaosRules(() => down).pick({ service: 'catalog' })).toBeUndefined();
  });

  it('fires by probability', async () => {
    const r = rule({ service: 'catalog' }, { probability: 0.5 });
    const fake = { hgetall: async () => ({ r1: JSON.stringify(r) }) } as unknown as Redis;
    expect(
      await new ChaosRules(
        () => fake,
        1000,
        () => 0.7,
      ).pick({ service: 'catalog' }),
    ).toBeUndefined();
    expect(
      (
        await new ChaosRules(
          () => fake,
          1000,
          () => 0.2,
        ).pick({ service: 'catalog' })
      )?.id,
    ).toBe('r1');
  });
});
