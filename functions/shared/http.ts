import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { HttpProblem } from './problem';
import { logger } from './logger';

/**
 * HTTP plumbing shared by every API Lambda: one request shape for REST (v1) and
 * HTTP API (v2) events, a router that knows 404 from 405, JSON body validation,
 * and errors rendered as problem+json. Handlers stay plain async functions.
 */
export interface HttpRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  query: Record<string, string>;
  params: Record<string, string>;
  rawBody: Buffer;
  sourceIp: string;
  correlationId: string;
}

export interface HttpResult {
  status: number;
  headers?: Record<string, string>;
  /** Objects are sent as JSON; strings and Buffers as they are. */
  body?: unknown;
}

export type RouteHandler = (req: HttpRequest) => Promise<HttpResult> | HttpResult;
export interface Route {
  method: string;
  path: string;
  handler: RouteHandler;
}

type ApiEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2;
export interface ApiResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: boolean;
}

export const CORRELATION_HEADER = 'x-correlation-id';
const DEFAULT_MAX_BODY = 64 * 1024;

export const route = (method: string, path: string, handler: RouteHandler): Route => ({ method, path, handler });

export const json = (status: number, body: unknown, headers: Record<string, string> = {}): HttpResult => ({
  status,
  body,
  headers,
});

/** Parses a JSON body against a schema: 415 for another media type, 400 for bad JSON or a schema mismatch. */
export function parseJsonBody<S extends z.ZodType>(req: HttpRequest, schema: S): z.infer<S> {
  const contentType = req.headers['content-type'] ?? '';
  if (!/^application\/([a-z.+-]*\+)?json\b/i.test(contentType)) {
    throw new HttpProblem(415, 'unsupportedMediaType', 'Send the body as application/json', {
      headers: { 'accept-post': 'application/json' },
    });
  }
  let data: unknown;
  let nul = false;
  try {
    // Postgres text cannot hold U+0000 (the driver's error would be a 500): refuse it here.
    data = JSON.parse(req.rawBody.toString('utf8'), (key, value: unknown) => {
      if (key.includes('\0') || (typeof value === 'string' && value.includes('\0'))) nul = true;
      return value;
    });
  } catch {
    throw new HttpProblem(400, 'validation', 'The body is not valid JSON');
  }
  if (nul) throw new HttpProblem(400, 'validation', 'Strings in the body may not contain NUL (\\u0000) characters');
  return validate(schema, data, 'body');
}

