import Redis from 'ioredis';
import { addRule, applyChaos, ChaosRules, clearRules, countHit, hitCounts, listRules, removeOrderRules, removeRule } from '../../functions/shared/chaos';
import { HttpProblem } from '../../functions/shared/problem';
import { endpoints } from '../support/endpoints';

// A Redis database of its own: the kill switch here must not clear rules other suites rely on.
const redis = new Redis(endpoints().redisUrl.replace(/\/\d+$/, '/14'));

beforeEach(async () => {
  await redis.flushdb();
});
afterAll(async () => {
  await redis.flushdb();
  redis.disconnect();
});

it('stores, lists, expires and removes rules; the kill switch clears all', async () => {
  const a = await addRule(redis, { target: { service: 'catalog' }, fault: { type: 'latency', latencyMs: 10 } });
  await addRule(redis, { target: { service: 'orders', step: 'CapturePayment' }, fault: { type: 'exception' }, ttlSeconds: 1 });
  expect((await listRules(redis)).map((r) => r.target.service).sort()).toEqual(['catalog', 'orders']);
  await new Promise((r) => setTimeout(r, 1100));
  expect((await listRules(redis)).map((r) => r.id)).toEqual([a.id]);
  expect(await removeRule(redis, a.id)).toBe(true);
  expect(await removeRule(redis, a.id)).toBe(false);
  await addRule(redis, { target: { service: 'catalog' }, fault: { type: 'error' } });
  await addRule(redis, { target: { service: 'claims' }, fault: { type: 'error' } });
  expect(await clearRules(redis)).toBe(2);
  expect(await listRules(redis)).toEqual([]);
});

it('applies faults to saga steps and counts every injection', async () => {
  const orderId = '6c8f1f0e-4b8e-4d2a-9a51-2f0b3a1c9d77';
  const rule = await addRule(redis, { target: { service: 'orders', step: 'ReserveStock', orderId }, fault: { type: 'error', status: 503 } });
  const rules = new ChaosRules(() => redis, 0);
  await expect(applyChaos(rules, { service: 'orders', step: 'ReserveStock', orderId })).rejects.toBeInstanceOf(HttpProblem);
  // Another order or another step is untouched.
  await expect(applyChaos(rules, { service: 'orders', step: 'ReserveStock', orderId: 'd1b7c9a2-0f44-4c1e-8a3e-1b2c3d4e5f60' })).resolves.toBeUndefined();
  await expect(applyChaos(rules, { service: 'orders', step: 'CapturePayment', orderId })).resolves.toBeUndefined();
  await new Promise((r) => setTimeout(r, 50));
  expect((await hitCounts(redis))[rule.id]).toBe(1);

  const slow = await addRule(redis, { target: { service: 'catalog' }, fault: { type: 'latency', latencyMs: 300 } });
  const started = Date.now();
  await applyChaos(rules, { service: 'catalog', method: 'GET', path: '/products' });
  expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  await removeRule(redis, slow.id);
});

it("removes one order's failure plan when its saga ends, and nothing else; counts a step's hits", async () => {
  const orderId = '0d7e8f60-3c1b-4e8a-9f20-6a5b4c3d2e1f';
  const other = 'a3c2b1d0-9e8f-4a7b-8c6d-5e4f3a2b1c0d';
  const plan = await addRule(redis, { target: { service: 'orders', step: 'CapturePayment', orderId }, fault: { type: 'exception' } });
  const kept = await addRule(redis, { target: { service: 'orders', step: 'CapturePayment', orderId: other }, fault: { type: 'exception' } });
  const service = await addRule(redis, { target: { service: 'catalog' }, fault: { type: 'latency', latencyMs: 5 } });
  await countHit(redis, plan.id);
  await countHit(redis, plan.id);
  expect((await hitCounts(redis))[plan.id]).toBe(2);
  expect(await removeOrderRules(redis, orderId)).toBe(1);
  expect((await listRules(redis)).map((r) => r.id).sort()).toEqual([kept.id, service.id].sort());
  expect(await removeOrderRules(redis, orderId)).toBe(0);
});
