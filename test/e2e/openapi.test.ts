import fs from 'node:fs';
import path from 'node:path';
import type * as z from 'zod';
import * as R from '../../functions/bff/openapi/responses';
import { loginAs } from '../support/accounts';
import { endpoints } from '../support/endpoints';

/**
 * The OpenAPI description against the deployed stack: it is served, as built (and the reference page with
 * its vendored renderer), and what the live routes answer fits the response schemas the
 * description is built from (functions/bff/openapi/responses.ts). The unit test compares the
 * description with the route table; this one compares it with the answers. Read-only (logins aside).
 */
jest.setTimeout(60_000);
const api = endpoints().apiBaseUrl;

function fits(schema: z.ZodType, value: unknown, what: string) {
  const result = schema.safeParse(value);
  expect([what, result.success ? [] : result.error.issues]).toEqual([what, []]);
}

async function getJson(path: string, token?: string) {
  const res = await fetch(`${api}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(30_000) });
  const body: unknown = await res.json();
  return { res, body };
}

let customer: string;
let admin: string;
beforeAll(async () => {
  customer = (await loginAs(api, 'customer')).accessToken;
  admin = (await loginAs(api, 'admin')).accessToken;
});

it('GET /api/openapi.json serves the OpenAPI 3.1 description, and /reference/api the page that renders it', async () => {
  const { res, body } = await getJson('/api/openapi.json');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/json');
  const doc = body as { openapi: string; paths: Record<string, Record<string, { 'x-access'?: string }>> };
  expect(doc.openapi).toBe('3.1.0');
  expect(doc.paths['/api/orders'].post['x-access']).toBe('signedIn');
  expect(doc.paths['/api/chaos/rules'].post['x-access']).toBe('admin');
  // What the BFF serves is the description built at build time (web/openapi.json, npm run build:web), shipped with its bundle.
  expect(doc).toEqual(JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', 'web', 'openapi.json'), 'utf8')));

  const page = await fetch(`${api}/reference/api`);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('../web/vendor/swagger-ui/swagger-ui-bundle.js');
  const bundle = await fetch(`${api}/web/vendor/swagger-ui/swagger-ui-bundle.js`);
  expect(bundle.status).toBe(200);
  expect(bundle.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  expect((await bundle.text()).length).toBeGreaterThan(1_000_000);
});

it('public reads answer what their schemas say', async () => {
  const products = await getJson('/api/products?limit=3');
  expect(products.res.status).toBe(200);
  expect(products.res.headers.get('ratelimit-policy')).toMatch(/^"read";q=\d+;w=\d+$/);
  fits(R.ProductPageSchema, products.body, 'GET /api/products');
  const first = (products.body as { items: Array<{ id: string }> }).items[0];
  if (first) {
    const product = await getJson(`/api/products/${first.id}`);
    expect(product.res.headers.get('etag')).toBeTruthy();
    fits(R.ProductSchema, product.body, 'GET /api/products/{id}');
  }
  fits(R.ClientConfigSchema, (await getJson('/api/config')).body, 'GET /api/config');
  fits(R.ChaosRuleListSchema, (await getJson('/api/chaos/rules')).body, 'GET /api/chaos/rules');
  fits(R.BreakersSchema, (await getJson('/api/ops/breakers')).body, 'GET /api/ops/breakers');
  fits(R.HealthSchema, (await getJson('/api/health')).body, 'GET /api/health');
  fits(R.JwksSchema, (await getJson('/.well-known/jwks.json')).body, 'GET /.well-known/jwks.json');
});

it('signed-in and admin reads answer what their schemas say', async () => {
  fits(R.MeSchema, (await getJson('/api/me', customer)).body, 'GET /api/me');
  const orders = await getJson('/api/orders?limit=5', customer);
  expect(orders.res.status).toBe(200);
  fits(R.OrderPageSchema, orders.body, 'GET /api/orders');
  const first = (orders.body as { items: Array<{ id: string }> }).items[0];
  if (first) {
    fits(R.OrderWithPaymentSchema, (await getJson(`/api/orders/${first.id}`, customer)).body, 'GET /api/orders/{id}');
    fits(R.OrderTraceSchema, (await getJson(`/api/orders/${first.id}/trace`, customer)).body, 'GET /api/orders/{id}/trace');
  }
  fits(R.OutboxStatsSchema, (await getJson('/api/ops/outbox', admin)).body, 'GET /api/ops/outbox');
  fits(R.DlqDepthsSchema, (await getJson('/api/ops/dlq', admin)).body, 'GET /api/ops/dlq');
});

it('errors are the Problem schema, as application/problem+json', async () => {
  for (const [path, status] of [
    ['/api/products/not-a-uuid', 400],
    ['/api/me', 401],
    ['/api/no-such-route', 404],
  ] as const) {
    const { res, body } = await getJson(path);
    expect([path, res.status, res.headers.get('content-type')]).toEqual([path, status, 'application/problem+json']);
    fits(R.Problem, body, `${status} on ${path}`);
  }
});
