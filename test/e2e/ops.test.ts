import { Client } from 'pg';
import { loginAs } from '../support/accounts';
import { crowdProduct, removeProduct } from '../support/crowd';
import { Shopper } from '../support/shop';
import { endpoints } from '../support/endpoints';

/**
 * The admin ops views the /chaos page reads: every outbox's backlog and every consumer's DLQ depth,
 * through the BFF (which checks the admin role and asks each owner: payments and orders).
 */
jest.setTimeout(180_000);
const api = endpoints().apiBaseUrl;

let admin: string;
let customer: string;
beforeAll(async () => {
  admin = (await loginAs(api, 'admin')).accessToken;
  customer = (await loginAs(api, 'customer')).accessToken;
});

describe.each(['/api/ops/outbox', '/api/ops/dlq'])('%s', (path) => {
  it('needs a login (401) and the admin role (403), as problem+json', async () => {
    const anonymous = await fetch(`${api}${path}`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toContain('application/problem+json');
    const asCustomer = await fetch(`${api}${path}`, { headers: { authorization: `Bearer ${customer}` } });
    expect(asCustomer.status).toBe(403);
    expect(((await asCustomer.json()) as { type: string }).type).toMatch(/\/forbidden$/);
  });
});

it('GET /api/ops/outbox answers every outbox backlog (payments and orders) and their sum', async () => {
  const res = await fetch(`${api}/api/ops/outbox`, { headers: { authorization: `Bearer ${admin}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('cache-control')).toBe('no-store');
  const body = (await res.json()) as {
    pending: number;
    oldestAgeSeconds: number | null;
    outboxes: Array<{ service: string; pending: number | null; oldestAgeSeconds: number | null; error?: string }>;
  };
  expect(body.outboxes.map((o) => o.service).sort()).toEqual(['orders', 'payments']);
  for (const o of body.outboxes) {
    expect([o.service, o.error, Number.isInteger(o.pending)]).toEqual([o.service, undefined, true]);
    expect(o.oldestAgeSeconds === null || o.oldestAgeSeconds >= 0).toBe(true);
  }
  expect(body.pending).toBe(body.outboxes.reduce((n, o) => n + (o.pending ?? 0), 0));
});

it('GET /api/ops/dlq answers the depth of every consumer DLQ, each named with its owner', async () => {
  const res = await fetch(`${api}/api/ops/dlq`, { headers: { authorization: `Bearer ${admin}` } });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { queues: Array<{ queue: string; dlq: string; depth: number | null; service: string }>; unavailable: unknown[] };
  expect(body.queues.map((q) => [q.service, q.dlq]).sort()).toEqual([
    ['orders', 'checkout-mesh-orders-payment-events-dlq'],
    ['payments', 'checkout-mesh-payments-audit-dlq'],
  ]);
  expect(body.unavailable).toEqual([]);
  // The queues exist in the deployed stack: a number, never null.
  for (const q of body.queues) expect(Number.isInteger(q.depth)).toBe(true);
});

describe('POST /api/ops/dlq/{queue}/redrive', () => {
  const redrive = (queue: string, token?: string) =>
    fetch(`${api}/api/ops/dlq/${queue}/redrive`, { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('is admin-only (401 / 403 problem+json)', async () => {
    expect((await redrive('payments-audit')).status).toBe(401);
    const asCustomer = await redrive('payments-audit', customer);
    expect(asCustomer.status).toBe(403);
    expect(asCustomer.headers.get('content-type')).toContain('application/problem+json');
  });

  it("moves the DLQ back for an admin (each owner's queue), 404 for a queue that does not exist, 400 for a malformed name", async () => {
    for (const queue of ['payments-audit', 'orders-payment-events']) {
      const ok = await redrive(queue, admin);
      expect([queue, ok.status]).toEqual([queue, 200]);
      expect(await ok.json()).toMatchObject({ queue, moved: expect.any(Number) });
    }
    expect((await redrive('no-such-consumer', admin)).status).toBe(404);
    const bad = await redrive('Bad_Name', admin);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { type: string }).type).toMatch(/\/validation/);
  });
});

describe('POST /api/ops/webhooks/stripe/replay (the payments card demo)', () => {
  const replay = (token?: string) => fetch(`${api}/api/ops/webhooks/stripe/replay`, { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('is admin-only (401 / 403 problem+json)', async () => {
    expect((await replay()).status).toBe(401);
    expect((await replay(customer)).status).toBe(403);
  });

  it('delivers an applied Stripe event again, signed: a duplicate, and its outbox still holds one row', async () => {
    // A paid order makes sure there is an applied event (others may be newer: any one proves it).
    const db = new Client({ connectionString: endpoints().postgresUrl });
    await db.connect();
    const productId = await crowdProduct(db, 5);
    let orderId: string | undefined;
    try {
      const shopper = await new Shopper().login();
      const placed = await shopper.placeOrderRetrying({ items: [{ productId, quantity: 1 }], paymentProvider: 'stripe' });
      expect(placed.status).toBe(202);
      orderId = String(placed.body.id);
      const order = await shopper.awaitPayable(orderId);
      await shopper.pay(order);
      expect((await shopper.settled(order.id)).state).toBe('COMPLETED');

      const res = await replay(admin);
      expect(res.status).toBe(200);
      const body = (await res.json()) as {
        event: { eventId: string; eventType: string };
        outboxBefore: Array<{ seq: number; sentAt: string | null }>;
        replay: { status: number; duplicate: boolean; outcome: string };
        outboxAfter: Array<{ seq: number }>;
      };
      expect(body.event.eventId).toMatch(/^evt_/);
      expect(body.replay).toEqual({ status: 200, duplicate: true, outcome: 'duplicate' });
      expect(body.outboxBefore).toHaveLength(1);
      expect(body.outboxAfter.map((r) => r.seq)).toEqual(body.outboxBefore.map((r) => r.seq));
      // The webhook inbox still holds the event once.
      const { rows } = await db.query('SELECT count(*)::int AS n FROM payments.webhook_inbox WHERE event_id = $1', [body.event.eventId]);
      expect(rows[0].n).toBe(1);
    } finally {
      await removeProduct(db, productId, orderId ? [orderId] : []);
      await db.end();
    }
  });
});
