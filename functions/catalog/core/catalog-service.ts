import { CatalogError } from './errors';
import { parseIfMatch, toEtag } from './etag';
import type { ListQuery, Product, ProductPage, ProductPatch, Reservation, ReserveRequest } from './model';
import type { GuardedWrite, ProductCache, ProductRepository } from './ports';

/**
 * The catalog's rules, free of HTTP and AWS (refusals are CatalogErrors; the handler maps them): reads go through the cache, writes are one guarded
 * statement and invalidate the cache before they return, so a reader that starts after a
 * writer's 2xx never sees the old product.
 */
export class CatalogService {
  constructor(
    private readonly repo: ProductRepository,
    private readonly cache: ProductCache,
  ) {}

  async list(query: ListQuery): Promise<ProductPage> {
    const { items, total } = await this.repo.list(query);
    const next = query.offset + items.length;
    return { items, total, limit: query.limit, offset: query.offset, nextOffset: next < total ? next : null };
  }

  async get(id: string): Promise<Product> {
    const product = await this.cache.getOrLoad(id, () => this.repo.get(id));
    if (!product) throw notFound(id);
    return product;
  }

  async addStock(id: string, ifMatchHeader: string | undefined, delta: number): Promise<Product> {
    const versions = requireIfMatch(ifMatchHeader);
    return this.finish(id, await this.repo.addStock(id, versions, delta), delta);
  }

  async update(id: string, ifMatchHeader: string | undefined, patch: ProductPatch): Promise<Product> {
    const versions = requireIfMatch(ifMatchHeader);
    return this.finish(id, await this.repo.updateFields(id, versions, patch));
  }

  async reserve(req: ReserveRequest): Promise<{ reservation: Reservation; replayed: boolean }> {
    const out = await this.repo.reserve(req);
    switch (out.kind) {
      case 'reserved':
        await this.cache.invalidate(out.reservation.items.map((i) => i.productId));
        return { reservation: out.reservation, replayed: false };
      case 'replayed':
        return { reservation: out.reservation, replayed: true };
      case 'conflict':
        throw new CatalogError('reservationConflict', `Order ${req.orderId} already has a ${out.existing.status} reservation with other items`, {
          orderId: req.orderId,
          status: out.existing.status,
        });
      case 'notFound':
        throw notFound(out.productId);
      case 'insufficient':
        throw new CatalogError('insufficientStock', `Only ${out.available} of ${out.requested} units of ${out.productId} are available`, {
          orderId: req.orderId,
          productId: out.productId,
          requested: out.requested,
          available: out.available,
        });
    }
  }

  async release(orderId: string): Promise<{ reservation: Reservation; changed: boolean }> {
    const out = await this.repo.release(orderId);
    if (out.changed) await this.cache.invalidate(out.reservation.items.map((i) => i.productId));
    return out;
  }

  private async finish(id: string, out: GuardedWrite, delta?: number): Promise<Product> {
    switch (out.kind) {
      case 'ok':
        // Same code path as the write, before the 2xx: later readers cannot get the old entry.
        await this.cache.invalidate([id]);
        return out.product;
      case 'notFound':
        throw notFound(id);
      case 'stale':
        throw new CatalogError(
          'staleEtag',
          'The product changed since you read it; read it again and retry with its new ETag',
          { currentEtag: toEtag(out.current.version) },
          toEtag(out.current.version),
        );
      case 'insufficient':
        throw new CatalogError(
          'insufficientStock',
          `Stock cannot go below 0 (stock ${out.current.stock}, delta ${delta})`,
          { productId: id, available: out.current.stock, delta },
          toEtag(out.current.version),
        );
    }
  }
}

export function requireIfMatch(header: string | undefined): string[] {
  const parsed = parseIfMatch(header);
  if (parsed.kind === 'missing') {
    throw new CatalogError('ifMatchRequired', 'Send If-Match with the ETag from your last read of this product');
  }
  if (parsed.kind === 'any') {
    throw new CatalogError('ifMatchRequired', 'If-Match: * is not accepted; send the product ETag');
  }
  return parsed.versions;
}

const notFound = (id: string) => new CatalogError('productNotFound', `No product ${id}`);
