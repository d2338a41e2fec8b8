import type { Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { decide, type ClaimRow } from '../../functions/claims/core/model';
import {
  canonicalJson,
  type ClaimAnswer,
  type ClaimsPort,
  idempotent,
  parseIdempotencyKey,
  requestFingerprint,
  type StoredResponse,
} from '../../functions/bff/middleware/idempotency';
import { httpApi, json, route } from '../../functions/shared/http';
import { HttpProblem } from '../../functions/shared/problem';

/** An in-memory claims service with the same decisions as the Postgres one. */
function memoryClaims(leaseMs = 30_000): ClaimsPort & { rows: Map<string, ClaimRow> } {
  const rows = new Map<string, ClaimRow>();
  return {
    rows,
    async claim({ principal, key, fingerprint }): Promise<ClaimAnswer> {
      const id = `${principal}|${key}`;
      const now = new Date();
      const row = rows.get(id);
      const fresh = (): ClaimAnswer => {
        rows.set(id, {
          id,
          principal,
          key,
          fingerprint,
          state: 'in_flight',
          lease_token: randomUUID(),
          lease_expires_at: new Date(now.getTime() + leaseMs),
          attempts: 1,
          response_status: null,
          response_headers: null,
          response_body: null,
          expires_at: new Date(now.getTime() + 86_400_000),
        });
        return { outcome: 'acquired', claimId: id };
      };
      if (!row) return fresh();
      const d = decide(row, { fingerprint }, now);
      if (d.kind === 'replay')
        return { outcome: 'replay', claimId: id, response: { status: row.response_status!, headers: row.response_headers!, body: row.response_body! } };
      if (d.kind === 'mismatch') return { outcome: 'mismatch', claimId: id };
      if (d.kind === 'in_flight') return { outcome: 'in_flight', claimId: id, retryAfter: d.retryAfter };
      return fresh();
    },
    async complete(claimId, o: StoredResponse) {
      const row = rows.get(claimId)!;
      if (o.status >= 500) Object.assign(row, { state: 'failed' });
      else Object.assign(row, { state: 'completed', response_status: o.status, response_headers: o.headers, response_body: o.body });
    },
  };
}

const ctx = {} as Context;
const event = (method: string, path: string, body: string | null, headers: Record<string, string>) =>
  ({ httpMethod: method, path, headers, body, isBase64Encoded: false, queryStringParameters: null, requestContext: { identity: { sourceIp: '10.0.0.1' } } }) as never;
const KEY = '7b0f3c1e-2a4d-4e8f-9c1b-0a2b3c4d5e6f';
const jsonHeaders = (key?: string) => ({ 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) });

function setup(inner?: () => Promise<unknown>) {
  const claims = memoryClaims();
  let effects = 0;
  const handler = httpApi([
    route(
      'POST',
      '/things',
      idempotent(
        async (req) => {
          if (inner) await inner();
          effects++;
          const body = JSON.parse(req.rawBody.toString('utf8'));
          if (body.fail === 'conflict') throw new HttpProblem(409, 'conflict', 'taken');
          if (body.fail === 'crash') throw new Error('boom');
          return json(201, { n: effects, got: body }, { location: `/things/${effects}` });
        },
        { claims, resolveClient: async (req) => `ip:${req.sourceIp}` },
      ),
    ),
  ]);
  const post = (body: unknown, key?: string, headers: Record<string, string> = {}) =>
    handler(event('POST', '/things', JSON.stringify(body), { ...jsonHeaders(key), ...headers }), ctx);
  return { claims, post, effects: () => effects };
}

