import CircuitBreaker from 'opossum';
import { config } from '../shared/config';
import { logger } from '../shared/logger';
import { HttpProblem } from '../shared/problem';
import { ServiceClient, type ServiceResponse } from '../shared/service-client';

/**
 * Calls from the BFF to a downstream service: one circuit breaker (opossum) per service,
 * retries with full-jitter exponential backoff for idempotent methods only, the per-call
 * timeout and correlation id of ServiceClient.
 *
 * Breakers live in the Lambda instance (module scope), not in Redis. Trade-off: no network
 * hop and no shared-state failure mode on the hot path, and each instance reacts to what it
 * sees itself; but N warm instances each need their own `volumeThreshold` failures to open,
 * and a recovered service is probed by every instance once. With the few warm BFF instances
 * this system runs, that is a handful of extra calls to a failing service, which is cheaper
 * than a Redis round trip (and a new failure mode) on every call.
 *
 * Failures counted: network errors, timeouts and 5xx answers. 4xx answers are the caller's
 * business and count as successes. While open, calls fail fast with 503 problem+json
 * (type circuit-open) and Retry-After = the time left until the half-open probe.
 */
export interface BreakerSettings {
  /** Error percentage over the rolling window that opens the breaker. */
  errorThresholdPercentage: number;
  /** Calls in the window before the error rate is judged. */
  volumeThreshold: number;
  /** Open → half-open after this cool-down. */
  resetTimeoutMs: number;
  rollingWindowMs: number;
}
export interface RetrySettings {
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Extra retries for 429 (throttled) answers to retryable calls. */
  throttleRetries?: number;
  /** Time budget of one logical call, retries included (ms). */
  budgetMs?: number;
}

const num = (v: string | undefined, d: number) => (v !== undefined && v !== '' && Number.isFinite(Number(v)) ? Number(v) : d);

export function breakerSettings(env: NodeJS.ProcessEnv = process.env): BreakerSettings {
  return {
    errorThresholdPercentage: num(env.BREAKER_ERROR_PERCENT, 50),
    volumeThreshold: num(env.BREAKER_VOLUME_THRESHOLD, 5),
    resetTimeoutMs: num(env.BREAKER_RESET_MS, 5000),
    rollingWindowMs: num(env.BREAKER_WINDOW_MS, 10_000),
  };
}
export function retrySettings(env: NodeJS.ProcessEnv = process.env): RetrySettings {
  return { retries: num(env.RETRY_MAX, 2), baseDelayMs: num(env.RETRY_BASE_MS, 50), maxDelayMs: num(env.RETRY_MAX_DELAY_MS, 500), throttleRetries: num(env.RETRY_THROTTLED_MAX, 25), budgetMs: num(env.DOWNSTREAM_BUDGET_MS, 20_000) };
}

const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
export const isIdempotentMethod = (method: string) => IDEMPOTENT_METHODS.has(method.toUpperCase());

/** Full jitter: a random delay in [0, min(max, base * 2^attempt)]. */
export const backoffDelay = (attempt: number, s: RetrySettings, random = Math.random) =>
  Math.floor(random() * Math.min(s.maxDelayMs, s.baseDelayMs * 2 ** attempt));

/** A 5xx answer, thrown inside the breaker so it counts as a failure, unwrapped outside. */
class UpstreamStatusError extends Error {
  constructor(readonly response: ServiceResponse) {
    super(`upstream answered ${response.status}`);
  }
}

export interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
  correlationId?: string;
  timeoutMs?: number;
  /** Overrides the method rule (e.g. a POST the downstream makes idempotent by key). */
  retry?: boolean;
}

type Caller = (method: string, path: string, opts: CallOptions) => Promise<ServiceResponse>;

export interface BreakerSnapshot {
  name: string;
  state: 'closed' | 'open' | 'halfOpen';
  settings: BreakerSettings;
  stats: { fires: number; successes: number; failures: number; rejects: number; timeouts: number };
  openedAt?: string;
  retryAfterSeconds?: number;
  /** State changes since this instance started, newest last (at most 20). */
  transitions: { to: string; at: string }[];
}

export class Downstream {
  readonly breaker: CircuitBreaker<[string, string, CallOptions], ServiceResponse>;
  private openedAt?: number;
  private readonly transitions: { to: string; at: string }[] = [];

