import { loginAs } from '../support/accounts';
import { endpoints } from '../support/endpoints';

/**
 * The admin ops views the /chaos page reads: the payments outbox backlog and its consumer's DLQ
 * depth, through the BFF (which checks the admin role) to the payments API.
 */
jest.setTimeout(60_000);
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

it('GET /api/ops/outbox answers the payments outbox backlog', async () => {
  const res = await fetch(`${api}/api/ops/outbox`, { headers: { authorization: `Bearer ${admin}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('cache-control')).toBe('no-store');
  const body = (await res.json()) as { pending: number; oldestAgeSeconds: number | null };
  expect(Number.isInteger(body.pending)).toBe(true);
  expect(body.pending).toBeGreaterThanOrEqual(0);
  expect(body.oldestAgeSeconds === null || body.oldestAgeSeconds >= 0).toBe(true);
});

it("GET /api/ops/dlq answers the depth of payments' consumer DLQ", async () => {
  const res = await fetch(`${api}/api/ops/dlq`, { headers: { authorization: `Bearer ${admin}` } });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { queues: Array<{ queue: string; dlq: string; depth: number | null }> };
  expect(body.queues.map((q) => q.dlq)).toEqual(['checkout-mesh-payments-audit-dlq']);
  // The queue exists in the deployed stack: a number, never null.
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

  it('moves the DLQ back for an admin, 404 for a queue that does not exist, 400 for a malformed name', async () => {
    const ok = await redrive('payments-audit', admin);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ queue: 'payments-audit', moved: expect.any(Number) });
    expect((await redrive('no-such-consumer', admin)).status).toBe(404);
    const bad = await redrive('Bad_Name', admin);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { type: string }).type).toMatch(/\/validation/);
  });
});
