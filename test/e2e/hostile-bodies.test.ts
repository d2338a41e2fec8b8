import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { Client } from 'pg';
import { Credentials } from '../../functions/identity/core/auth-service';
import { ProductPatch, RaceRequest, StockPatch } from '../../functions/catalog/core/model';
import { PlaceOrderSchema } from '../../functions/orders/core/model';
import { NewRuleSchema } from '../../functions/shared/chaos';
import { ClaimRequest, OutcomeRequest } from '../../functions/claims/core/model';
import { CreateSessionSchema } from '../../functions/payments/core/sessions';
import { endpoints } from '../support/endpoints';
import {
  acceptedBy,
  adminDb,
  expectedTypeFor,
  expectProblem,
  fcRuns,
  fingerprint,
  hostileBodies,
  login,
  registerAndLogin,
  send,
  type HostileBody,
} from '../support/hostile';

/**
 * Property-based hostile input on every public JSON endpoint (through the public API on the
 * emulator) and on the internal JSON endpoints the BFF calls: malformed bodies never get a
 * 5xx, always get problem+json with a known `type` (the same type for the same kind of
 * malformation), and never change state (row counts and the touched rows, read over the admin
 * Postgres connection, are the same before and after). Bodies the endpoint's own schema would
 * accept are legitimate requests and are skipped (fc.pre), so no property ever writes.
 */
jest.setTimeout(120_000);
const e = endpoints();
const api = e.apiBaseUrl;
const PRODUCT = '00000000-0000-4000-8000-000000000107';
let db: Client;
let customer: Awaited<ReturnType<typeof login>>;
let admin: Awaited<ReturnType<typeof login>>;

beforeAll(async () => {
  db = await adminDb();
  customer = await registerAndLogin(api);
  admin = await login(api, 'admin@checkout-mesh.dev', 'admin-password-123');
});
afterAll(async () => {
  await db?.end();
});

type Schema = { safeParse: (v: unknown) => { success: boolean } };

/**
 * One property: each hostile body, sent by `call`, gets a 4xx problem whose type is the one its
 * kind implies (when it implies one), and the fingerprint does not move.
 */
async function property(
  label: string,
  keys: string[],
  schema: Schema | undefined,
  call: (b: HostileBody) => Promise<Awaited<ReturnType<typeof send>>>,
  state: () => Promise<unknown>,
  runs = 20,
) {
  const before = await state();
  const kinds: Record<string, number> = {};
  await fc.assert(
    fc.asyncProperty(hostileBodies(keys), async (b) => {
      fc.pre(!schema || !acceptedBy(schema, b));
      const res = await call(b);
      const type = expectProblem(res, `${label} ${b.kind} ${String(b.body).slice(0, 120)}`);
      const expected = expectedTypeFor(b.kind);
      if (expected && type !== expected) throw new Error(`${label} ${b.kind}: type ${type}, expected ${expected}`);
      kinds[b.kind] = (kinds[b.kind] ?? 0) + 1;
    }),
    fcRuns(runs),
  );
  expect(await state()).toEqual(before);
  // The generator reached most kinds of malformation (not only one easy branch).
  expect(Object.keys(kinds).length).toBeGreaterThanOrEqual(4);
}

const json = (b: HostileBody, headers: Record<string, string> = {}) => ({ body: b.body, contentType: b.contentType, headers });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const identityState = () => fingerprint(db, ['identity']);
const productState = () =>
  fingerprint(db, ['catalog'], {
    product: `SELECT stock, reserved, name, price_cents, xmin::text FROM catalog.products WHERE id = '${PRODUCT}'`,
  });

async function etag(): Promise<string> {
  const res = await send(`${api}/api/products/${PRODUCT}`, 'GET');
  return res.headers.get('etag') ?? '"0"';
}

describe('hostile bodies on the auth endpoints (BFF -> identity)', () => {
  it('POST /api/auth/register', () => property('register', ['email', 'password'], Credentials, (b) => send(`${api}/api/auth/register`, 'POST', json(b)), identityState));

  it('POST /api/auth/login (loosely-shaped bodies are just wrong credentials: 401)', () =>
    property('login', ['email', 'password'], undefined, (b) => send(`${api}/api/auth/login`, 'POST', json(b)), identityState));

  it('POST /api/auth/refresh', () => property('refresh', ['refreshToken'], undefined, (b) => send(`${api}/api/auth/refresh`, 'POST', json(b)), identityState));
});

describe('hostile bodies on the catalog writes (as an admin: the bodies, not the role, are under test)', () => {
  it('PATCH /api/products/{id}/stock with the current If-Match', async () => {
    const tag = await etag();
    await property(
      'stock',
      ['delta'],
      StockPatch,
      (b) => send(`${api}/api/products/${PRODUCT}/stock`, 'PATCH', json(b, { 'if-match': tag, ...bearer(admin.accessToken) })),
      productState,
    );
  });

  it('PATCH /api/products/{id} with the current If-Match', async () => {
    const tag = await etag();
    await property(
      'product',
      ['name', 'priceCents'],
      ProductPatch,
      (b) => send(`${api}/api/products/${PRODUCT}`, 'PATCH', json(b, { 'if-match': tag, ...bearer(admin.accessToken) })),
      productState,
    );
  });

  it('POST /api/catalog/race', () =>
    property('race', ['productId', 'writers', 'delta'], RaceRequest, (b) => send(`${api}/api/catalog/race`, 'POST', json(b)), productState));
});

