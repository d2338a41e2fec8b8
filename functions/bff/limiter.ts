/**
 * A bulkhead per downstream in one BFF instance: at most `maxInFlight` calls run, at most
 * `maxQueue` wait (first come, first served), and a call that would be the next waiter beyond
 * that is refused at once. A waiter gives up at its own deadline. Refusing early is the point:
 * a client told "busy, retry in 1 s" at once is better served than one that waits for a
 * downstream that is already saturated, and the instance does not pile up sockets and memory.
 */
export interface LimiterSettings {
  maxInFlight: number;
  maxQueue: number;
}

export interface LimiterStats extends LimiterSettings {
  inFlight: number;
  queued: number;
  /** Calls refused because the queue was full. */
  refused: number;
  /** Calls that gave up waiting (their deadline passed in the queue). */
  expired: number;
}

/** The queue was full: refused without waiting. */
export class LimiterFullError extends Error {
  constructor(readonly stats: LimiterStats) {
    super(`${stats.inFlight} calls in flight and ${stats.queued} waiting`);
    this.name = 'LimiterFullError';
  }
}

/** Waited in the queue until the caller's deadline. */
export class LimiterTimeoutError extends Error {
  constructor(readonly waitedMs: number) {
    super(`no slot within ${waitedMs} ms`);
    this.name = 'LimiterTimeoutError';
  }
}

export type Release = () => void;

interface Waiter {
  grant: (release: Release) => void;
  timer?: NodeJS.Timeout;
}

export class ConcurrencyLimiter {
  private inFlight = 0;
  private readonly waiting: Waiter[] = [];
  private refused = 0;
  private expired = 0;

  constructor(readonly settings: LimiterSettings) {}

  /** Resolves with a release function once a slot is ours; throws LimiterFullError / LimiterTimeoutError. */
  acquire(deadline = Number.POSITIVE_INFINITY): Promise<Release> {
    if (this.inFlight < this.settings.maxInFlight && this.waiting.length === 0) return Promise.resolve(this.take());
    if (this.waiting.length >= this.settings.maxQueue) {
      this.refused++;
      return Promise.reject(new LimiterFullError(this.stats()));
    }
    const started = Date.now();
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = { grant: resolve };
      if (Number.isFinite(deadline)) {
        waiter.timer = setTimeout(
          () => {
            const i = this.waiting.indexOf(waiter);
            if (i >= 0) this.waiting.splice(i, 1);
            this.expired++;
            reject(new LimiterTimeoutError(Date.now() - started));
          },
          Math.max(0, deadline - started),
        );
        waiter.timer.unref?.();
      }
      this.waiting.push(waiter);
    });
  }

  /** Runs `fn` in a slot. */
  async run<T>(fn: () => Promise<T>, deadline?: number): Promise<T> {
    const release = await this.acquire(deadline);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  stats(): LimiterStats {
    return { ...this.settings, inFlight: this.inFlight, queued: this.waiting.length, refused: this.refused, expired: this.expired };
  }

  private take(): Release {
    this.inFlight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight--;
      const next = this.waiting.shift();
      if (next) {
        if (next.timer) clearTimeout(next.timer);
        next.grant(this.take());
      }
    };
  }
}