  constructor(
    readonly name: string,
    caller: Caller,
    readonly settings: BreakerSettings = breakerSettings(),
    readonly retry: RetrySettings = retrySettings(),
    private readonly sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
  ) {
    this.breaker = new CircuitBreaker(
      async (method: string, path: string, opts: CallOptions) => {
        const res = await caller(method, path, opts);
        if (res.status >= 500) throw new UpstreamStatusError(res);
        return res;
      },
      {
        name,
        timeout: false, // ServiceClient enforces the per-call timeout
        errorThresholdPercentage: settings.errorThresholdPercentage,
        volumeThreshold: settings.volumeThreshold,
        resetTimeout: settings.resetTimeoutMs,
        rollingCountTimeout: settings.rollingWindowMs,
        rollingCountBuckets: 10,
      },
    );
    const note = (to: string) => () => {
      this.transitions.push({ to, at: new Date().toISOString() });
      if (this.transitions.length > 20) this.transitions.shift();
      logger.info('circuit breaker state', { breaker: name, state: to });
    };
    this.breaker.on('open', () => {
      this.openedAt = Date.now();
      note('open')();
    });
    this.breaker.on('halfOpen', note('halfOpen'));
    this.breaker.on('close', note('closed'));
  }

  get state(): BreakerSnapshot['state'] {
    return this.breaker.opened ? 'open' : this.breaker.halfOpen ? 'halfOpen' : 'closed';
  }

  retryAfterSeconds(): number {
    const left = (this.openedAt ?? Date.now()) + this.settings.resetTimeoutMs - Date.now();
    return Math.max(1, Math.ceil(left / 1000));
  }

  /**
   * One logical call: the response for any status below 500; for 5xx, the last 5xx
   * response after the retries; 503 circuit-open while open; 502/504 when unreachable.
   */
  async call(method: string, path: string, opts: CallOptions = {}): Promise<ServiceResponse> {
    const retryable = opts.retry ?? isIdempotentMethod(method);
    const retries = retryable ? this.retry.retries : 0;
    let throttled = 0;
    // Never retry past the budget: answering 503 beats the Lambda timing out.
    const deadline = Date.now() + (this.retry.budgetMs ?? 20_000);
    const canWait = (ms: number) => Date.now() + ms < deadline;
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await this.breaker.fire(method, path, opts);
        // Throttled by the platform (reserved concurrency): not a failure, retry after a pause.
        const pause = backoffDelay(Math.min(throttled, 5), { ...this.retry, maxDelayMs: Math.max(this.retry.maxDelayMs, 1000) });
        if (res.status === 429 && retryable && throttled < (this.retry.throttleRetries ?? 0) && canWait(pause)) {
          throttled++;
          await this.sleep(pause);
          attempt--;
          continue;
        }
        return res;
      } catch (err) {
        const e = err as Error & { code?: string };
        if (e.code === 'EOPENBREAKER') {
          const retryAfter = this.retryAfterSeconds();
          throw new HttpProblem(503, 'circuitOpen', `The ${this.name} service is failing; calls are suspended for ${retryAfter} s`, {
            headers: { 'retry-after': String(retryAfter) },
            extensions: { service: this.name, breaker: this.state },
          });
        }
        const pause = backoffDelay(attempt, this.retry);
        if (attempt < retries && canWait(pause)) {
          await this.sleep(pause);
          continue;
        }
        if (e instanceof UpstreamStatusError) return e.response;
        const timedOut = e.name === 'TimeoutError';
        throw new HttpProblem(timedOut ? 504 : 502, timedOut ? 'upstreamTimeout' : 'upstreamUnavailable', `${this.name}: ${e.message}`);
      }
    }
  }

  snapshot(): BreakerSnapshot {
    const s = this.breaker.stats;
    const state = this.state;
    return {
      name: this.name,
      state,
      settings: this.settings,
      stats: { fires: s.fires, successes: s.successes, failures: s.failures, rejects: s.rejects, timeouts: s.timeouts },
      ...(this.openedAt ? { openedAt: new Date(this.openedAt).toISOString() } : {}),
      ...(state === 'open' ? { retryAfterSeconds: this.retryAfterSeconds() } : {}),
      transitions: [...this.transitions],
    };
  }

  shutdown(): void {
    this.breaker.shutdown();
  }
}

const registry = new Map<string, Downstream>();

/** The instance's breaker-wrapped client for a service named in SERVICE_APIS. */
export function downstream(service: string): Downstream {
  let d = registry.get(service);
  if (!d) {
    let client: ServiceClient | undefined;
    const caller: Caller = (method, path, opts) => (client ??= ServiceClient.fromConfig(service, config())).call(method, path, opts);
    d = new Downstream(service, caller);
    registry.set(service, d);
  }
  return d;
}

/** Registers a downstream under a custom name (drills, tests). */
export function registerDownstream(d: Downstream): Downstream {
  registry.get(d.name)?.shutdown();
  registry.set(d.name, d);
  return d;
}

export const downstreamRegistry = (): ReadonlyMap<string, Downstream> => registry;

export function breakerReport(): BreakerSnapshot[] {
  return [...registry.values()].map((d) => d.snapshot());
}