describe('hostile bodies on orders, chaos rules and Idempotency-Keys', () => {
  const ordersState = () =>
    fingerprint(db, [], {
      mine: `SELECT count(*)::text FROM orders.orders WHERE customer_id = '${customer.sub}'`,
      outbox: `SELECT count(*)::text FROM orders.outbox`,
      reservations: 'SELECT count(*)::text FROM catalog.reservations',
    });

  it('POST /api/orders (authenticated, a fresh Idempotency-Key each time)', () =>
    property(
      'orders',
      ['items', 'paymentProvider', 'failurePlan'],
      PlaceOrderSchema,
      (b) => send(`${api}/api/orders`, 'POST', json(b, { ...bearer(customer.accessToken), 'idempotency-key': randomUUID() })),
      ordersState,
    ));

  it('malformed Idempotency-Key headers on POST /api/orders: 400 validation-error, no claim, no order', async () => {
    const before = { ...(await ordersState()), claims: (await db.query('SELECT count(*)::text AS n FROM claims.claims')).rows[0].n };
    const body = JSON.stringify({ items: [{ productId: PRODUCT, quantity: 1 }] });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ minLength: 1, maxLength: 15 }).filter((s) => /^[\x21-\x7e]+$/.test(s)), // too short
          fc.string({ minLength: 256, maxLength: 400 }).map((s) => `k${'x'.repeat(255)}${s.replace(/[^\x21-\x7e]/g, 'y')}`), // too long
          fc.constantFrom('"unterminated', '""', 'a b c d e f g h i j k l', "'; DROP TABLE claims.claims;--", 'key\twith\ttabs-0123456789'),
        ),
        async (key) => {
          const res = await send(`${api}/api/orders`, 'POST', {
            body,
            contentType: 'application/json',
            headers: { ...bearer(customer.accessToken), 'idempotency-key': key },
          });
          const type = expectProblem(res, `key ${JSON.stringify(key)}`);
          expect(type).toMatch(/validation-error$/);
        },
      ),
      fcRuns(20),
    );
    expect({ ...(await ordersState()), claims: (await db.query('SELECT count(*)::text AS n FROM claims.claims')).rows[0].n }).toEqual(before);
  });

  it('POST /api/chaos/rules (admin)', async () => {
    const rules = async () => {
      const res = await send(`${api}/api/chaos/rules`, 'GET');
      return (JSON.parse(res.text) as { rules: { id: string }[] }).rules.map((r) => r.id).sort();
    };
    await property(
      'chaos',
      ['target', 'fault', 'probability', 'ttlSeconds', 'description'],
      NewRuleSchema,
      (b) => send(`${api}/api/chaos/rules`, 'POST', json(b, bearer(admin.accessToken))),
      rules,
    );
  });
});

describe('hostile query strings and path segments', () => {
  const segment = fc.oneof(
    fc.string({ maxLength: 60 }),
    fc.constantFrom('%', '%E0%A4%A', '%00', '%ZZ', '..%2F..%2Fetc%2Fpasswd', '%C0%AE', '%uD800', 'a%2Fb', '~', '%25'),
  );
  it('GET /api/products with random parameters: 200 or a 400 problem, never a 5xx', async () => {
    const before = await productState();
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.constantFrom('q', 'category', 'limit', 'offset', 'sort', 'x'), segment, { maxKeys: 4 }), async (params) => {
        const qs = Object.entries(params)
          .map(([k, v]) => `${k}=${/%/.test(v) ? v : encodeURIComponent(v)}`)
          .join('&');
        const res = await send(`${api}/api/products?${qs}`, 'GET');
        if (res.status === 200) expect(res.contentType).toMatch(/^application\/json/);
        else expectProblem(res, `?${qs}`);
      }),
      fcRuns(20),
    );
    expect(await productState()).toEqual(before);
  });

  it('ids in paths (products, orders, chaos rules) with raw and malformed percent-encodings: 4xx problems', async () => {
    await fc.assert(
      fc.asyncProperty(segment, fc.constantFrom('products', 'orders', 'orders-trace', 'chaos'), async (raw, kind) => {
        // ('.' and '..' are dot segments: the client resolves them away before sending.)
        const seg = /%/.test(raw) ? raw : /^\.{0,2}$/.test(raw) ? 'x' : encodeURIComponent(raw);
        const [url, method, headers] =
          kind === 'products'
            ? [`${api}/api/products/${seg}`, 'GET', {}]
            : kind === 'orders'
              ? [`${api}/api/orders/${seg}`, 'GET', bearer(customer.accessToken)]
              : kind === 'orders-trace'
                ? [`${api}/api/orders/${seg}/trace`, 'GET', bearer(customer.accessToken)]
                : [`${api}/api/chaos/rules/${seg}`, 'DELETE', bearer(admin.accessToken)];
        expectProblem(await send(url, method, { headers }), `${method} ${url}`);
      }),
      fcRuns(20),
    );
  });
});

describe('hostile bodies on the internal JSON APIs the BFF and the saga call', () => {
  it('claims: POST /claims and PUT /claims/{id}/outcome', async () => {
    const claimsState = () => fingerprint(db, ['claims']);
    await property(
      'claims',
      ['principal', 'key', 'fingerprint', 'leaseSeconds', 'owner'],
      ClaimRequest,
      (b) => send(`${e.services.claims}/claims`, 'POST', { ...json(b), signed: true }),
      claimsState,
    );
    await property(
      'outcome',
      ['status', 'headers', 'body', 'leaseToken'],
      OutcomeRequest,
      (b) => send(`${e.services.claims}/claims/${randomUUID()}/outcome`, 'PUT', { ...json(b), signed: true }),
      claimsState,
      15,
    );
  });

  it('payments: POST /internal/payment-sessions', () =>
    property(
      'sessions',
      ['orderId', 'amountCents', 'currency', 'provider'],
      CreateSessionSchema,
      (b) => send(`${e.services.payments}/internal/payment-sessions`, 'POST', { ...json(b), signed: true }),
      () => fingerprint(db, ['payments']),
    ));
});
