import { createHash, randomUUID } from 'node:crypto';
import type { HttpRequest, HttpResult, RouteHandler } from '../../shared/http';
import { bffLimits } from '../../shared/config';
import { config } from '../../shared/config';
import { logger } from '../../shared/logger';
import { HttpProblem } from '../../shared/problem';
import { downstream } from '../downstream';
import { type ClientResolver, resolveClient } from './client';

/**
 * The public Idempotency-Key contract (IETF httpapi idempotency-key draft), enforced at the
 * door for routes that opt in with `idempotent(handler)`; claims keeps the records.
 *
 *  missing key → 400; malformed (not a UUID or 16–255 visible ASCII chars) → 400
 *  claim (principal, key, sha256(method + path + canonical JSON body)) at the claims service:
 *    acquired  → run the handler, store status + headers + body (4xx included), or release
 *                the claim on 5xx / a crash so the client may retry
 *    replay    → the stored response byte for byte, plus `Idempotent-Replayed: true`
 *    mismatch  → 422;  in_flight → 409 with Retry-After
 */
export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const KEY_RE = /^[\x21-\x7e]{16,255}$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Headers never stored with a response (per hop, or describing this attempt only). */
const NOT_STORED = new Set(['x-correlation-id', 'ratelimit', 'ratelimit-policy', 'retry-after', 'connection', 'transfer-encoding', 'idempotent-replayed']);
const BODY_ENCODING = 'x-stored-body-encoding';

/** Parses the header: a bare token or a structured-field string ("..."); undefined if malformed. */
export function parseIdempotencyKey(raw: string): string | undefined {
  let key = raw.trim();
  if (key.length >= 2 && key.startsWith('"') && key.endsWith('"')) key = key.slice(1, -1);
  return UUID_RE.test(key) || KEY_RE.test(key) ? key : undefined;
}

/** JSON with object keys sorted at every level, so key order does not change the fingerprint. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function requestFingerprint(req: Pick<HttpRequest, 'method' | 'path' | 'rawBody'>): string {
  let body = '';
  if (req.rawBody.length > 0) {
    try {
      body = canonicalJson(JSON.parse(req.rawBody.toString('utf8')));
    } catch {
      body = `raw:${req.rawBody.toString('base64')}`;
    }
  }
  return createHash('sha256').update(`${req.method.toUpperCase()}\n${req.path}\n${body}`).digest('hex');
}

export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}
export type ClaimAnswer =
  | { outcome: 'acquired'; claimId: string; leaseToken?: string }
  | { outcome: 'replay'; claimId: string; response: StoredResponse }
  | { outcome: 'mismatch'; claimId: string }
  | { outcome: 'in_flight'; claimId: string; retryAfter: number };

/** How the wrapper reaches claims (the claims service through its breaker, or a test double). */
export interface ClaimsPort {
  claim(input: { principal: string; key: string; fingerprint: string; leaseSeconds?: number; owner?: string }, correlationId: string): Promise<ClaimAnswer>;
  complete(claimId: string, outcome: StoredResponse & { leaseToken?: string }, correlationId: string, budgetMs?: number): Promise<void>;
}

/** Claims calls may meet a cold start (Vault lease + pool) under a burst: allow more than the default. */
const claimsTimeoutMs = () => config().CLAIMS_TIMEOUT_MS;
/**
 * Each claims call, throttle retries included (claims runs at reserved concurrency 4, so a burst
 * on one key is mostly 429s): BFF_CLAIMS_BUDGET_MS, 7 s by default; claim + checkout + outcome
 * = 7 + 12 + 7 = 26 s, inside API Gateway's 29 s.
 */
const claimsBudget = () => bffLimits().BFF_CLAIMS_BUDGET_MS;
/** From the request's start: the outcome is recorded before this, inside API Gateway's 29 s. */
const OUTCOME_DEADLINE_MS = 27_000;

export const claimsService: ClaimsPort = {
  async claim(input, correlationId) {
    // Retried on timeouts and throttling: `owner` makes a re-ask return our own claim.
    const res = await downstream('claims').call('POST', '/claims', { body: input, correlationId, retry: true, timeoutMs: claimsTimeoutMs(), budgetMs: claimsBudget() });
    if (res.status !== 200 && res.status !== 201) {
      throw new HttpProblem(503, 'dependencyDown', `claims answered ${res.status}; the request was not run`, { headers: { 'retry-after': '1' } });
    }
    return JSON.parse(res.body) as ClaimAnswer;
  },
  async complete(claimId, outcome, correlationId, budgetMs = claimsBudget()) {
    const res = await downstream('claims').call('PUT', `/claims/${encodeURIComponent(claimId)}/outcome`, {
      body: outcome,
      correlationId,
      timeoutMs: claimsTimeoutMs(),
      budgetMs,
      // The effect has happened: a busy claims service is waited for, not shed, or the key
      // would stay in flight until its lease ends.
      shedAfterMs: budgetMs,
    });
    if (res.status !== 200) throw new Error(`claims answered ${res.status} to the outcome`);
  },
};

