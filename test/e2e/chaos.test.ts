import { setTimeout as sleep } from 'node:timers/promises';
import crypto from 'node:crypto';
import { loginAs } from '../support/accounts';
import { endpoints } from '../support/endpoints';

/**
 * Chaos rules through the public API: admins add a fault, every catalog handler sees it
 * within a second, the kill switch removes it; customers and anonymous callers cannot change rules.
 */
const api = endpoints().apiBaseUrl;
// A product id no one else uses (normally 404), so the fault cannot disturb suites running in parallel.
const PROBE_ID = crypto.randomUUID();
const PRODUCT = `${api}/api/products/${PROBE_ID}`;

async function waitForStatus(url: string, status: number, timeoutMs = 5000): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(url);
    if (res.status === status || Date.now() > deadline) return res;
    await res.arrayBuffer();
    await sleep(200);
  }
}

let admin: string;
let customer: string;

beforeAll(async () => {
  admin = (await loginAs(api, 'admin')).accessToken;
  customer = (await loginAs(api, 'customer')).accessToken;
});

const createdIds: string[] = [];
// Only this suite's rules: other suites running in parallel may have their own.
afterAll(async () => {
  for (const id of createdIds) await fetch(`${api}/api/chaos/rules/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${admin}` } });
});

it('only admins change rules; anyone can read them', async () => {
  const rule = JSON.stringify({ target: { service: 'catalog', route: 'GET /nothing-matches' }, fault: { type: 'error', status: 500 }, ttlSeconds: 30 });
  const anonymous = await fetch(`${api}/api/chaos/rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: rule });
  expect(anonymous.status).toBe(401);
  const asCustomer = await fetch(`${api}/api/chaos/rules`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${customer}` },
    body: rule,
  });
  expect(asCustomer.status).toBe(403);
  expect(asCustomer.headers.get('content-type')).toBe('application/problem+json');
  const list = await fetch(`${api}/api/chaos/rules`);
  expect(list.status).toBe(200);
});

it('rejects an invalid rule with 400 problem+json', async () => {
  const res = await fetch(`${api}/api/chaos/rules`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
    body: JSON.stringify({ target: { service: 'catalog' }, fault: { type: 'latency' } }),
  });
  expect(res.status).toBe(400);
  expect(((await res.json()) as { type: string }).type).toMatch(/validation-error$/);
});

it('injects a fault into the targeted service within a second; removing the rule ends it', async () => {
  expect((await fetch(PRODUCT)).status).toBe(404);
  const created = await fetch(`${api}/api/chaos/rules`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
    body: JSON.stringify({ target: { service: 'catalog', route: `GET /products/${PROBE_ID}` }, fault: { type: 'error', status: 503 }, ttlSeconds: 60 }),
  });
  expect(created.status).toBe(201);
  const rule = (await created.json()) as { id: string };
  createdIds.push(rule.id);

  const failing = await waitForStatus(PRODUCT, 503);
  expect(failing.status).toBe(503);
  const problem = (await failing.json()) as { type: string };
  // The BFF reports the downstream failure as problem+json (the catalog's own, or its breaker's).
  expect(problem.type).toMatch(/chaos-injected$|upstream-unavailable$|circuit-open$/);

  const listed = (await (await fetch(`${api}/api/chaos/rules`)).json()) as { rules: { id: string; hits: number }[] };
  expect(listed.rules.find((r) => r.id === rule.id)?.hits).toBeGreaterThan(0);

  const removed = await fetch(`${api}/api/chaos/rules/${rule.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${admin}` } });
  expect(removed.status).toBe(204);
  createdIds.pop();
  // Breakers may need their cool-down after the failures above; allow for it.
  expect((await waitForStatus(PRODUCT, 404, 20_000)).status).toBe(404);
});
