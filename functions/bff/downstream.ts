import CircuitBreaker from 'opossum';
import { bffLimits, config } from '../shared/config';
import { logger } from '../shared/logger';
import { HttpProblem, parseProblem } from '../shared/problem';
import { backoffDelay, retryOnThrottle, sleep as realSleep } from '../shared/retry';
import { ServiceClient, type ServiceResponse } from '../shared/service-client';
import { ConcurrencyLimiter, LimiterFullError, LimiterTimeoutError, type LimiterSettings, type LimiterStats } from './limiter';

export { backoffDelay };

/**
 * Calls from the BFF to a downstream service: one circuit breaker (opossum) per service, a
 * concurrency limit with a short queue (limiter.ts), retries with full-jitter exponential
 * backoff for idempotent methods, throttled (platform 429) answers retried for every method
 * (they never ran), all within one deadline per logical call.
 *
 * Breakers live in the Lambda instance (module scope), not in Redis. Trade-off: no network
 * hop and no shared-state failure mode on the hot path, and each instance reacts to what it
 * sees itself; but N warm instances each need their own `volumeThreshold` failures to open,
 * and a recovered service is probed by every instance once. With the few warm BFF instances
 * this system runs, that is a handful of extra calls to a failing service, which is cheaper
 * than a Redis round trip (and a new failure mode) on every call. For operators, each instance
 * publishes snapshots of its breakers to Redis in the background (breaker-board.ts, on
 * onBreakerChange); no breaker ever reads them back.
 *
 * Failures counted: network errors, timeouts and 5xx answers. 4xx answers (412 and 429
 * included) are the caller's business and count as successes. Every refusal is a 503
 * problem+json with Retry-After, never a wait for API Gateway's 504:
 *   circuit-open          the breaker is open (Retry-After = seconds until the probe)
 *   upstream-busy         the queue is full, or no slot came free before the deadline
 *   upstream-timeout      the last attempt timed out (its timeout is what was left of the budget)
 *   upstream-unavailable  the service could not be reached
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
  /** Most retries of throttled (platform 429) answers, within the budget. */
  throttleRetries?: number;
  /** Budget of a logical call that names none (ms): queue wait, attempts and pauses. */
  budgetMs?: number;
  /** Most time spent waiting on refusals (a full queue, platform throttles) before shedding (ms). */
  shedAfterMs?: number;
}

export function breakerSettings(env: NodeJS.ProcessEnv = process.env): BreakerSettings {
  const l = bffLimits(env);
  return {
    errorThresholdPercentage: l.BREAKER_ERROR_PERCENT,
    volumeThreshold: l.BREAKER_VOLUME_THRESHOLD,
    resetTimeoutMs: l.BREAKER_RESET_MS,
    rollingWindowMs: l.BREAKER_WINDOW_MS,
  };
}
export function retrySettings(env: NodeJS.ProcessEnv = process.env): RetrySettings {
  const l = bffLimits(env);
  return {
    retries: l.RETRY_MAX,
    baseDelayMs: l.RETRY_BASE_MS,
    maxDelayMs: l.RETRY_MAX_DELAY_MS,
    throttleRetries: l.RETRY_THROTTLED_MAX,
    budgetMs: l.DOWNSTREAM_BUDGET_MS,
    shedAfterMs: l.BFF_SHED_AFTER_MS,
  };
}

export function limiterSettings(env: NodeJS.ProcessEnv = process.env): LimiterSettings {
  const l = bffLimits(env);
  return { maxInFlight: l.BFF_MAX_IN_FLIGHT, maxQueue: l.BFF_MAX_QUEUE };
}

const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
export const isIdempotentMethod = (method: string) => IDEMPOTENT_METHODS.has(method.toUpperCase());

/** Seconds a shed client is told to wait: the next try usually finds a free or warm worker. */
export const SHED_RETRY_AFTER_SECONDS = 1;
/** No attempt starts with less than this left of its budget (it could only time out). */
const MIN_ATTEMPT_MS = 100;
const THROTTLE_TYPE = /TooManyRequestsException/i;

/**
 * A throttled answer from the platform (API Gateway or the emulator in front of a function at
 * its reserved concurrency: `{"message":"Rate Exceeded."}`, TooManyRequestsException): the
 * request did not run. A 429 problem+json is the service's own answer (e.g. identity's login
 * throttle, the client's own limit) and is not one of these.
 */
export function isPlatformThrottle(res: Pick<ServiceResponse, 'status' | 'headers' | 'body'>): boolean {
  const platformish =
    res.status === 429 || (res.status >= 500 && (THROTTLE_TYPE.test(res.headers.get('x-amzn-errortype') ?? '') || THROTTLE_TYPE.test(res.body.slice(0, 500))));
  return platformish && parseProblem(res.body) === undefined;
}

