import type Redis from 'ioredis';
import { RedisProductCache, type RedisProductCacheOptions } from '../catalog/adapters/redis-cache';
import { productAnswer } from '../catalog/adapters/representation';
import { type Product, ProductId } from '../catalog/core/model';
import type { ChaosRules } from '../shared/chaos';
import type { HttpRequest, HttpResult } from '../shared/http';
import { logger } from '../shared/logger';
import type { Downstream } from './downstream';

/**
 * Product reads answered at the door from the catalog's own Redis entry (its L2 cache), so a hit
 * costs one Redis GET in the BFF instead of a second hop (API Gateway → catalog Lambda). The entry
 * is the catalog's: the catalog fills it on a miss and deletes it before any write answers 2xx,
 * and a fill that raced a write is refused (redis-cache.ts), so an entry that exists is as fresh
 * as what the catalog itself would answer. On a miss the read goes to the catalog as before.
 *
 * The door steps aside (the read goes through the catalog, its breaker and its faults) when:
 *  - the catalog's breaker on this instance is not closed: what the client gets then is the
 *    breaker's answer, as for every other catalog call;
 *  - a chaos rule targets the catalog's read of this product: injected faults stay where the
 *    rule puts them (the rules are the same per-process copy the chaos middleware reads);
 *  - the client asks for `Cache-Control: no-cache` (RFC 9111 §5.2.1.4: no stored answer without
 *    the origin; the catalog is the origin here, its own L2 included);
 *  - Redis fails or the id is not a product id (the catalog answers the 400).
 */
export interface CatalogEdgeDeps {
  redis: () => Redis;
  catalog: () => Downstream;
  /** undefined when chaos is off. */
  chaos?: ChaosRules;
  /** The catalog's cache settings (its key prefix); default the catalog's own. */
  cache?: Pick<RedisProductCacheOptions, 'prefix'>;
}

/** Headers that say how a door hit was served (the catalog's own reads say `x-cache` hit/miss/bypass). */
export const EDGE_HIT_HEADERS = { 'x-cache': 'hit', 'x-sql-queries': '0', 'x-served-by': 'bff' } as const;

const wantsOrigin = (req: HttpRequest) => /(^|,)\s*no-cache\s*(,|$)/i.test(req.headers['cache-control'] ?? '') || /no-cache/i.test(req.headers.pragma ?? '');

export class CatalogEdge {
  private readonly cache: RedisProductCache;
  hits = 0;
  passes = 0;

  constructor(private readonly deps: CatalogEdgeDeps) {
    this.cache = new RedisProductCache(deps.redis, deps.cache);
  }

  /** The answer for GET /api/products/{id} from the cache, or undefined: ask the catalog. */
  async product(req: HttpRequest): Promise<HttpResult | undefined> {
    const id = ProductId.safeParse(req.params.id);
    if (!id.success || wantsOrigin(req) || this.deps.catalog().state !== 'closed') return this.pass();
    if (await this.deps.chaos?.targets({ service: 'catalog', method: 'GET', path: `/products/${id.data}` })) return this.pass();
    let product: Product | null;
    try {
      product = await this.cache.peek(id.data);
    } catch (err) {
      logger.warn('catalog cache unreadable at the door; asking the catalog', { error: (err as Error).message });
      return this.pass();
    }
    if (!product) return this.pass();
    this.hits++;
    const answer = productAnswer(200, product, req.headers['if-none-match']);
    return { ...answer, headers: { ...answer.headers, ...EDGE_HIT_HEADERS } };
  }

  private pass(): undefined {
    this.passes++;
    return undefined;
  }
}
