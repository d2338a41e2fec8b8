/**
 * The one retry-on-429 loop of the code base (ServiceClient, the BFF's Downstream and the
 * catalog race all use it). A 429 from the platform (API Gateway throttling, a function's
 * reserved concurrency) means the request never ran, so sending it again is safe whatever the
 * method; what must be bounded is how long the caller waits: a deadline (no sleep ends past it)
 * and optionally a number of retries. Backoff is full-jitter exponential, so callers that were
 * throttled together do not come back together.
 */
export interface BackoffSettings {
  baseDelayMs: number;
  maxDelayMs: number;
}

/** Full jitter: a random delay in [0, min(max, base * 2^attempt)). */
export const backoffDelay = (attempt: number, s: BackoffSettings, random: () => number = Math.random): number =>
  Math.floor(random() * Math.min(s.maxDelayMs, s.baseDelayMs * 2 ** attempt));

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface ThrottleRetryOptions<R> {
  /** Epoch ms: no retry is started (and no pause ends) after it. */
  deadline: number;
  /** Most retries after the first attempt (default: as many as the deadline allows). */
  maxRetries?: number;
  /** Default 50 ms base, 500 ms cap: a throttled worker is usually free again within tens of ms. */
  backoff?: BackoffSettings;
  /** What counts as "throttled, did not run" (default: status 429). */
  isThrottled?: (res: R) => boolean;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
}

export const DEFAULT_THROTTLE_BACKOFF: BackoffSettings = { baseDelayMs: 50, maxDelayMs: 500 };

/**
 * Runs `attempt` until its answer is not throttled, the retries are used up or the next pause
 * would end past the deadline; then returns the last answer (a 429 included: the caller
 * decides what a throttled answer becomes). Errors thrown by `attempt` are not retried here.
 */
export async function retryOnThrottle<R extends { status: number }>(attempt: (n: number) => Promise<R>, opts: ThrottleRetryOptions<R>): Promise<R> {
  const throttled = opts.isThrottled ?? ((r: R) => r.status === 429);
  const now = opts.now ?? Date.now;
  const pause = opts.sleep ?? sleep;
  const backoff = opts.backoff ?? DEFAULT_THROTTLE_BACKOFF;
  const maxRetries = opts.maxRetries ?? Number.POSITIVE_INFINITY;
  for (let n = 0; ; n++) {
    const res = await attempt(n);
    if (!throttled(res) || n >= maxRetries) return res;
    // Exponent capped so the jitter range stops growing once it reaches the cap.
    const delay = backoffDelay(Math.min(n, 10), backoff, opts.random);
    if (now() + delay >= opts.deadline) return res;
    await pause(delay);
  }
}
