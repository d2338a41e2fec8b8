import { json, type HttpResult } from '../../shared/http';
import { noneMatchHits, toEtag } from '../core/etag';
import type { Product } from '../core/model';

/**
 * How a product is answered over HTTP, wherever the answer is made (the catalog's handler, or the
 * BFF serving a cache hit at the door): the row as JSON with its strong ETag, revalidated on every
 * use (`no-cache`), and 304 when the client's If-None-Match already names this version.
 */
export function productAnswer(status: number, product: Product, ifNoneMatch?: string): HttpResult {
  const headers = { etag: toEtag(product.version), 'cache-control': 'no-cache' };
  if (status === 200 && noneMatchHits(ifNoneMatch, product.version)) return { status: 304, headers };
  return json(status, product, headers);
}
