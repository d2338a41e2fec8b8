import fc from 'fast-check';
import { Client } from 'pg';
import { PROBLEM_BASE, ProblemType } from '../../functions/shared/problem';
import { endpoints } from './endpoints';

/**
 * Helpers for the hostile-input suites: raw HTTP calls (any bytes, any content type),
 * the problem+json contract, fast-check arbitraries of malformed bodies, and state
 * fingerprints read over the admin Postgres connection.
 */
export interface RawResponse {
  status: number;
  contentType: string;
  text: string;
  headers: Headers;
}

import { signedFetch } from './signed-fetch';

export async function send(
  url: string,
  method: string,
  opts: { body?: string | Buffer; contentType?: string; headers?: Record<string, string>; signed?: boolean } = {},
): Promise<RawResponse> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.contentType !== undefined) headers['content-type'] = opts.contentType;
  const body = Buffer.isBuffer(opts.body) ? new Uint8Array(opts.body) : opts.body;
  const init = { method, headers, body, signal: AbortSignal.timeout(30_000) };
  // Service APIs are IAM-authorized: a direct call is signed like a granted caller's (root).
  const res = opts.signed ? await signedFetch(url, { ...init, body: Buffer.isBuffer(opts.body) ? opts.body.toString('utf8') : opts.body }) : await fetch(url, init);
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text: await res.text(), headers: res.headers };
}

export const KNOWN_TYPES = new Set(Object.values(ProblemType).map((t) => PROBLEM_BASE + t));

/** No stack frames, file paths or driver messages in what a client sees. */
const LEAK =
  /\bat .+\(.*:\d+:\d+\)|node_modules|\/work\/|\.ts:\d+|SQLSTATE|syntax error at or near|invalid input syntax|duplicate key value|pg_catalog|relation ".+" does not exist/i;

/**
 * The contract every rejected request must meet: a 4xx (never a 5xx), problem+json, a `type`
 * from the known set, the status repeated in the body, and nothing internal leaked. Returns the type.
 */
export function expectProblem(res: RawResponse, label = ''): string {
  const ctx = `${label} -> ${res.status} ${res.contentType} ${res.text.slice(0, 300)}`;
  if (res.status < 400 || res.status >= 500) throw new Error(`expected a 4xx problem: ${ctx}`);
  if (!res.contentType.startsWith('application/problem+json')) throw new Error(`expected application/problem+json: ${ctx}`);
  const body = JSON.parse(res.text) as { type?: string; status?: number };
  if (!body.type || !KNOWN_TYPES.has(body.type)) throw new Error(`unknown problem type: ${ctx}`);
  if (body.status !== res.status) throw new Error(`body.status differs from the HTTP status: ${ctx}`);
  if (LEAK.test(res.text)) throw new Error(`internal detail leaked: ${ctx}`);
  return body.type;
}

export const problemType = (name: keyof typeof ProblemType) => PROBLEM_BASE + ProblemType[name];

/* ---------- malformed bodies ---------- */

export interface HostileBody {
  kind: string;
  body?: string | Buffer;
  contentType?: string;
}

const JSON_TYPE = 'application/json';
const deep = (depth: number, open: string, close: string) => open.repeat(depth) + close.repeat(depth);

/**
 * Malformed bodies for an endpoint whose schema has `keys`: the keys with values of the
 * wrong type, random JSON, invalid JSON, deep nesting, huge strings, NUL characters,
 * non-UTF-8 bytes, and the wrong (or no) content type.
 */
