import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { httpApi, json, parseJsonBody, route } from '../../functions/shared/http';
import { HttpProblem, PROBLEM_BASE } from '../../functions/shared/problem';
import { restEvent } from '../support/api-events';

const ctx = {} as Context;
const v1 = (method: string, path: string, body?: string, headers: Record<string, string> = {}) => restEvent(method, path, { headers, body });
const v2 = (method: string, path: string) =>
  ({ version: '2.0', rawPath: path, headers: {}, isBase64Encoded: false, requestContext: { stage: '$default', http: { method, path, sourceIp: '127.0.0.1' } } }) as never;

const Item = z.object({ name: z.string().min(1), qty: z.number().int().positive() }).strict();
const handler = httpApi(
  [
    route('GET', '/items/{id}', (req) => json(200, { id: req.params.id })),
    route('POST', '/items', (req) => json(201, parseJsonBody(req, Item))),
    route('DELETE', '/items/{id}', () => {
      throw new HttpProblem(409, 'conflict', 'still referenced');
    }),
    route('GET', '/boom', () => {
      throw new Error('secret internal detail');
    }),
  ],
  { maxBodyBytes: 100 },
);

const call = async (event: never) => {
  const res = await handler(event, ctx);
  return { ...res, json: res.body ? JSON.parse(res.body) : undefined };
};

describe('httpApi', () => {
  it('routes REST (v1) and HTTP API (v2) events with path parameters', async () => {
    expect((await call(v1('GET', '/items/a%20b'))).json).toEqual({ id: 'a b' });
    expect((await call(v2('GET', '/items/42'))).json).toEqual({ id: '42' });
  });

  it('answers 404 problem+json for an unknown path', async () => {
    const res = await call(v1('GET', '/nope'));
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.json).toMatchObject({ type: `${PROBLEM_BASE}not-found`, status: 404, instance: '/nope' });
    expect(res.json.traceId).toEqual(expect.any(String));
  });

  it('answers 405 with Allow for a known path and another method', async () => {
    const res = await call(v1('PUT', '/items/1'));
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('GET, DELETE');
  });

  it('validates JSON bodies: 415, 400 bad JSON, 400 unknown field, 413 too large', async () => {
    expect((await call(v1('POST', '/items', '{"name":"a","qty":1}', { 'Content-Type': 'text/plain' }))).statusCode).toBe(415);
    expect((await call(v1('POST', '/items', '{bad', { 'content-type': 'application/json' }))).statusCode).toBe(400);
    const unknown = await call(v1('POST', '/items', '{"name":"a","qty":1,"x":2}', { 'content-type': 'application/json' }));
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json.type).toBe(`${PROBLEM_BASE}validation-error`);
    expect((await call(v1('POST', '/items', JSON.stringify({ name: 'a'.repeat(200), qty: 1 }), { 'content-type': 'application/json' }))).statusCode).toBe(413);
    const ok = await call(v1('POST', '/items', '{"name":"a","qty":1}', { 'content-type': 'application/json; charset=utf-8' }));
    expect(ok.statusCode).toBe(201);
  });

  it('renders thrown problems and hides unknown errors behind a generic 500', async () => {
    expect((await call(v1('DELETE', '/items/1'))).json).toMatchObject({ status: 409, detail: 'still referenced' });
    const res = await call(v1('GET', '/boom'));
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('secret internal detail');
    expect(res.body).not.toContain('at ');
  });

  it('propagates the caller correlation id', async () => {
    const res = await call(v1('GET', '/items/1', undefined, { 'X-Correlation-Id': 'abc-123' }));
    expect(res.headers['x-correlation-id']).toBe('abc-123');
  });
});
