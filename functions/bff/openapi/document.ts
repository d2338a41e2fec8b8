import * as z from 'zod';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject, type ZodOpenApiResponseObject, type ZodOpenApiResponsesObject } from 'zod-openapi';
import type { Access } from '../access';
import { KEY_RE } from '../middleware/idempotency';
import { DEFAULT_LIMITS, routeClass } from '../middleware/rate-limit';
import { type Answer, type OperationDoc, OPERATIONS, OUTSIDE_BFF } from './operations';
import { Problem } from './responses';

/**
 * The OpenAPI 3.1 description of the public API, built from the route table (every
 * `publicRoute(method, path, access, ...)`: which operations exist and who may call them) and
 * from ./operations.ts (the zod schemas each route validates and answers with). zod-openapi
 * turns the schemas into JSON Schema 2020-12 (OpenAPI 3.1's dialect); the contracts every
 * route shares (problem+json errors, RateLimit headers, Idempotency-Key, If-Match/ETag, the
 * bearer token) are added here once, from the code that enforces them where it can be read.
 */
export interface DescribedRoute {
  method: string;
  path: string;
  access: Access;
}

/** The route table's greedy `{name+}` is OpenAPI's `{name}`. */
export const openApiPath = (path: string): string => path.replace(/\{([A-Za-z0-9_]+)\+\}/g, '{$1}');

const BEARER = 'bearerAuth';

/* ---------- headers and parameters every route shares ---------- */

const HEADERS = {
  'X-Correlation-Id': z.string().meta({ description: "The request's correlation id (yours if you sent one); problems carry it as traceId" }),
  RateLimit: z.string().meta({
    description: 'IETF RateLimit fields (draft 08+): "<class>";r=<tokens left>;t=<seconds until the bucket is full>. Omitted when the limiter store is down (fail open).',
    examples: ['"read";r=599;t=1'],
  }),
  'RateLimit-Policy': z
    .string()
    .meta({ description: 'The bucket of this route class: "<class>";q=<capacity>;w=<seconds to refill from empty>', examples: ['"read";q=600;w=6'] }),
  'Retry-After': z.string().meta({ description: 'Seconds to wait before retrying', examples: ['1'] }),
  ETag: z.string().meta({ description: 'The product version; send it back in If-Match to change the product, in If-None-Match to revalidate' }),
  Location: z.string().meta({ description: 'Where the created resource can be read' }),
  'X-Cache': z.enum(['hit', 'miss', 'bypass']).meta({
    description: 'How catalog served this read: hit (Redis), miss (loaded from Postgres, then cached) or bypass (Redis unavailable)',
  }),
  'X-Sql-Queries': z.string().meta({ description: 'The SQL statements catalog ran for this read (0 on a cache hit)', examples: ['0'] }),
  'X-Served-By': z.optional(z.literal('bff')).meta({
    description: "Present when the BFF answered a cache hit itself, from catalog's Redis entry, without calling catalog (send Cache-Control: no-cache to ask catalog)",
  }),
  'Idempotent-Replayed': z.literal('true').meta({ description: 'Present on a replay: the stored answer of the first request with this Idempotency-Key' }),
} as const;
type HeaderName = keyof typeof HEADERS;
const ref = (name: HeaderName) => ({ $ref: `#/components/headers/${name}` });
const COMMON_HEADERS: HeaderName[] = ['X-Correlation-Id', 'RateLimit', 'RateLimit-Policy'];
const headersOf = (extra: string[] = []) => Object.fromEntries([...COMMON_HEADERS, ...(extra as HeaderName[])].map((h) => [h, ref(h)]));

const IdempotencyKey = z
  .string()
  .regex(KEY_RE)
  .meta({
    description:
      'One key per intended effect (a UUID, or 16–255 visible ASCII characters; a structured-field string "..." is accepted). ' +
      'A replay with the same body answers the stored response with Idempotent-Replayed: true; the same key with another body is 422; ' +
      'while the first request runs, 409 with Retry-After.',
    param: { id: 'IdempotencyKey' },
    examples: ['5f0c6c1e-8d1b-4a7e-9a53-2f1f0d7c9b11'],
  });
