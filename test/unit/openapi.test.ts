import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OPERATIONS, OUTSIDE_BFF } from '../../functions/bff/openapi/operations';
import { openApiPath } from '../../functions/bff/openapi/document';
import { bffRouteTable, closeBffRouteTable, openApiFile, renderOpenApi } from '../../scripts/lib/openapi';

/**
 * The OpenAPI description against the route table, both ways: every route the BFF serves has a
 * description (and no description outlives its route), each operation's security is the access
 * its route declares, and the document served at GET /api/openapi.json is valid OpenAPI 3.1 by a
 * third-party validator (@seriousme/openapi-schema-validator: the official 3.1 JSON Schema).
 * The BFF serves the description built at build time (web/openapi.json, `npm run build:web`):
 * these tests read what it serves, so a file that misses a route fails them, and the file must be
 * exactly what the current routes and schemas build.
 */
const WEB_ROOT = path.resolve(__dirname, '..', '..', 'web');
const routes = bffRouteTable(WEB_ROOT);
const VALIDATOR_CLI = path.join(path.dirname(require.resolve('@seriousme/openapi-schema-validator/package.json')), 'bin', 'validate-api-cli.js');
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

interface Operation {
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ name: string; in: string; required?: boolean } | { $ref: string }>;
  requestBody?: { content: Record<string, unknown> };
  responses: Record<string, { $ref?: string; headers?: Record<string, unknown>; content?: Record<string, unknown> }>;
  'x-access'?: string;
}
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>>; components: Record<string, Record<string, unknown>> };

let doc: Doc;
beforeAll(async () => {
  const route = routes.find((r) => r.method === 'GET' && r.path === '/api/openapi.json');
  expect(route).toBeDefined();
  const res = await route!.handler({
    method: 'GET',
    path: '/api/openapi.json',
    headers: {},
    query: {},
    params: {},
    rawBody: Buffer.alloc(0),
    sourceIp: '127.0.0.1',
    correlationId: 't',
  });
  expect(res.status).toBe(200);
  expect(res.headers?.['content-type']).toBe('application/json');
  doc = JSON.parse(String(res.body)) as Doc;
  if (process.env.OPENAPI_DUMP) fs.writeFileSync(process.env.OPENAPI_DUMP, JSON.stringify(doc, null, 2));
});
afterAll(closeBffRouteTable);

const operations = () =>
  Object.entries(doc.paths).flatMap(([p, item]) =>
    Object.entries(item)
      .filter(([m]) => METHODS.includes(m))
      .map(([m, op]) => ({ key: `${m.toUpperCase()} ${p}`, op })),
  );

