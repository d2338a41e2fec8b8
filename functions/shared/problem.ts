import type { DomainError } from './domain-error';

/**
 * RFC 9457 problem details. Every error a client sees is one of these, with a
 * stable `type` URI that clients (and the saga) can branch on.
 */
export const PROBLEM_BASE = 'https://checkout-mesh.dev/problems/';

export const ProblemType = {
  validation: 'validation-error',
  notFound: 'not-found',
  methodNotAllowed: 'method-not-allowed',
  unsupportedMediaType: 'unsupported-media-type',
  payloadTooLarge: 'payload-too-large',
  unauthorized: 'unauthorized',
  forbidden: 'forbidden',
  conflict: 'conflict',
  preconditionFailed: 'precondition-failed',
  preconditionRequired: 'precondition-required',
  idempotencyKeyMissing: 'idempotency-key-missing',
  idempotencyKeyMismatch: 'idempotency-key-mismatch',
  idempotencyInFlight: 'idempotency-key-in-flight',
  rateLimited: 'rate-limited',
  circuitOpen: 'circuit-open',
  upstreamUnavailable: 'upstream-unavailable',
  upstreamTimeout: 'upstream-timeout',
  /** A downstream is throttled or this BFF instance's queue for it is full: shed, retry shortly. */
  upstreamBusy: 'upstream-busy',
  /** The platform refused the request before any code ran (stage throttle, Lambda at its concurrency). */
  overloaded: 'service-overloaded',
  /** API Gateway refused the request itself (unknown method on a resource, body over its limit). */
  gatewayRefused: 'gateway-refused',
  insufficientStock: 'insufficient-stock',
  notImplemented: 'not-implemented',
  dependencyDown: 'dependency-down',
  chaosInjected: 'chaos-injected',
  internal: 'internal-error',
} as const;
export type ProblemTypeName = keyof typeof ProblemType;

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  traceId?: string;
  [extension: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** An error that maps to one problem+json response. Throw it from handlers and core code. */
export class HttpProblem extends Error {
  readonly status: number;
  readonly type: string;
  readonly typeName: ProblemTypeName;
  readonly title: string;
  readonly headers: Record<string, string>;
  readonly extensions: Record<string, unknown>;

  constructor(
    status: number,
    type: ProblemTypeName,
    detail?: string,
    opts: { headers?: Record<string, string>; extensions?: Record<string, unknown>; title?: string } = {},
  ) {
    super(detail ?? TITLES[status] ?? 'Error');
    this.name = 'HttpProblem';
    this.status = status;
    this.typeName = type;
    this.type = PROBLEM_BASE + ProblemType[type];
    this.title = opts.title ?? TITLES[status] ?? 'Error';
    this.headers = opts.headers ?? {};
    this.extensions = opts.extensions ?? {};
  }

  /** The same problem with more headers and extensions (e.g. what the drill adds to a breaker's refusal). */
  with(more: { headers?: Record<string, string>; extensions?: Record<string, unknown> }): HttpProblem {
    return new HttpProblem(this.status, this.typeName, this.message, {
      title: this.title,
      headers: { ...this.headers, ...more.headers },
      extensions: { ...this.extensions, ...more.extensions },
    });
  }

  toBody(instance?: string, traceId?: string): ProblemBody {
    return {
      type: this.type,
      title: this.title,
      status: this.status,
      detail: this.message,
      ...(instance ? { instance } : {}),
      ...(traceId ? { traceId } : {}),
      ...this.extensions,
    };
  }
}

/** How one domain error code answers over HTTP (the status and `type` are the wire contract). */
export interface ProblemSpec {
  status: number;
  type: ProblemTypeName;
  title?: string;
}

/** A domain error as the problem its code maps to; its facts become extensions. */
export function problemFor<Code extends string>(err: DomainError<Code>, specs: Record<Code, ProblemSpec>, headers: Record<string, string> = {}): HttpProblem {
  const spec = specs[err.code];
  return new HttpProblem(spec.status, spec.type, err.message, { title: spec.title, headers, extensions: err.facts });
}

export const isProblemBody = (value: unknown): value is ProblemBody =>
  typeof value === 'object' && value !== null && typeof (value as ProblemBody).type === 'string' && typeof (value as ProblemBody).status === 'number';

/** A problem body parsed from a downstream's answer, or undefined for anything else (HTML, `{"message":...}`). */
export function parseProblem(text: string): ProblemBody | undefined {
  if (text?.[0] !== '{') return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return isProblemBody(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