const IfMatch = z.string().meta({
  description: 'The ETag of your last read of the product (If-Match: * is refused). Missing: 428; stale: 412.',
  param: { id: 'IfMatch' },
});
const IfNoneMatch = z.string().meta({ description: 'An ETag you hold: 304 when it is still current', param: { id: 'IfNoneMatch' } });

/* ---------- the common answers ---------- */

const problemAnswer = (description: string, headers: HeaderName[] = []): ZodOpenApiResponseObject => ({
  description,
  headers: headersOf(headers),
  content: { 'application/problem+json': { schema: Problem } },
});
const COMMON = {
  Validation: problemAnswer('Invalid JSON, fields, path or query (`errors` lists each problem)'),
  Unauthorized: problemAnswer('No valid access token (missing, expired, bad signature, revoked)'),
  Forbidden: problemAnswer('The token is valid but lacks the admin role'),
  PayloadTooLarge: problemAnswer('The body is over 64 KiB'),
  UnsupportedMediaType: problemAnswer('The body is not application/json'),
  IdempotencyInFlight: problemAnswer('A request with this Idempotency-Key is still running', ['Retry-After']),
  IdempotencyMismatch: problemAnswer('This Idempotency-Key was used with another request'),
  RateLimited: problemAnswer("Over the route class's rate limit (token bucket per client)", ['Retry-After']),
  Internal: problemAnswer('Unexpected error; quote the traceId'),
  Unavailable: problemAnswer('A downstream service is unavailable, busy, too slow or behind an open breaker; retry after Retry-After', ['Retry-After']),
} satisfies Record<string, ZodOpenApiResponseObject>;
const use = (name: keyof typeof COMMON) => ({ $ref: `#/components/responses/${name}` });

function answer(a: Answer): ZodOpenApiResponseObject {
  const out: ZodOpenApiResponseObject = { description: a.description, headers: headersOf(a.headers) };
  if (a.body) out.content = { [a.mediaType ?? (a.body === Problem ? 'application/problem+json' : 'application/json')]: { schema: a.body } };
  else if (a.mediaType) out.content = { [a.mediaType]: { schema: z.string() } };
  return out;
}

const ACCESS_TEXT: Record<Access, string> = {
  anyone: 'Access: anyone (no token needed).',
  signedIn: 'Access: signed in (a customer or admin access token).',
  admin: 'Access: the admin role.',
};

function operation(method: string, path: string, access: Access | undefined, doc: OperationDoc): ZodOpenApiOperationObject {
  const isApi = path.startsWith('/api/') || path.startsWith('/.well-known/');
  const cls = access ? routeClass({ method, path }) : undefined;
  const limit = cls ? DEFAULT_LIMITS[cls] : undefined;
  const responses: Record<string, ZodOpenApiResponseObject | { $ref: string }> = {};
  for (const [status, a] of Object.entries(doc.answers)) responses[status] = answer(a);
  const add = (status: string, name: keyof typeof COMMON) => {
    responses[status] ??= use(name);
  };
  if (doc.body || doc.query || doc.path || doc.idempotent) add('400', 'Validation');
  if (access === 'signedIn' || access === 'admin') add('401', 'Unauthorized');
  if (access === 'admin') add('403', 'Forbidden');
  if (doc.idempotent) {
    add('409', 'IdempotencyInFlight');
    add('422', 'IdempotencyMismatch');
  }
  if (doc.body) {
    add('413', 'PayloadTooLarge');
    add('415', 'UnsupportedMediaType');
  }
  if (access) add('429', 'RateLimited');
  add('500', 'Internal');
  if (isApi) add('503', 'Unavailable');

  const header: Record<string, z.ZodType> = {};
  if (doc.idempotent) header['Idempotency-Key'] = IdempotencyKey;
  if (doc.ifMatch) header['If-Match'] = IfMatch;
  if (doc.ifNoneMatch) header['If-None-Match'] = IfNoneMatch.optional();

  const lines = [doc.description, access ? ACCESS_TEXT[access] : undefined];
  if (cls && limit)
    lines.push(`Rate-limit class: "${cls}" (${limit.capacity} requests, refilled at ${limit.refillPerSecond}/s, per client; the defaults, RATE_LIMITS overrides them).`);
  return {
    operationId: operationId(method, path),
    tags: [doc.tag],
    summary: doc.summary,
    description: lines.filter(Boolean).join('\n\n'),
    security: security(access, doc),
    ...(access ? { 'x-access': access } : {}),
    ...(cls ? { 'x-rate-limit-class': cls } : {}),
    requestParams: {
      ...(doc.path ? { path: doc.path } : {}),
      ...(doc.query ? { query: doc.query } : {}),
      ...(Object.keys(header).length ? { header: z.object(header) } : {}),
    },
    ...(doc.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: doc.body, ...(doc.example === undefined ? {} : { example: doc.example }) } } } }
      : {}),
    responses: responses as ZodOpenApiResponsesObject,
  };
}