/** Validates any external value; failures become 400 problem+json listing each issue. */
export function validate<S extends z.ZodType>(schema: S, data: unknown, where: string): z.infer<S> {
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const errors = parsed.error.issues.map((i) => ({ path: [where, ...i.path.map(String)].join('.'), message: i.message }));
    throw new HttpProblem(400, 'validation', `Invalid ${where}: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, {
      extensions: { errors },
    });
  }
  return parsed.data;
}

function normalize(event: ApiEvent): HttpRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) if (v !== undefined) headers[k.toLowerCase()] = v;
  const raw = event.body ?? '';
  const rawBody = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  const query: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.queryStringParameters ?? {})) if (v !== undefined) query[k] = v;

  let method: string;
  let path: string;
  let sourceIp: string;
  if ('version' in event && event.version === '2.0') {
    const v2 = event as APIGatewayProxyEventV2;
    method = v2.requestContext.http.method;
    path = v2.rawPath ?? v2.requestContext.http.path;
    sourceIp = v2.requestContext.http.sourceIp;
    // HTTP APIs on a named stage include it in the path; $default stages do not.
    const stage = v2.requestContext.stage;
    if (stage && stage !== '$default' && path.startsWith(`/${stage}/`)) path = path.slice(stage.length + 1);
  } else {
    const v1 = event as APIGatewayProxyEvent;
    method = v1.httpMethod;
    path = v1.path;
    sourceIp = v1.requestContext?.identity?.sourceIp ?? '';
  }
  const correlationId = headers[CORRELATION_HEADER] || randomUUID();
  return { method: method.toUpperCase(), path: path || '/', headers, query, params: {}, rawBody, sourceIp, correlationId };
}

function compile(routes: Route[]) {
  return routes.map((r) => {
    const names: string[] = [];
    const pattern = r.path
      .replace(/\/+$/, '')
      .replace(/\{([a-zA-Z0-9_]+)\+\}/g, (_, n: string) => (names.push(n), '(.+)'))
      .replace(/\{([a-zA-Z0-9_]+)\}/g, (_, n: string) => (names.push(n), '([^/]+)'));
    return { ...r, method: r.method.toUpperCase(), regex: new RegExp(`^${pattern}/?$`), names };
  });
}

export function render(result: HttpResult, correlationId: string): ApiResponse {
  const headers: Record<string, string> = { [CORRELATION_HEADER]: correlationId, ...(result.headers ?? {}) };
  let body = '';
  let isBase64Encoded = false;
  if (Buffer.isBuffer(result.body)) {
    body = result.body.toString('base64');
    isBase64Encoded = true;
  } else if (typeof result.body === 'string') {
    body = result.body;
  } else if (result.body !== undefined) {
    body = JSON.stringify(result.body);
    headers['content-type'] ??= 'application/json';
  }
  return { statusCode: result.status, headers, body, isBase64Encoded };
}

export function problemResponse(err: HttpProblem, req: Pick<HttpRequest, 'path' | 'correlationId'>): ApiResponse {
  return render(
    {
      status: err.status,
      headers: { 'content-type': 'application/problem+json', ...err.headers },
      body: err.toBody(req.path, req.correlationId),
    },
    req.correlationId,
  );
}

export type HttpMiddleware = MiddlewareObj<ApiEvent, ApiResponse, Error, Context & { request?: HttpRequest }>;

export interface HttpApiOptions {
  maxBodyBytes?: number;
  /** middy middlewares run before routing (chaos, rate limits...). They see `context.request`. */
  middlewares?: HttpMiddleware[];
  /** Called once per invocation before routing (e.g. Vault lease freshness). */
  beforeEach?: () => Promise<void>;
  /** Maps the domain core's own errors to problems; undefined for anything else (a 500). */
  toProblem?: (err: unknown) => HttpProblem | undefined;
}

function logAccess(req: HttpRequest | undefined, status: number | undefined, started: number | undefined): void {
  logger.info('request', {
    method: req?.method,
    path: req?.path,
    status,
    durationMs: started === undefined ? undefined : Math.round((performance.now() - started) * 10) / 10,
    correlationId: req?.correlationId,
  });
}

/** Builds a Lambda handler for an API Gateway REST or HTTP API. */
export function httpApi(routes: Route[], opts: HttpApiOptions = {}) {
  const compiled = compile(routes);
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY;

  const core = async (event: ApiEvent, context: Context & { request?: HttpRequest }): Promise<ApiResponse> => {
    const req = context.request ?? normalize(event);
    if (req.rawBody.length > maxBody) {
      throw new HttpProblem(413, 'payloadTooLarge', `Bodies are limited to ${maxBody} bytes`);
    }
    const samePath = compiled.filter((r) => r.regex.test(req.path));
    if (samePath.length === 0) throw new HttpProblem(404, 'notFound', `No route for ${req.path}`);
    const match = samePath.find((r) => r.method === req.method || (req.method === 'HEAD' && r.method === 'GET'));
    if (!match) {
      const allow = [...new Set(samePath.map((r) => r.method))].join(', ');
      throw new HttpProblem(405, 'methodNotAllowed', `${req.method} is not allowed on ${req.path}`, { headers: { allow } });
    }
    const values = match.regex.exec(req.path)!.slice(1);
    try {
      req.params = Object.fromEntries(match.names.map((n, i) => [n, decodeURIComponent(values[i])]));
    } catch {
      throw new HttpProblem(400, 'validation', 'The path has a malformed percent-encoding');
    }
    // Path and query values reach SQL parameters; Postgres text cannot hold U+0000.
    if ([...Object.values(req.params), ...Object.entries(req.query).flat()].some((v) => v.includes('\0'))) {
      throw new HttpProblem(400, 'validation', 'The path or query may not contain NUL (%00) characters');
    }
    if (opts.beforeEach) await opts.beforeEach();
    const result = await match.handler(req);
    return render(result, req.correlationId);
  };

  const requestContext: HttpMiddleware = {
    before: (request) => {
      request.context.request = normalize(request.event);
    },
  };

  const problems: HttpMiddleware = {
    onError: (request) => {
      const err = request.error instanceof HttpProblem ? request.error : (opts.toProblem?.(request.error) ?? request.error);
      const req = request.context.request ?? { path: '/', correlationId: randomUUID() };
      if (err instanceof HttpProblem) {
        if (err.status >= 500) logger.warn('request failed', { status: err.status, detail: err.message, correlationId: req.correlationId });
        request.response = problemResponse(err, req);
        return;
      }
      // Unknown errors: log with stack server-side, answer a generic problem without internals.
      logger.error('unhandled error', { error: err as Error, correlationId: req.correlationId });
      request.response = problemResponse(new HttpProblem(500, 'internal', 'The request could not be completed; quote the traceId when reporting it'), req);
    },
  };

  // One access line per request (method, path, status, duration). It is the request log
  // operators expect; on the emulator it also spares every invocation the worker's 50 ms wait
  // for output from a handler that printed nothing (see docs/bench.md).
  const startedAt = new WeakMap<object, number>();
  const accessLog: HttpMiddleware = {
    before: (request) => {
      startedAt.set(request.context, performance.now());
    },
    after: (request) => logAccess(request.context.request, request.response?.statusCode, startedAt.get(request.context)),
    onError: (request) => logAccess(request.context.request, request.response?.statusCode ?? 500, startedAt.get(request.context)),
  };

  return middy(core)
    .use(accessLog)
    .use(requestContext)
    .use(opts.middlewares ?? [])
    .use(problems);
}