/** A 5xx answer, thrown inside the breaker so it counts as a failure, unwrapped outside. */
class UpstreamStatusError extends Error {
  constructor(readonly response: ServiceResponse) {
    super(`upstream answered ${response.status}`);
    this.name = 'UpstreamStatusError';
  }
}

export interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
  correlationId?: string;
  /** Cap of one attempt (ms); it is also cut to what is left of the budget. */
  timeoutMs?: number;
  /** Overrides the method rule (e.g. a POST the downstream makes idempotent by key). */
  retry?: boolean;
  /** Retry platform throttles (default true: a throttled call never ran). */
  retryThrottled?: boolean;
  /** Budget of this logical call (ms), from now; default RetrySettings.budgetMs. */
  budgetMs?: number;
  /** Absolute deadline (epoch ms), for calls sharing one (the race); wins over budgetMs. */
  deadline?: number;
  /**
   * Overrides RetrySettings.shedAfterMs: a call that must get through if it can (recording an
   * effect's outcome, the race's writers under one deadline) waits on refusals up to its deadline.
   */
  shedAfterMs?: number;
  /** Another bulkhead for this call (the race brings its own, sized to its writers). */
  limiter?: ConcurrencyLimiter;
}

type Caller = (method: string, path: string, opts: CallOptions) => Promise<ServiceResponse>;

/** Told of every breaker state change of this instance, and of every breaker created (breaker-board.ts publishes on them). */
type BreakerListener = (breaker: string, change: BreakerSnapshot['state'] | 'created') => void;
const breakerListeners = new Set<BreakerListener>();

/** Subscribes to this instance's breaker changes; returns the unsubscribe. */
export function onBreakerChange(listener: BreakerListener): () => void {
  breakerListeners.add(listener);
  return () => breakerListeners.delete(listener);
}

function tell(breaker: string, change: BreakerSnapshot['state'] | 'created'): void {
  for (const listener of breakerListeners) {
    try {
      listener(breaker, change);
    } catch (err) {
      // A listener must never break the breaker (or the call that moved it).
      logger.warn('breaker listener failed', { breaker, error: (err as Error).message });
    }
  }
}

export interface BreakerSnapshot {
  name: string;
  state: 'closed' | 'open' | 'halfOpen';
  settings: BreakerSettings;
  stats: { fires: number; successes: number; failures: number; rejects: number; timeouts: number };
  /** The instance's bulkhead for this downstream: limits, calls in flight and queued, refusals. */
  concurrency: LimiterStats;
  openedAt?: string;
  retryAfterSeconds?: number;
  /** State changes since this instance started, newest last (at most 20). */
  transitions: { to: string; at: string }[];
}

export class Downstream {
  readonly breaker: CircuitBreaker<[string, string, CallOptions], ServiceResponse>;
  readonly limiter: ConcurrencyLimiter;
  private openedAt?: number;
  private readonly transitions: { to: string; at: string }[] = [];