/** The route's access as OpenAPI security: none, a bearer token, or a bearer token with the admin role. */
function security(access: Access | undefined, doc: OperationDoc): Array<Record<string, string[]>> {
  if (access === 'signedIn') return [{ [BEARER]: [] }];
  if (access === 'admin') return [{ [BEARER]: ['admin'] }];
  // `{}` first: no token is fine; one is read when sent.
  return doc.optionalBearer ? [{}, { [BEARER]: [] }] : [];
}

function operationId(method: string, path: string): string {
  const words = openApiPath(path)
    .replace(/[{}]/g, '')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean);
  return method.toLowerCase() + (words.length ? words.map((w) => w[0].toUpperCase() + w.slice(1)).join('') : 'Root');
}

/**
 * The document for the given routes. A route without a description in ./operations.ts is left
 * out (test/unit/openapi.test.ts fails on it); the webhooks API Gateway sends to payments are
 * added from OUTSIDE_BFF.
 */
export function buildOpenApiDocument(routes: DescribedRoute[], opts: { version?: string } = {}): ReturnType<typeof createDocument> {
  const paths: ZodOpenApiPathsObject = {};
  const entries: Array<[string, string, Access | undefined, OperationDoc]> = [];
  for (const r of routes) {
    const doc = OPERATIONS[`${r.method} ${r.path}`];
    if (doc) entries.push([r.method, r.path, r.access, doc]);
  }
  for (const [key, doc] of Object.entries(OUTSIDE_BFF)) {
    const [method, path] = key.split(' ');
    entries.push([method, path, undefined, doc]);
  }
  for (const [method, path, access, doc] of entries) {
    const item = (paths[openApiPath(path)] ??= {});
    (item as Record<string, ZodOpenApiOperationObject>)[method.toLowerCase()] = operation(method, path, access, doc);
  }
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'Checkout Mesh public API',
      version: opts.version ?? '0.1.0',
      summary: 'The BFF: the one public door of the Checkout Mesh reference shop',
      description:
        'Every route below is served by the BFF Lambda behind API Gateway (the provider webhooks excepted). Errors are ' +
        '`application/problem+json` (RFC 9457) with a stable `type`. Every answer carries `RateLimit` and `RateLimit-Policy`; ' +
        'side-effecting routes marked so need an `Idempotency-Key`; product changes need `If-Match` with the ETag of your last read. ' +
        'Sign in with POST /api/auth/login and send the access token as `Authorization: Bearer <token>`. ' +
        'Generated at build time (npm run build:web) from the route table and the zod schemas the handlers validate with (functions/bff/openapi/).',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    // Relative to this document (<base>/api/openapi.json): the API Gateway stage is part of <base>.
    servers: [{ url: '..', description: 'This deployment' }],
    tags: [
      { name: 'Auth', description: 'Accounts and tokens (identity)' },
      { name: 'Catalog', description: 'Products, ETags and the race demo (catalog)' },
      { name: 'Orders', description: 'Checkout and the saga (orders)' },
      { name: 'Chaos', description: 'Fault rules (chaos)' },
      { name: 'Gateway', description: 'Breakers, Idempotency-Key and rate-limit demos (the BFF itself)' },
      { name: 'Ops', description: 'Outbox and DLQs (payments; admin)' },
      { name: 'Meta', description: 'Health, configuration, this description' },
      { name: 'Pages', description: 'The web pages and their assets' },
      { name: 'Webhooks', description: 'Payment providers calling in' },
    ],
    paths,
    components: {
      securitySchemes: {
        [BEARER]: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'An ES256 access token from POST /api/auth/login (or /refresh), verified against GET /.well-known/jwks.json. ' +
            'Routes that need the admin role list it as the required role.',
        },
      },
      headers: HEADERS,
      responses: COMMON,
    },
  });
}
