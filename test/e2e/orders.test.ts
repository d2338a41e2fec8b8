import { TEST_DATA_CATEGORY } from '../../functions/catalog/core/model';
import { setTimeout as sleep } from 'node:timers/promises';
import crypto from 'node:crypto';
import { Client } from 'pg';
import { loginAs, registerAndLogin } from '../support/accounts';
import { endpoints } from '../support/endpoints';
import { removeProduct } from '../support/crowd';

/**
 * The checkout saga through the public API on the emulator: orders placed with failure plans
 * (chaos rules aimed at one order's step) end FAILED with exactly the compensations for the
 * steps already done, in reverse order, and the stock back where it was. Each suite run uses
 * its own product (inserted and removed here), so parallel suites cannot move its stock.
 */
const api = endpoints().apiBaseUrl;
const PRODUCT_ID = crypto.randomUUID();
const INITIAL_STOCK = 50;
const orderIds: string[] = [];
let db: Client;
let token: string;

async function placeOrder(body: unknown, key = crypto.randomUUID()): Promise<Response> {
  return fetch(`${api}/api/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'idempotency-key': key },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
}

interface TraceStep {
  step: string;
  outcome: string;
  compensation: boolean;
}
async function trace(id: string): Promise<{ state: string; steps: TraceStep[] }> {
  const res = await fetch(`${api}/api/orders/${id}/trace`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as { state: string; steps: TraceStep[] };
}

/** Waits for the execution to finish (the order in a terminal state and its last step exited). */
async function settled(id: string, timeoutMs = 120_000): Promise<{ state: string; steps: TraceStep[] }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const t = await trace(id);
    const done = ['COMPLETED', 'FAILED', 'NEEDS_ATTENTION'].includes(t.state) && t.steps.every((s) => s.outcome !== 'running');
    if (done || Date.now() > deadline) return t;
    await sleep(1000);
  }
}

async function stock(): Promise<{ stock: number; reserved: number }> {
  const { rows } = await db.query('SELECT stock, reserved FROM catalog.products WHERE id = $1', [PRODUCT_ID]);
  return rows[0] as { stock: number; reserved: number };
}

beforeAll(async () => {
  db = new Client({ connectionString: endpoints().postgresUrl });
  await db.connect();
  await db.query(`INSERT INTO catalog.products (id, sku, name, category, price_cents, stock) VALUES ($1, $2, 'Orders e2e widget', '${TEST_DATA_CATEGORY}', 1234, $3)`, [
    PRODUCT_ID,
    `orders-e2e-${PRODUCT_ID}`,
    INITIAL_STOCK,
  ]);
  token = (await loginAs(api, 'customer')).accessToken;
});

afterAll(async () => {
  await removeProduct(db, PRODUCT_ID, orderIds);
  await db.end();
});

const cart = (quantity = 2) => ({ items: [{ productId: PRODUCT_ID, quantity }], paymentProvider: 'stripe' });

it('POST /api/orders needs a login and an Idempotency-Key, and answers 202 with Location', async () => {
  const anonymous = await fetch(`${api}/api/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() },
    body: JSON.stringify(cart()),
  });
  expect(anonymous.status).toBe(401);
  const noKey = await fetch(`${api}/api/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(cart()),
  });
  expect(noKey.status).toBe(400);
  const unknown = await placeOrder({ items: [{ productId: crypto.randomUUID(), quantity: 1 }] });
  expect(unknown.status).toBe(422);
});

it("another customer's order is 404 (order and trace), the owner and an admin see it", async () => {
  const res = await placeOrder(cart());
  expect(res.status).toBe(202);
  const { id } = (await res.json()) as { id: string };
  orderIds.push(id);
  const otherToken = (await registerAndLogin(api)).accessToken;
  for (const path of [`/api/orders/${id}`, `/api/orders/${id}/trace`]) {
    const stranger = await fetch(`${api}${path}`, { headers: { authorization: `Bearer ${otherToken}` } });
    expect(stranger.status).toBe(404);
    expect(stranger.headers.get('content-type')).toBe('application/problem+json');
    expect((await fetch(`${api}${path}`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await fetch(`${api}${path}`)).status).toBe(401);
  }
  const adminToken = (await loginAs(api, 'admin')).accessToken;
  expect((await fetch(`${api}/api/orders/${id}`, { headers: { authorization: `Bearer ${adminToken}` } })).status).toBe(200);
  // "My orders": the owner's list has it (newest first), the stranger's list is empty.
  // (The demo customer is shared with other suites: newer orders may come first.)
  const mine = (await (await fetch(`${api}/api/orders?limit=50`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
    items: Array<{ id: string }>;
    total: number;
  };
  expect(mine.items.map((o) => o.id)).toContain(id);
  expect(mine.total).toBeGreaterThanOrEqual(1);
  const theirs = await fetch(`${api}/api/orders`, { headers: { authorization: `Bearer ${otherToken}` } });
  expect(theirs.status).toBe(200);
  expect(await theirs.json()).toEqual({ items: [], total: 0, nextOffset: null });
  expect((await fetch(`${api}/api/orders`)).status).toBe(401);
  expect((await fetch(`${api}/api/orders?limit=500`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(400);
  await settled(id);
});

it('a duplicate POST with the same Idempotency-Key starts one saga', async () => {
  const key = crypto.randomUUID();
  const body = { ...cart(1), failurePlan: { failAt: 'ReserveStock', mode: 'error' } };
  const first = await placeOrder(body, key);
  expect(first.status).toBe(202);
  const order = (await first.json()) as { id: string; state: string; executionArn: string };
  orderIds.push(order.id);
  expect(first.headers.get('location')).toBe(`/api/orders/${order.id}`);
  const again = await placeOrder(body, key);
  expect(again.status).toBe(202);
  expect(again.headers.get('idempotent-replayed')).toBe('true');
  expect(((await again.json()) as { id: string }).id).toBe(order.id);
  const { rows } = await db.query(
    "SELECT count(*)::int AS n FROM orders.orders WHERE customer_id = (SELECT customer_id FROM orders.orders WHERE id = $1) AND created_at > now() - interval '1 minute' AND items @> $2::jsonb",
    [order.id, JSON.stringify([{ productId: PRODUCT_ID, quantity: 1 }])],
  );
  expect(rows[0].n).toBe(1);
  const got = await fetch(`${api}/api/orders/${order.id}`, { headers: { authorization: `Bearer ${token}` } });
  expect(got.status).toBe(200);
  expect(await got.json()).toMatchObject({ id: order.id, executionArn: order.executionArn });
  await settled(order.id);
});

it('ReserveStock fails (error plan): FAILED, ReleaseStock finds nothing to release, stock untouched', async () => {
  const before = await stock();
  const res = await placeOrder({ ...cart(), failurePlan: { failAt: 'ReserveStock', mode: 'error' } });
  expect(res.status).toBe(202);
  const { id } = (await res.json()) as { id: string };
  orderIds.push(id);
  const t = await settled(id);
  expect(t.state).toBe('FAILED');
  const steps = t.steps.map((s) => [s.step, s.outcome]);
  expect(steps).toEqual([
    ['ReserveStock', 'failed'],
    ['ReleaseStock', 'succeeded'],
    ['MarkOrderFailed', 'succeeded'],
  ]);
  expect(await stock()).toEqual(before);
});

it('ReserveStock rejected (out of stock) is a business outcome routed to MarkOrderFailed', async () => {
  const before = await stock();
  const res = await placeOrder(cart(INITIAL_STOCK + 1000));
  expect(res.status).toBe(202);
  const { id } = (await res.json()) as { id: string };
  orderIds.push(id);
  const t = await settled(id);
  expect(t.state).toBe('FAILED');
  expect(t.steps.map((s) => [s.step, s.outcome])).toEqual([
    ['ReserveStock', 'succeeded'],
    ['MarkOrderFailed', 'succeeded'],
  ]);
  expect(await stock()).toEqual(before);
});

it.each(['error', 'timeout'] as const)('CreatePaymentSession fails (%s plan): any session cancelled, stock released, then FAILED', async (mode) => {
  const before = await stock();
  const res = await placeOrder({ ...cart(3), failurePlan: { failAt: 'CreatePaymentSession', mode } });
  expect(res.status).toBe(202);
  const { id } = (await res.json()) as { id: string };
  orderIds.push(id);
  const t = await settled(id);
  expect(t.state).toBe('FAILED');
  expect(t.steps.map((s) => [s.step, s.outcome, s.compensation])).toEqual([
    ['ReserveStock', 'succeeded', false],
    ['CreatePaymentSession', 'failed', false],
    ['CancelPaymentSession', 'succeeded', true],
    ['ReleaseStock', 'succeeded', true],
    ['MarkOrderFailed', 'succeeded', true],
  ]);
  expect(await stock()).toEqual(before);
  const { rows } = await db.query('SELECT status FROM catalog.reservations WHERE order_id = $1', [id]);
  expect(rows[0]?.status).toBe('released');
});
