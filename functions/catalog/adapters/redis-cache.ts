import { sleep } from '../../shared/retry';
import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import type { Product } from '../core/model';
import type { ProductCache } from '../core/ports';
import { logger } from '../../shared/logger';
import { releaseLock } from '../../shared/redis';

export interface RedisProductCacheOptions {
  /** Entry lifetime; bounds staleness even if an invalidation is lost. Default 60 s. */
  ttlMs?: number;
  /** Lock that lets one loader per key refill a cold entry. Default 2 s. */
  lockMs?: number;
  /** How long a caller that lost the lock waits for the winner's fill before reading Postgres itself. */
  waitMs?: number;
  prefix?: string;
}

// Fill only if no write happened since the reader looked at the generation: a reader that
// loaded the old row before a write cannot put it back after the write invalidated it.
const FILL = `
local gen = redis.call('GET', KEYS[2]) or '0'
if gen ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return 1`;
const INVALIDATE = `
for i = 1, #KEYS, 2 do
  redis.call('INCR', KEYS[i + 1])
  redis.call('PEXPIRE', KEYS[i + 1], ARGV[1])
  redis.call('DEL', KEYS[i])
end
return 1`;

/**
 * Cache-aside for single products in Redis, with:
 * - single flight: on a miss a short SET NX lock lets one loader (in any process) fill the key
 *   while the other readers poll it briefly before falling back to Postgres themselves;
 * - generation-checked fills, so invalidation on write cannot be undone by a slow reader;
 * - degradation: any Redis error (down, timeout) means "load from Postgres", never an error.
 */
export class RedisProductCache implements ProductCache {
  private readonly ttlMs: number;
  private readonly lockMs: number;
  private readonly waitMs: number;
  private readonly prefix: string;
  hits = 0;
  misses = 0;

  constructor(
    private readonly redis: () => Redis,
    opts: RedisProductCacheOptions = {},
  ) {
    this.ttlMs = opts.ttlMs ?? 60_000;
    this.lockMs = opts.lockMs ?? 2_000;
    this.waitMs = opts.waitMs ?? 300;
    this.prefix = opts.prefix ?? 'catalog:product:v1:';
  }

  private keys(id: string) {
    return { value: `${this.prefix}${id}`, gen: `${this.prefix}${id}:gen`, lock: `${this.prefix}${id}:lock` };
  }

  /**
   * The cached product, or null on a miss, without loading or filling: for a reader outside the
   * catalog (the BFF's door) that asks the catalog itself on a miss. An entry that exists is never
   * older than a write that has answered 2xx (writes invalidate before they answer, and a fill
   * that raced a write is refused by the generation check), so it may be served as it is.
   * Redis errors are thrown: the caller falls back to the catalog.
   */
  async peek(id: string): Promise<Product | null> {
    const raw = await this.redis().get(this.keys(id).value);
    return raw === null ? null : (JSON.parse(raw) as Product);
  }

  // No in-process sharing of loads on purpose: a read that starts after a write's 2xx must not
  // join a load that began before the write. The Redis lock does the stampede protection.
  async getOrLoad(id: string, load: () => Promise<Product | null>): Promise<Product | null> {
    const k = this.keys(id);
    let redis: Redis;
    let cached: [string | null, string | null];
    try {
      redis = this.redis();
      cached = (await redis.mget(k.value, k.gen)) as [string | null, string | null];
    } catch (err) {
      return this.degraded(err, load);
    }
    if (cached[0] !== null) {
      this.hits++;
      return JSON.parse(cached[0]) as Product;
    }
    this.misses++;
    const token = randomUUID();
    let locked = false;
    try {
      locked = (await redis.set(k.lock, token, 'PX', this.lockMs, 'NX')) === 'OK';
    } catch (err) {
      return this.degraded(err, load);
    }
    if (!locked) {
      // Someone else is loading this key: give them a moment rather than stampeding Postgres.
      const deadline = Date.now() + this.waitMs;
      while (Date.now() < deadline) {
        await sleep(25);
        try {
          const v = await redis.get(k.value);
          if (v !== null) {
            this.hits++;
            return JSON.parse(v) as Product;
          }
        } catch (err) {
          return this.degraded(err, load);
        }
      }
      return load();
    }
    try {
      const product = await load();
      if (product) {
        await redis
          .eval(FILL, 2, k.value, k.gen, JSON.stringify(product), cached[1] ?? '0', String(this.ttlMs))
          .catch((err: Error) => logger.warn('catalog cache fill failed', { error: err.message }));
      }
      return product;
    } finally {
      await releaseLock(redis, k.lock, token);
    }
  }

  async invalidate(ids: string[]): Promise<void> {
    if (!ids.length) return;
    const keys = ids.flatMap((id) => {
      const k = this.keys(id);
      return [k.value, k.gen];
    });
    try {
      await this.redis().eval(INVALIDATE, keys.length, ...keys, String(24 * 3600 * 1000));
    } catch (err) {
      // The TTL bounds how long another process could still serve the old entry.
      logger.warn('catalog cache invalidation failed', { error: (err as Error).message, ids });
    }
  }

  private degraded(err: unknown, load: () => Promise<Product | null>): Promise<Product | null> {
    logger.warn('catalog cache unavailable; reading Postgres', { error: (err as Error).message });
    return load();
  }
}
