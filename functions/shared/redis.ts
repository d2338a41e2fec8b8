import Redis from 'ioredis';

let shared: Redis | undefined;

/**
 * The process-wide Redis client. Commands fail fast while Redis is down (no offline
 * queue, short connect timeout) so callers can degrade, e.g. catalog falls back to Postgres.
 */
export function serviceRedis(url: string): Redis {
  if (shared) return shared;
  shared = new Redis(url, {
    lazyConnect: false,
    enableOfflineQueue: false,
    connectTimeout: 1000,
    commandTimeout: 1000,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  // Without a listener ioredis logs every reconnect failure as an unhandled error.
  shared.on('error', () => undefined);
  return shared;
}

const RELEASE_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * Releases a `SET key token NX PX` lock only if it is still ours (the token matches): a holder
 * whose lock expired must not delete the next holder's. Best effort: the lock expires anyway.
 */
export async function releaseLock(redis: Pick<Redis, 'eval'>, key: string, token: string): Promise<void> {
  await redis.eval(RELEASE_LOCK, 1, key, token).catch(() => undefined);
}

/** Closes the shared client (tests that drive handlers in process, so jest can exit). */
export async function closeRedis(): Promise<void> {
  if (!shared) return;
  const client = shared;
  shared = undefined;
  await client.quit().catch(() => client.disconnect());
}

/**
 * The shared client fails commands fast while it is not connected (no offline queue); on a
 * cold start the first command would race the connect. Wait briefly for 'ready' instead.
 */
export async function redisReady(redis: unknown, timeoutMs = 1500): Promise<void> {
  const r = redis as Partial<Redis>;
  if (typeof r.status !== 'string' || typeof r.once !== 'function') return;
  if (!['connecting', 'connect', 'reconnecting', 'wait'].includes(r.status)) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    r.once!('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