describe('the OpenAPI description and the route table', () => {
  it('is served from web/openapi.json, which is what the current routes and schemas build (run `npm run build:web` when this fails)', () => {
    const built = fs.readFileSync(openApiFile(WEB_ROOT), 'utf8');
    const fresh = renderOpenApi(routes);
    // The structure first (a readable diff), then the bytes.
    expect(JSON.parse(built)).toEqual(JSON.parse(fresh));
    expect(built).toBe(fresh);
    expect(doc).toEqual(JSON.parse(built));
  });

  it('describes every route, and nothing that is not a route (both ways)', () => {
    const fromTable = routes.map((r) => `${r.method} ${openApiPath(r.path)}`);
    const outside = Object.keys(OUTSIDE_BFF);
    expect(new Set(fromTable).size).toBe(fromTable.length);
    // A route without a description:
    expect(routes.map((r) => `${r.method} ${r.path}`).filter((k) => !OPERATIONS[k])).toEqual([]);
    // A description without a route:
    expect(Object.keys(OPERATIONS).filter((k) => !routes.some((r) => `${r.method} ${r.path}` === k))).toEqual([]);
    // And the served document holds exactly those operations.
    expect(
      operations()
        .map((o) => o.key)
        .sort(),
    ).toEqual([...fromTable, ...outside].sort());
  });

  it("gives each operation its route's access as security", () => {
    const byKey = new Map(routes.map((r) => [`${r.method} ${openApiPath(r.path)}`, r]));
    for (const { key, op } of operations()) {
      const route = byKey.get(key);
      if (!route) continue; // the webhooks, outside the BFF
      const a = route.access;
      const optional = OPERATIONS[`${route.method} ${route.path}`].optionalBearer;
      const expected = a === 'anyone' ? (optional ? [{}, { bearerAuth: [] }] : []) : a === 'signedIn' ? [{ bearerAuth: [] }] : [{ bearerAuth: ['admin'] }];
      expect([key, op.security, op['x-access']]).toEqual([key, expected, a]);
      if (a !== 'anyone') expect([key, op.responses['401']]).toEqual([key, { $ref: '#/components/responses/Unauthorized' }]);
      if (a === 'admin') expect([key, op.responses['403']]).toEqual([key, { $ref: '#/components/responses/Forbidden' }]);
    }
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  });

  it('names the path parameters each templated path has', () => {
    for (const { key, op } of operations()) {
      const names = [...key.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      const inPath = (op.parameters ?? []).filter((p): p is { name: string; in: string; required?: boolean } => 'in' in p && p.in === 'path');
      expect([key, inPath.map((p) => p.name).sort()]).toEqual([key, names.sort()]);
      for (const p of inPath) expect(p.required).toBe(true);
    }
  });

  it('carries the shared contracts: problem+json errors, RateLimit headers, Idempotency-Key, If-Match/ETag', () => {
    const ops = Object.fromEntries(operations().map((o) => [o.key, o.op]));
    for (const [key, op] of Object.entries(ops)) {
      if (key.startsWith('POST /webhooks')) continue;
      expect([key, op.responses['429']]).toEqual([key, { $ref: '#/components/responses/RateLimited' }]);
    }
    const rateLimited = doc.components.responses.RateLimited as { headers: Record<string, unknown>; content: Record<string, unknown> };
    expect(Object.keys(rateLimited.headers)).toEqual(expect.arrayContaining(['RateLimit', 'RateLimit-Policy', 'Retry-After']));
    expect(Object.keys(rateLimited.content)).toEqual(['application/problem+json']);
    expect(Object.keys(ops['GET /api/products'].responses['200'].headers ?? {})).toEqual(expect.arrayContaining(['RateLimit', 'RateLimit-Policy']));

    const headerParams = (op: Operation) => (op.parameters ?? []).map((p) => ('$ref' in p ? p.$ref : `${p.in}:${p.name}`));
    for (const key of ['POST /api/orders', 'POST /api/demo/idempotent-echo']) {
      expect(headerParams(ops[key])).toContain('#/components/parameters/IdempotencyKey');
      expect(Object.keys(ops[key].responses)).toEqual(expect.arrayContaining(['409', '422']));
    }
    expect(doc.components.parameters.IdempotencyKey).toMatchObject({ in: 'header', name: 'Idempotency-Key', required: true });
    for (const key of ['PATCH /api/products/{id}', 'PATCH /api/products/{id}/stock']) {
      expect(headerParams(ops[key])).toContain('#/components/parameters/IfMatch');
      expect(Object.keys(ops[key].responses)).toEqual(expect.arrayContaining(['412', '428']));
      expect(Object.keys(ops[key].responses['200'].headers ?? {})).toContain('ETag');
    }
    expect(doc.components.parameters.IfMatch).toMatchObject({ in: 'header', name: 'If-Match', required: true });
    expect(Object.keys(ops['GET /api/products/{id}'].responses)).toEqual(expect.arrayContaining(['200', '304']));
  });

  it('documents the request bodies with the schemas the services validate with', () => {
    const ops = Object.fromEntries(operations().map((o) => [o.key, o.op]));
    const bodyOf = (key: string) => JSON.stringify(ops[key].requestBody?.content['application/json']);
    // PlaceOrderSchema (orders/core/model.ts): strict items with productId/quantity, a provider enum, a failure plan.
    expect(bodyOf('POST /api/orders')).toMatch(/"paymentProvider"/);
    expect(bodyOf('POST /api/orders')).toMatch(/"failurePlan"/);
    expect(bodyOf('POST /api/chaos/rules')).toMatch(/"latencyMs"/);
    expect(bodyOf('POST /api/auth/register')).toMatch(/"minLength":8/);
    for (const { key, op } of operations()) {
      if (
        !/^(POST|PATCH|PUT) \/api\//.test(key) ||
        key.startsWith('POST /api/auth/logout') ||
        key.includes('/redrive') ||
        key.endsWith('/payment/cancel') ||
        key.endsWith('/replay')
      )
        continue;
      expect([key, op.requestBody ? Object.keys(op.requestBody.content) : undefined]).toEqual([key, ['application/json']]);
    }
  });

  it('gives every JSON body an example its own schema accepts', () => {
    for (const [key, op] of Object.entries(OPERATIONS)) {
      if (!op.body) continue;
      expect([key, op.example !== undefined]).toEqual([key, true]);
      const parsed = op.body.safeParse(op.example);
      expect([key, parsed.success ? [] : parsed.error.issues]).toEqual([key, []]);
    }
  });

  it('is valid OpenAPI 3.1 (a third-party validator)', () => {
    expect(doc.openapi).toBe('3.1.0');
    // The validator is ESM only (import.meta): run its CLI in a plain Node process, not in jest's CommonJS.
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'openapi-')), 'openapi.json');
    fs.writeFileSync(file, JSON.stringify(doc));
    let out: string;
    try {
      out = execFileSync(process.execPath, [VALIDATOR_CLI, file], { encoding: 'utf8' });
    } catch (err) {
      out = String((err as { stdout?: string }).stdout ?? err);
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
    const result = JSON.parse(out) as { valid: boolean; errors?: unknown };
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });
});
