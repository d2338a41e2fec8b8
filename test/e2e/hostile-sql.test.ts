import type { Client } from 'pg';
import Stripe from 'stripe';
import { endpoints } from '../support/endpoints';
import { adminDb, expectProblem, fingerprint, login, problemType, registerAndLogin, send } from '../support/hostile';

/**
 * SQL only through parameters: injection attempts in search terms, filters, paging, ids in
 * paths, credentials, refresh tokens and provider references fail safely (a 4xx problem, or a
 * result that treats the payload as a literal) and change nothing in any schema. A payload that
 * sleeps in SQL would make the call slow: every call must stay fast.
 */
jest.setTimeout(120_000);
const e = endpoints();
const api = e.apiBaseUrl;
let db: Client;
let customer: Awaited<ReturnType<typeof login>>;
let admin: Awaited<ReturnType<typeof login>>;

const PAYLOADS = [
  "' OR '1'='1",
  "' OR 1=1--",
  "'; DROP TABLE catalog.products;--",
  '1; DELETE FROM identity.users',
  "') UNION SELECT id, email, password_hash, 'x', 0, 0, 0, now(), now(), '1' FROM identity.users--",
  "%' AND (SELECT pg_sleep(6)) IS NULL AND name LIKE '%",
  "'||(SELECT pg_sleep(6))||'",
  '%',
  '_',
  '\\',
  '"; --',
  '$1',
  "admin'--",
  "00000000-0000-4000-8000-000000000101' OR '1'='1",
];
const SLOW_MS = 4000;
const everything = () =>
  fingerprint(db, ['identity', 'catalog', 'claims', 'payments', 'orders'], {
    products: "SELECT md5(string_agg(id::text || name || stock || reserved || price_cents, ',' ORDER BY id)) FROM catalog.products",
    users: "SELECT md5(string_agg(email || password_hash, ',' ORDER BY email)) FROM identity.users",
  });

async function timed(url: string, method = 'GET', opts: Parameters<typeof send>[2] = {}) {
  const started = Date.now();
  const res = await send(url, method, opts);
  const ms = Date.now() - started;
  if (ms > SLOW_MS) throw new Error(`${method} ${url} took ${ms} ms (did a payload run in SQL?)`);
  return res;
}

beforeAll(async () => {
  db = await adminDb();
  customer = await registerAndLogin(api);
  admin = await login(api, 'admin@checkout-mesh.dev', 'admin-password-123');
  // Warm the Lambdas this suite calls, so a cold start is not mistaken for an injected sleep.
  await Promise.all([
    send(`${api}/api/products?q=warm`, 'GET'),
    send(`${api}/api/orders/${customer.sub}`, 'GET', { headers: { authorization: `Bearer ${customer.accessToken}` } }),
    send(`${e.services.payments}/health`, 'GET', { signed: true }),
    send(`${e.services.claims}/health`, 'GET', { signed: true }),
  ]);
});
afterAll(async () => {
  await db?.end();
});