describe('Idempotency-Key parsing and fingerprint', () => {
  it('accepts UUIDs, 16–255 visible characters and structured-field strings; rejects the rest', () => {
    expect(parseIdempotencyKey(KEY)).toBe(KEY);
    expect(parseIdempotencyKey(`"${KEY}"`)).toBe(KEY);
    expect(parseIdempotencyKey('order-2024-000000001')).toBe('order-2024-000000001');
    expect(parseIdempotencyKey('short')).toBeUndefined();
    expect(parseIdempotencyKey('has spaces in the middle of it')).toBeUndefined();
    expect(parseIdempotencyKey('x'.repeat(256))).toBeUndefined();
    expect(parseIdempotencyKey('ключ-ключ-ключ-ключ')).toBeUndefined();
  });

  it('fingerprints method + path + canonical JSON (key order and whitespace do not matter)', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}');
    const fp = (method: string, path: string, body: string) => requestFingerprint({ method, path, rawBody: Buffer.from(body) });
    expect(fp('POST', '/a', '{"x":1,"y":2}')).toBe(fp('POST', '/a', '{ "y": 2, "x": 1 }'));
    expect(fp('POST', '/a', '{"x":1}')).not.toBe(fp('POST', '/a', '{"x":2}'));
    expect(fp('POST', '/a', '{"x":1}')).not.toBe(fp('POST', '/b', '{"x":1}'));
    expect(fp('POST', '/a', '{"x":1}')).not.toBe(fp('PUT', '/a', '{"x":1}'));
    expect(fp('POST', '/a', 'not json')).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('idempotent(handler)', () => {
  it('400 without a key or with a malformed key, and runs nothing', async () => {
    const { post, effects } = setup();
    const missing = await post({ a: 1 });
    expect(missing.statusCode).toBe(400);
    expect(missing.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(missing.body).type).toMatch(/idempotency-key-missing$/);
    expect((await post({ a: 1 }, 'too-short')).statusCode).toBe(400);
    expect(effects()).toBe(0);
  });

  it('runs once, then replays the stored response byte for byte with Idempotent-Replayed: true', async () => {
    const { post, effects } = setup();
    const first = await post({ a: 1, b: 2 }, KEY);
    expect(first.statusCode).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const again = await post({ b: 2, a: 1 }, KEY);
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toBe(first.body);
    expect(again.headers.location).toBe(first.headers.location);
    expect(again.headers['content-type']).toBe(first.headers['content-type']);
    expect(effects()).toBe(1);
  });

  it('422 for the same key with another payload; 409 + Retry-After while in flight', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { post, effects } = setup(() => gate);
    const running = post({ a: 1 }, KEY);
    await new Promise((r) => setImmediate(r));
    const busy = await post({ a: 1 }, KEY);
    expect(busy.statusCode).toBe(409);
    expect(Number(busy.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(busy.body).type).toMatch(/idempotency-key-in-flight$/);
    const other = await post({ a: 2 }, KEY);
    expect(other.statusCode).toBe(422);
    expect(JSON.parse(other.body).type).toMatch(/idempotency-key-mismatch$/);
    release();
    expect((await running).statusCode).toBe(201);
    expect(effects()).toBe(1);
  });

  it('stores a 4xx answer as final, but releases the claim after a crash so a retry runs again', async () => {
    const { post, effects } = setup();
    const conflict = await post({ fail: 'conflict' }, KEY);
    expect(conflict.statusCode).toBe(409);
    const conflictAgain = await post({ fail: 'conflict' }, KEY);
    expect(conflictAgain.statusCode).toBe(409);
    expect(conflictAgain.headers['idempotent-replayed']).toBe('true');
    expect(conflictAgain.body).toBe(conflict.body);
    expect(effects()).toBe(1);

    const key2 = 'retry-after-crash-0001';
    expect((await post({ fail: 'crash' }, key2)).statusCode).toBe(500);
    expect((await post({ fail: 'crash' }, key2)).statusCode).toBe(500);
    expect(effects()).toBe(3);
  });

  it('scopes keys by client: another client with the same key runs its own request', async () => {
    const claims = memoryClaims();
    const seen: string[] = [];
    const h = idempotent(async () => json(200, { ok: true }), {
      claims: { claim: async (i, c) => (seen.push(i.principal), claims.claim(i, c)), complete: claims.complete },
      resolveClient: async (req) => (req.headers.authorization ? 'user:u1' : `ip:${req.sourceIp}`),
    });
    const req = (auth?: string) => ({
      method: 'POST',
      path: '/x',
      headers: { 'idempotency-key': KEY, ...(auth ? { authorization: auth } : {}) },
      query: {},
      params: {},
      rawBody: Buffer.from('{}'),
      sourceIp: '10.0.0.9',
      correlationId: 'c',
    });
    expect((await h(req())).status).toBe(200);
    expect((await h(req('Bearer t'))).status).toBe(200);
    expect(seen).toEqual(['ip:10.0.0.9', 'user:u1']);
  });
});
