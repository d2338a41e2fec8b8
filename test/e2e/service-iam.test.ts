import { TEST_DATA_CATEGORY } from '../../functions/catalog/core/model';
import { createHash, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { endpoints } from '../support/endpoints';
import { type Credentials, signedFetch, signerFor } from '../support/signed-fetch';
import { stackFunctions } from '../support/stack-functions';
import { emulatorIam } from '../../scripts/lib/emulator-iam';

/**
 * The service APIs are IAM-authorized (HttpIamAuthorizer + per-route execute-api grants), and
 * the emulator enforces it (MiniStack AUTH=true): straight calls to the internal routes that
 * are unsigned, signed with a made-up key, signed over another body, or signed by a principal
 * without a grant are refused with 403 before any Lambda runs, and nothing changes. The BFF's
 * own role cannot reach /internal/* either.
 */
jest.setTimeout(120_000);
const e = endpoints();
let db: Client;

/** A product with stock, and a reservation request for it: the state that must not change. */
async function product(stock: number): Promise<string> {
  const id = randomUUID();
  await db.query(`INSERT INTO catalog.products (id, sku, name, category, price_cents, stock) VALUES ($1, $2, 'IAM probe', '${TEST_DATA_CATEGORY}', 100, $3)`, [
    id,
    `iam-${id}`,
    stock,
  ]);
  return id;
}
const stockOf = async (id: string) => (await db.query<{ stock: number; reserved: number }>('SELECT stock, reserved FROM catalog.products WHERE id = $1', [id])).rows[0];
const reservationsOf = async (orderId: string) => Number((await db.query('SELECT count(*) AS n FROM catalog.reservations WHERE order_id = $1', [orderId])).rows[0].n);
const sessionsOf = async (orderId: string) => Number((await db.query('SELECT count(*) AS n FROM payments.payment_sessions WHERE order_id = $1', [orderId])).rows[0].n);

/** The emulator's IAM API as its root caller (users and keys for the probes below). */
const iam = (params: Record<string, string>) => emulatorIam(e.awsEndpoint, e.region, params);

/** An IAM user with an access key and no policy at all: signed, authenticated, granted nothing. */
async function ungrantedUser(): Promise<Credentials> {
  const name = `e2e-ungranted-${randomUUID().slice(0, 8)}`;
  await iam({ Action: 'CreateUser', UserName: name });
  const xml = await iam({ Action: 'CreateAccessKey', UserName: name });
  return { accessKeyId: /<AccessKeyId>([^<]+)</.exec(xml)![1], secretAccessKey: /<SecretAccessKey>([^<]+)</.exec(xml)![1] };
}

/**
 * An IAM user granted exactly the routes the tampering case calls, so a refusal can only be the
 * signature. (MiniStack does not verify the root caller's signatures: its root key is the
 * tooling's, so tampering has to be shown with a real principal.)
 */
let granted: Credentials | undefined;
async function grantedUser(): Promise<Credentials> {
  if (granted) return granted;
  const name = `e2e-granted-${randomUUID().slice(0, 8)}`;
  await iam({ Action: 'CreateUser', UserName: name });
  const arn = (api: string, route: string) => `arn:aws:execute-api:${e.region}:000000000000:${api}/$default/${route}`;
  await iam({
    Action: 'PutUserPolicy',
    UserName: name,
    PolicyName: 'internal-routes',
    PolicyDocument: JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'execute-api:Invoke',
          Resource: [
            arn(e.stack.CatalogApiId, 'POST/internal/reservations'),
            arn(e.stack.CatalogApiId, 'DELETE/internal/reservations/*'),
            arn(e.stack.PaymentsApiId, 'POST/internal/payment-sessions'),
            arn(e.stack.ChaosApiId, 'DELETE/rules'),
          ],
        },
      ],
    }),
  });
  const xml = await iam({ Action: 'CreateAccessKey', UserName: name });
  granted = { accessKeyId: /<AccessKeyId>([^<]+)</.exec(xml)![1], secretAccessKey: /<SecretAccessKey>([^<]+)</.exec(xml)![1] };
  return granted;
}

/**
 * The BFF Lambda's own session credentials. MiniStack (AUTH=true) derives a function's role
 * session deterministically from its function and role ARNs (ministack/core/lambda_runtime.py,
 * execution_credentials) and registers it when the function first runs: computing it here
 * lets the test speak as exactly the BFF's role.
 */
async function bffCredentials(): Promise<Credentials> {
  const bff = (await stackFunctions()).find((f) => f.Environment?.Variables?.SERVICE_NAME === 'bff');
  if (!bff?.FunctionArn || !bff.Role) throw new Error('BFF function not found');
  const digest = createHash('sha256').update(`${bff.FunctionArn}:${bff.Role}`).digest('hex');
  return {
    accessKeyId: `ASIA${digest.slice(0, 16).toUpperCase()}`,
    secretAccessKey: createHash('sha256').update(`secret:${digest}`).digest('hex'),
    sessionToken: createHash('sha256').update(`token:${digest}`).digest('hex'),
  };
}