/** Turns a handler result into the exact bytes sent (and stored). */
function materialize(result: HttpResult): StoredResponse {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(result.headers ?? {})) headers[k.toLowerCase()] = v;
  let body = '';
  if (Buffer.isBuffer(result.body)) {
    body = result.body.toString('base64');
    headers[BODY_ENCODING] = 'base64';
  } else if (typeof result.body === 'string') {
    body = result.body;
  } else if (result.body !== undefined) {
    body = JSON.stringify(result.body);
    headers['content-type'] ??= 'application/json';
  }
  return { status: result.status, headers, body };
}

function toResult(stored: StoredResponse, extra: Record<string, string> = {}): HttpResult {
  const headers = { ...stored.headers, ...extra };
  const base64 = headers[BODY_ENCODING] === 'base64';
  delete headers[BODY_ENCODING];
  return { status: stored.status, headers, body: base64 ? Buffer.from(stored.body, 'base64') : stored.body };
}

const storable = (s: StoredResponse): StoredResponse => ({
  ...s,
  headers: Object.fromEntries(Object.entries(s.headers).filter(([k]) => !NOT_STORED.has(k))),
});

export interface IdempotentOptions {
  claims?: ClaimsPort;
  resolveClient?: ClientResolver;
  leaseSeconds?: number;
}

export function idempotent(handler: RouteHandler, opts: IdempotentOptions = {}): RouteHandler {
  const claims = opts.claims ?? claimsService;
  const clientOf = opts.resolveClient ?? resolveClient;
  return async (req) => {
    const started = Date.now();
    const raw = req.headers[IDEMPOTENCY_HEADER];
    if (raw === undefined || raw.trim() === '') {
      throw new HttpProblem(400, 'idempotencyKeyMissing', 'This request changes state: send an Idempotency-Key header (a UUID)');
    }
    const key = parseIdempotencyKey(raw);
    if (!key) throw new HttpProblem(400, 'validation', 'Idempotency-Key must be a UUID or 16–255 visible ASCII characters');
    const principal = await clientOf(req);
    const fingerprint = requestFingerprint(req);
    const owner = randomUUID();
    const claim = await claims.claim({ principal, key, fingerprint, owner, ...(opts.leaseSeconds ? { leaseSeconds: opts.leaseSeconds } : {}) }, req.correlationId);

    switch (claim.outcome) {
      case 'replay':
        return toResult(claim.response, { 'idempotent-replayed': 'true' });
      case 'mismatch':
        throw new HttpProblem(422, 'idempotencyKeyMismatch', 'This Idempotency-Key was used with a different request (method, path or body)');
      case 'in_flight':
        throw new HttpProblem(409, 'idempotencyInFlight', 'A request with this Idempotency-Key is still being processed', {
          headers: { 'retry-after': String(claim.retryAfter) },
        });
      case 'acquired':
        break;
      default:
        throw new Error(`unknown claim outcome ${(claim as { outcome: string }).outcome}`);
    }

    const finish = async (outcome: StoredResponse) => {
      try {
        // An unrecorded outcome leaves the key in flight until its lease ends, and then a retry runs
        // the effect again: recording it may use whatever time the request has left before API
        // Gateway's 29 s (never less than the usual claims budget), since the effect already happened.
        const budgetMs = Math.max(claimsBudget(), started + OUTCOME_DEADLINE_MS - Date.now());
        await claims.complete(claim.claimId, { ...outcome, ...(claim.leaseToken ? { leaseToken: claim.leaseToken } : {}) }, req.correlationId, budgetMs);
      } catch (err) {
        // The claim stays in flight until its lease ends; then a retry takes it over.
        logger.error('could not record the idempotent outcome', { claimId: claim.claimId, error: (err as Error).message, correlationId: req.correlationId });
      }
    };

    let sent: StoredResponse;
    try {
      sent = materialize(await handler(req));
    } catch (err) {
      if (err instanceof HttpProblem && err.status < 500) {
        // A 4xx is a final answer to this request: store it like any other.
        sent = materialize({
          status: err.status,
          headers: { 'content-type': 'application/problem+json', ...err.headers },
          body: JSON.stringify(err.toBody(req.path, req.correlationId)),
        });
        const stored = storable(sent);
        await finish(stored);
        return toResult(stored, pickHeaders(sent.headers, ['retry-after']));
      }
      // 5xx or a crash: release the claim (stored as failed → the next try runs again).
      await finish({ status: err instanceof HttpProblem ? err.status : 500, headers: {}, body: '' });
      throw err;
    }
    const stored = storable(sent);
    await finish(stored);
    // The first answer is the same bytes the replays will be, plus per-attempt headers.
    return toResult(stored, pickHeaders(sent.headers, [...NOT_STORED]));
  };
}

function pickHeaders(h: Record<string, string>, names: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(h).filter(([k]) => names.includes(k)));
}