  constructor(
    readonly name: string,
    caller: Caller,
    readonly settings: BreakerSettings = breakerSettings(),
    readonly retry: RetrySettings = retrySettings(),
    private readonly sleep: (ms: number) => Promise<void> = realSleep,
    limits: LimiterSettings = limiterSettings(),
  ) {
    this.limiter = new ConcurrencyLimiter(limits);
    this.breaker = new CircuitBreaker(
      async (method: string, path: string, opts: CallOptions) => {
        const res = await caller(method, path, opts);
        // A throttled call never ran: not the service failing (and retried outside).
        if (res.status >= 500 && !isPlatformThrottle(res)) throw new UpstreamStatusError(res);
        return res;
      },
      {
        name,
        timeout: false, // ServiceClient enforces the per-attempt timeout
        errorThresholdPercentage: settings.errorThresholdPercentage,
        volumeThreshold: settings.volumeThreshold,
        resetTimeout: settings.resetTimeoutMs,
        rollingCountTimeout: settings.rollingWindowMs,
        rollingCountBuckets: 10,
      },
    );
    const note = (to: BreakerSnapshot['state']) => () => {
      this.transitions.push({ to, at: new Date().toISOString() });
      if (this.transitions.length > 20) this.transitions.shift();
      logger.info('circuit breaker state', { breaker: name, state: to });
      tell(name, to);
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
   * One logical call: the response for any status below 500 (a platform 429 included, once
   * the throttle retries are spent: the caller decides what it becomes); for 5xx, the last 5xx
   * response after the retries; else a 503 problem (circuit-open, upstream-busy,
   * upstream-timeout, upstream-unavailable) with Retry-After.
   */
  async call(method: string, path: string, opts: CallOptions = {}): Promise<ServiceResponse> {
    const deadline = opts.deadline ?? Date.now() + (opts.budgetMs ?? this.retry.budgetMs ?? 20_000);
    // Waiting on refusals (queue, platform throttles) ends sooner than the budget: under a crowd
    // the client hears 503 + Retry-After within about a second instead of holding a worker.
    const shedBy = Math.min(deadline, Date.now() + (opts.shedAfterMs ?? this.retry.shedAfterMs ?? Number.POSITIVE_INFINITY));
    let release: () => void;
    try {
      release = await (opts.limiter ?? this.limiter).acquire(shedBy - MIN_ATTEMPT_MS);
    } catch (err) {
      if (err instanceof LimiterFullError) throw this.shed('upstreamBusy', `Too many calls to the ${this.name} service from this instance; retry shortly`);
      if (err instanceof LimiterTimeoutError) throw this.shed('upstreamBusy', `No free slot for the ${this.name} service within the budget; retry shortly`);
      throw err;
    }
    try {
      if (opts.retryThrottled === false) return await this.attempts(method, path, opts, deadline);
      return await retryOnThrottle(() => this.attempts(method, path, opts, deadline), {
        // A retry must leave room for its own attempt, and starts only before the shed bound.
        deadline: Math.min(shedBy, deadline - MIN_ATTEMPT_MS),
        maxRetries: this.retry.throttleRetries ?? 0,
        backoff: this.retry,
        isThrottled: isPlatformThrottle,
        sleep: this.sleep,
      });
    } finally {
      release();
    }
  }

  /** Attempts through the breaker, with retries of failures for idempotent calls. */
  private async attempts(method: string, path: string, opts: CallOptions, deadline: number): Promise<ServiceResponse> {
    const retries = (opts.retry ?? isIdempotentMethod(method)) ? this.retry.retries : 0;
    for (let attempt = 0; ; attempt++) {
      const left = Math.max(1, deadline - Date.now());
      try {
        return await this.breaker.fire(method, path, { ...opts, timeoutMs: Math.min(opts.timeoutMs ?? left, left) });
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
        if (attempt < retries && Date.now() + pause + MIN_ATTEMPT_MS < deadline) {
          await this.sleep(pause);
          continue;
        }
        if (e instanceof UpstreamStatusError) return e.response;
        if (e.name === 'TimeoutError') throw this.shed('upstreamTimeout', `The ${this.name} service did not answer in time; retry shortly`);
        throw this.shed('upstreamUnavailable', `The ${this.name} service could not be reached; retry shortly`, { cause: e.message });
      }
    }
  }

  private shed(type: 'upstreamBusy' | 'upstreamTimeout' | 'upstreamUnavailable', detail: string, more: Record<string, unknown> = {}): HttpProblem {
    if (type !== 'upstreamBusy') logger.warn('downstream call failed', { service: this.name, type, ...more });
    return new HttpProblem(503, type, detail, {
      headers: { 'retry-after': String(SHED_RETRY_AFTER_SECONDS) },
      extensions: { service: this.name },
    });
  }

  snapshot(): BreakerSnapshot {
    const s = this.breaker.stats;
    const state = this.state;
    return {
      name: this.name,
      state,
      settings: this.settings,
      stats: { fires: s.fires, successes: s.successes, failures: s.failures, rejects: s.rejects, timeouts: s.timeouts },
      concurrency: this.limiter.stats(),
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
/** The configured services, in SERVICE_APIS order: the panel lists them first, in this order. */
const services: string[] = [];

/** The instance's breaker-wrapped client for a service named in SERVICE_APIS. */
export function downstream(service: string): Downstream {
  let d = registry.get(service);
  if (!d) {
    // The client is made on first use: building the route table must not need the config.
    let client: ServiceClient | undefined;
    const caller: Caller = (method, path, opts) => (client ??= ServiceClient.fromConfig(service, config())).call(method, path, opts);
    d = new Downstream(service, caller);
    registry.set(service, d);
    tell(service, 'created');
  }
  return d;
}

/**
 * Creates every configured service's Downstream now, so /api/ops/breakers shows all of them
 * (closed, no calls) before the first call to each, in SERVICE_APIS order.
 */
export function registerServices(names: readonly string[]): Downstream[] {
  for (const n of names) if (!services.includes(n)) services.push(n);
  return names.map(downstream);
}

/** Registers a downstream under a custom name (drills, tests). */
export function registerDownstream(d: Downstream): Downstream {
  registry.get(d.name)?.shutdown();
  registry.set(d.name, d);
  tell(d.name, 'created');
  return d;
}

export const downstreamRegistry = (): ReadonlyMap<string, Downstream> => registry;

/** Where a breaker is listed: the configured services in SERVICE_APIS order, then the rest (drills). */
export const breakerRank = (name: string): number => (services.includes(name) ? services.indexOf(name) : services.length);

/** The configured services first (SERVICE_APIS order), then the rest (drills) as created. */
export function breakerReport(): BreakerSnapshot[] {
  return [...registry.values()].sort((a, b) => breakerRank(a.name) - breakerRank(b.name)).map((d) => d.snapshot());
}