beforeAll(async () => {
  db = new Client({ connectionString: e.postgresUrl });
  await db.connect();
  // The BFF's session exists once it has run: one public call makes sure.
  await fetch(e.healthUrl);
});
afterAll(async () => {
  const probes = `SELECT id FROM catalog.products WHERE category = 'e2e-iam'`;
  await db.query(`DELETE FROM catalog.reservations WHERE order_id IN (SELECT order_id FROM catalog.reservation_items WHERE product_id IN (${probes}))`);
  await db.query(`DELETE FROM catalog.reservation_items WHERE product_id IN (${probes})`);
  await db.query(`DELETE FROM catalog.products WHERE category = 'e2e-iam'`);
  await db.end();
});

type Attempt = (url: string, init: RequestInit) => Promise<Response>;
const json = { 'content-type': 'application/json' };

describe('internal routes refuse every caller without a grant (403, no state change)', () => {
  const refusals: Array<[string, () => Promise<Attempt>]> = [
    ['unsigned', async () => (url, init) => fetch(url, init)],
    ['signed with an unknown key', async () => (url, init) => signedFetch(url, init, { accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'not-a-secret' })],
    [
      'signed over another body by a granted principal (tampered)',
      async () => {
        const c = await grantedUser();
        return async (url, init) => {
          const headers: Record<string, string> = {};
          new Headers(init.headers).forEach((v, k) => (headers[k] = v));
          const signed = await signerFor(c)({ method: init.method ?? 'GET', url, headers, body: `${init.body ?? ''} ` });
          return fetch(url, { ...init, headers: signed });
        };
      },
    ],
    [
      'signed with the wrong secret for a granted key',
      async () => {
        const c = await grantedUser();
        return (url, init) => signedFetch(url, init, { ...c, secretAccessKey: `${c.secretAccessKey}x` });
      },
    ],
    [
      'signed by a principal without a grant',
      async () => {
        const c = await ungrantedUser();
        return (url, init) => signedFetch(url, init, c);
      },
    ],
    [
      'signed by the BFF role (it is never granted /internal/*)',
      async () => {
        const c = await bffCredentials();
        return (url, init) => signedFetch(url, init, c);
      },
    ],
  ];

  it.each(refusals)('%s', async (_label, make) => {
    const attempt = await make();
    const productId = await product(5);
    const orderId = randomUUID();
    const reserve = await attempt(`${e.services.catalog}/internal/reservations`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ orderId, items: [{ productId, quantity: 2 }] }),
    });
    expect(reserve.status).toBe(403);
    const release = await attempt(`${e.services.catalog}/internal/reservations/${orderId}`, { method: 'DELETE' });
    expect(release.status).toBe(403);
    const session = await attempt(`${e.services.payments}/internal/payment-sessions`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ orderId, amountCents: 100, currency: 'EUR', provider: 'stripe' }),
    });
    expect(session.status).toBe(403);
    // Chaos rule writes: granted to the BFF (it checks the admin role itself), refused to the others.
    if (!_label.startsWith('signed by the BFF role')) {
      const chaos = await attempt(`${e.services.chaos}/rules`, { method: 'DELETE' });
      expect(chaos.status).toBe(403);
    }
    expect(await stockOf(productId)).toEqual({ stock: 5, reserved: 0 });
    expect(await reservationsOf(orderId)).toBe(0);
    expect(await sessionsOf(orderId)).toBe(0);
  });

  it('the granted principal, signing honestly, gets through the same routes: the refusals above are IAM, not the routes', async () => {
    const c = await grantedUser();
    const productId = await product(5);
    const orderId = randomUUID();
    const reserve = await signedFetch(
      `${e.services.catalog}/internal/reservations`,
      {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ orderId, items: [{ productId, quantity: 2 }] }),
      },
      c,
    );
    expect(reserve.status).toBe(201);
    expect((await stockOf(productId)).reserved).toBe(2);
    const release = await signedFetch(`${e.services.catalog}/internal/reservations/${orderId}`, { method: 'DELETE' }, c);
    expect(release.status).toBe(200);
    await db.query('DELETE FROM catalog.reservations WHERE order_id = $1', [orderId]);
  });

  it('the BFF role reaches the routes it is granted (its /health) but not another method on them', async () => {
    const c = await bffCredentials();
    expect((await signedFetch(`${e.services.catalog}/health`, {}, c)).status).toBe(200);
    expect((await signedFetch(`${e.services.catalog}/health`, { method: 'DELETE' }, c)).status).toBe(403);
  });
});

describe('identity headers count only from the BFF role', () => {
  it('orders ignores x-customer-id from another signed caller: no order is readable or placeable that way', async () => {
    const res = await signedFetch(`${e.services.orders}/orders/${randomUUID()}`, { headers: { 'x-customer-id': randomUUID(), 'x-customer-role': 'admin' } });
    // The headers were dropped, so orders sees no customer: refused, not a lookup for that customer.
    expect(res.status).toBe(401);
    const place = await signedFetch(`${e.services.orders}/orders`, {
      method: 'POST',
      headers: { ...json, 'x-customer-id': randomUUID() },
      body: JSON.stringify({ items: [{ productId: randomUUID(), quantity: 1 }], paymentProvider: 'stripe' }),
    });
    expect(place.status).toBe(401);
  });
});