describe('SQL injection attempts fail safely and change nothing', () => {
  it('catalog search q and category: payloads are literal substrings (same answer as a literal match in SQL)', async () => {
    const before = await everything();
    for (const p of PAYLOADS) {
      const res = await timed(`${api}/api/products?${new URLSearchParams({ q: p })}`);
      if (res.status !== 200) {
        expectProblem(res, `q=${p}`);
        continue;
      }
      const page = JSON.parse(res.text) as { total: number; items: { name: string; sku: string }[] };
      const literal = await db.query<{ n: string }>(
        'SELECT count(*)::text AS n FROM catalog.products WHERE strpos(lower(name), lower($1)) > 0 OR strpos(lower(sku), lower($1)) > 0',
        [p.trim()],
      );
      expect({ p, total: page.total }).toEqual({ p, total: Number(literal.rows[0].n) });
      const cat = await timed(`${api}/api/products?${new URLSearchParams({ category: p })}`);
      if (cat.status === 200) expect({ p, total: (JSON.parse(cat.text) as { total: number }).total }).toEqual({ p, total: 0 });
      else expectProblem(cat, `category=${p}`);
    }
    // Paging parameters are numbers or a 400.
    for (const p of ['1;DROP TABLE catalog.products', '1 OR 1=1', '-1', '1e999', "20'--"]) {
      expect(expectProblem(await timed(`${api}/api/products?${new URLSearchParams({ limit: p })}`), `limit=${p}`)).toBe(problemType('validation'));
      expect(expectProblem(await timed(`${api}/api/products?${new URLSearchParams({ offset: p })}`), `offset=${p}`)).toBe(problemType('validation'));
    }
    expect(await everything()).toEqual(before);
  });

  it('ids in paths (products, orders, traces, chaos rules, reservations, payment sessions, claims): 4xx, nothing changed', async () => {
    const before = await everything();
    const auth = { authorization: `Bearer ${customer.accessToken}` };
    const adminAuth = { authorization: `Bearer ${admin.accessToken}` };
    for (const p of PAYLOADS) {
      const id = encodeURIComponent(p);
      const calls: [string, string, Record<string, string>, string?][] = [
        [`${api}/api/products/${id}`, 'GET', {}],
        [`${api}/api/products/${id}/stock`, 'PATCH', { 'if-match': '"1"' }, '{"delta":1}'],
        [`${api}/api/products/${id}`, 'PATCH', { 'if-match': '"1"' }, '{"name":"x"}'],
        [`${api}/api/orders/${id}`, 'GET', auth],
        [`${api}/api/orders/${id}/trace`, 'GET', auth],
        [`${api}/api/chaos/rules/${id}`, 'DELETE', adminAuth],
        [`${e.services.catalog}/internal/reservations/${id}`, 'DELETE', {}],
        [`${e.services.payments}/internal/payment-sessions/${id}`, 'GET', {}],
        [`${e.services.payments}/internal/payment-sessions/${id}/capture`, 'POST', {}],
        [`${e.services.payments}/internal/payment-sessions/${id}/refund`, 'POST', {}],
        [`${e.services.claims}/claims/${id}/outcome`, 'PUT', {}, '{"status":200}'],
        [`${e.services.claims}/claims/${id}?leaseToken=${id}`, 'DELETE', {}],
      ];
      for (const [url, method, headers, body] of calls) {
        const res = await timed(url, method, { headers, body, contentType: body ? 'application/json' : undefined, signed: !url.startsWith(api) });
        expectProblem(res, `${method} ${url}`);
      }
    }
    expect(await everything()).toEqual(before);
  });

  it('credentials and refresh tokens: no login as anyone else, 4xx problems, nothing changed', async () => {
    const before = await everything();
    for (const p of PAYLOADS) {
      for (const email of [`admin@checkout-mesh.dev${p}`, p, `${p}@example.test`]) {
        const res = await timed(`${api}/api/auth/login`, 'POST', { body: JSON.stringify({ email, password: p.padEnd(8, 'x') }), contentType: 'application/json' });
        // 401 (wrong credentials) or 429 (the account throttle): never a session.
        expect(expectProblem(res, `login ${email}`)).toMatch(/unauthorized$|rate-limited$/);
      }
      const refresh = await timed(`${api}/api/auth/refresh`, 'POST', { body: JSON.stringify({ refreshToken: `rt.${p}.${p}` }), contentType: 'application/json' });
      expect(expectProblem(refresh, `refresh ${p}`)).toMatch(/unauthorized$|validation-error$/);
      const me = await timed(`${api}/api/me`, 'GET', { headers: { authorization: `Bearer ${p}` } });
      expect(expectProblem(me, `bearer ${p}`)).toMatch(/unauthorized$/);
    }
    expect(await everything()).toEqual(before);
  });

  it('a signed webhook whose payment reference is a payload matches no session and moves nothing', async () => {
    const res = await fetch(`${e.vaultAddr}/v1/secret/data/payments/stripe`, { headers: { 'X-Vault-Token': e.vaultToken } });
    const secret = ((await res.json()) as { data: { data: { webhookSecret: string } } }).data.data.webhookSecret;
    const stripe = new Stripe('sk_test_hostile');
    const sessions = "SELECT md5(string_agg(id::text || status, ',' ORDER BY id)) AS h, count(*) AS n FROM payments.payment_sessions";
    const before = (await db.query(sessions)).rows[0];
    const outbox = (await db.query('SELECT count(*)::int AS n FROM payments.outbox')).rows[0].n;
    for (const [i, p] of PAYLOADS.entries()) {
      const body = JSON.stringify({
        id: `evt_sqli_${Date.now()}_${i}`,
        object: 'event',
        type: 'payment_intent.succeeded',
        data: { object: { id: p, object: 'payment_intent', metadata: { sessionId: p } } },
      });
      const hook = await timed(`${api}/webhooks/stripe`, 'POST', {
        body,
        contentType: 'application/json',
        headers: { 'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload: body, secret }) },
      });
      expect({ p, status: hook.status, outcome: (JSON.parse(hook.text) as { outcome?: string }).outcome }).toEqual({ p, status: 200, outcome: 'unknown-session' });
    }
    expect((await db.query(sessions)).rows[0]).toEqual(before);
    expect((await db.query('SELECT count(*)::int AS n FROM payments.outbox')).rows[0].n).toBe(outbox);
  });
});