export function hostileBodies(keys: string[]): fc.Arbitrary<HostileBody> {
  const wrongTypes = fc
    .dictionary(fc.constantFrom(...keys, '__proto__', 'constructor', 'extra'), fc.jsonValue({ maxDepth: 3 }), { maxKeys: keys.length + 2 })
    .map((o) => ({ kind: 'wrong-types', body: JSON.stringify(o), contentType: JSON_TYPE }));
  const anyJson = fc.jsonValue({ maxDepth: 4 }).map((v) => ({ kind: 'any-json', body: JSON.stringify(v), contentType: JSON_TYPE }));
  const invalidJson = fc
    .oneof(fc.string({ maxLength: 200 }), fc.constantFrom('{', '{"a":', "{'a':1}", '[1,]', 'NaN', '{"a":1}}', '\u0000', '{"a":"\\x00"}', 'undefined'))
    .filter((s) => {
      try {
        JSON.parse(s);
        return false;
      } catch {
        return true;
      }
    })
    .map((s) => ({ kind: 'invalid-json', body: s, contentType: JSON_TYPE }));
  const nested = fc
    .tuple(fc.integer({ min: 500, max: 10_000 }), fc.boolean())
    .map(([d, arr]) => ({ kind: 'deep-nesting', body: arr ? deep(d, '[', ']') : `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`, contentType: JSON_TYPE }));
  const huge = fc.tuple(fc.constantFrom(...keys), fc.integer({ min: 4_000, max: 60_000 }), fc.constantFrom('x', 'é', '😀', '\\u0000')).map(([k, n, ch]) => ({
    kind: 'huge-string',
    body: `{${JSON.stringify(k)}:"${ch.repeat(Math.floor(n / Math.max(1, Buffer.byteLength(ch))))}"}`,
    contentType: JSON_TYPE,
  }));
  const tooLarge = fc.constant({ kind: 'too-large', body: JSON.stringify({ [keys[0]]: 'x'.repeat(70 * 1024) }), contentType: JSON_TYPE });
  const nul = fc.tuple(fc.constantFrom(...keys), fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 })).map(([k, a, b]) => ({
    kind: 'nul',
    body: JSON.stringify(Object.fromEntries(keys.map((kk) => [kk, kk === k ? `${a}\u0000${b}` : `${a}${b}`]))),
    contentType: JSON_TYPE,
  }));
  const bytes = fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => ({
    kind: 'non-utf8',
    body: Buffer.concat([Buffer.from('{"'), Buffer.from(b), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('":1}')]),
    contentType: JSON_TYPE,
  }));
  const wrongContentType = fc
    .tuple(
      fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'jsonx', ''),
      fc.jsonValue({ maxDepth: 2 }),
    )
    .map(([ct, v]) => ({ kind: 'wrong-content-type', body: JSON.stringify(v), contentType: ct || undefined }));
  return fc.oneof(
    { arbitrary: wrongTypes, weight: 4 },
    { arbitrary: anyJson, weight: 2 },
    { arbitrary: invalidJson, weight: 2 },
    { arbitrary: nested, weight: 1 },
    { arbitrary: huge, weight: 1 },
    { arbitrary: tooLarge, weight: 1 },
    { arbitrary: nul, weight: 2 },
    { arbitrary: bytes, weight: 1 },
    { arbitrary: wrongContentType, weight: 2 },
  );
}

/** The type a kind of malformed body must always get, where the kind decides it. */
export function expectedTypeFor(kind: string): string | undefined {
  if (kind === 'wrong-content-type') return problemType('unsupportedMediaType');
  if (kind === 'too-large') return problemType('payloadTooLarge');
  if (kind === 'invalid-json' || kind === 'deep-nesting' || kind === 'nul') return problemType('validation');
  return undefined;
}

/** True when `schema` accepts the body: such bodies are legitimate requests, not hostile ones. */
export function acceptedBy(schema: { safeParse: (v: unknown) => { success: boolean } }, body: HostileBody): boolean {
  if (typeof body.body !== 'string' || !body.contentType?.includes('json')) return false;
  try {
    return schema.safeParse(JSON.parse(body.body)).success;
  } catch {
    return false;
  }
}

/* ---------- state fingerprints ---------- */

export async function adminDb(): Promise<Client> {
  const c = new Client({ connectionString: endpoints().postgresUrl });
  await c.connect();
  return c;
}

/** Row count of every table of a schema, plus extra SQL probes (sums, hashes). */
export async function fingerprint(db: Client, schemas: string[], probes: Record<string, string> = {}): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const { rows } = await db.query<{ s: string; t: string }>(
    `SELECT table_schema AS s, table_name AS t FROM information_schema.tables
      WHERE table_schema = ANY($1) AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations' ORDER BY 1, 2`,
    [schemas],
  );
  for (const { s, t } of rows) {
    const r = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${db.escapeIdentifier(s)}.${db.escapeIdentifier(t)}`);
    out[`${s}.${t}`] = r.rows[0].n;
  }
  for (const [name, sql] of Object.entries(probes)) {
    const r = await db.query(sql);
    out[name] = JSON.stringify(r.rows);
  }
  return out;
}

/* ---------- accounts (test/support/accounts.ts) ---------- */

export { login, registerAndLogin } from './accounts';

/** fast-check settings for the e2e suites: few runs (each is an HTTP round trip), reproducible on failure. */
export const fcRuns = (numRuns: number): fc.Parameters<unknown> => ({
  numRuns: Number(process.env.HOSTILE_RUNS ?? numRuns),
  endOnFailure: true,
  interruptAfterTimeLimit: 40_000,
  markInterruptAsFailure: false,
});
