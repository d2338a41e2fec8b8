import type { ListQuery, Product, ProductPatch, Reservation, ReserveRequest } from './model';

/** Outcome of a guarded write: `UPDATE ... WHERE id = $1 AND xmin = $2` plus what to tell the client when it matched nothing. */
export type GuardedWrite = { kind: 'ok'; product: Product } | { kind: 'notFound' } | { kind: 'stale'; current: Product } | { kind: 'insufficient'; current: Product };

export type ReserveOutcome =
  | { kind: 'reserved'; reservation: Reservation }
  | { kind: 'replayed'; reservation: Reservation }
  | { kind: 'conflict'; existing: Reservation }
  | { kind: 'insufficient'; productId: string; requested: number; available: number }
  | { kind: 'notFound'; productId: string };

export interface ReleaseOutcome {
  reservation: Reservation;
  /** False when the order was already released (or never reserved): nothing moved. */
  changed: boolean;
}

export interface ProductRepository {
  list(query: ListQuery): Promise<{ items: Product[]; total: number }>;
  get(id: string): Promise<Product | null>;
  /** Adds delta to stock in one guarded statement; stock never goes below 0. */
  addStock(id: string, ifMatch: string[], delta: number): Promise<GuardedWrite>;
  updateFields(id: string, ifMatch: string[], patch: ProductPatch): Promise<GuardedWrite>;
  reserve(req: ReserveRequest): Promise<ReserveOutcome>;
  release(orderId: string): Promise<ReleaseOutcome>;
}

/** L2 cache of single products. Implementations never throw: an unavailable cache just loads. */
export interface ProductCache {
  getOrLoad(id: string, load: () => Promise<Product | null>): Promise<Product | null>;
  invalidate(ids: string[]): Promise<void>;
}
