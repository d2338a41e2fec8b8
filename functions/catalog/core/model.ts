import * as z from 'zod';

/** A product as the API shows it. `version` is the row's xmin; it becomes the ETag. */
export interface Product {
  id: string;
  sku: string;
  name: string;
  category: string;
  priceCents: number;
  stock: number;
  reserved: number;
  createdAt: string;
  updatedAt: string;
  version: string;
}

export interface ProductPage {
  items: Product[];
  total: number;
  limit: number;
  offset: number;
  nextOffset: number | null;
}

export interface ReservationItem {
  productId: string;
  quantity: number;
}

export interface Reservation {
  orderId: string;
  status: 'reserved' | 'released';
  items: ReservationItem[];
}

export const ProductId = z.string().uuid();

export const ListQuery = z
  .object({
    q: z.string().trim().max(100).optional(),
    category: z.string().trim().min(1).max(50).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
    offset: z.coerce.number().int().min(0).max(100_000).default(0),
  })
  .strict();
export type ListQuery = z.infer<typeof ListQuery>;

const MAX_DELTA = 1_000_000;
export const StockPatch = z
  .object({
    delta: z
      .number()
      .int()
      .min(-MAX_DELTA)
      .max(MAX_DELTA)
      .refine((d) => d !== 0, 'delta must not be 0'),
  })
  .strict();
export type StockPatch = z.infer<typeof StockPatch>;

export const ProductPatch = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    priceCents: z.number().int().min(0).max(100_000_000).optional(),
  })
  .strict()
  .refine((p) => p.name !== undefined || p.priceCents !== undefined, 'give name and/or priceCents');
export type ProductPatch = z.infer<typeof ProductPatch>;

export const ReserveRequest = z
  .object({
    orderId: z.string().uuid(),
    items: z
      .array(z.object({ productId: z.string().uuid(), quantity: z.number().int().min(1).max(10_000) }).strict())
      .min(1)
      .max(100)
      .refine((items) => new Set(items.map((i) => i.productId)).size === items.length, 'each productId at most once'),
  })
  .strict();
export type ReserveRequest = z.infer<typeof ReserveRequest>;

/**
 * The race demo's own product (seeded, category `demo`, hidden from the storefront listing):
 * the public race endpoint touches nothing else, so a visitor never changes a real product.
 */
export const RACE_DEMO_PRODUCT_ID = '00000000-0000-4000-8000-0000000000de';
export const DEMO_CATEGORY = 'demo';
/**
 * Products the soak, the benchmarks and the load tests create for themselves: like the demo's,
 * listed only when the category is asked for by name, so test data never reaches the shop.
 */
export const TEST_DATA_CATEGORY = 'test-data';
/** Categories the storefront listing leaves out unless asked for by name. */
export const UNLISTED_CATEGORIES = [DEMO_CATEGORY, TEST_DATA_CATEGORY];

export const RaceRequest = z
  .object({
    productId: z
      .string()
      .uuid()
      .refine((id): boolean => id === RACE_DEMO_PRODUCT_ID, `the race runs only on the demo product ${RACE_DEMO_PRODUCT_ID}`)
      .default(RACE_DEMO_PRODUCT_ID),
    writers: z.number().int().min(1).max(200),
    delta: z
      .number()
      .int()
      .min(-1000)
      .max(1000)
      .refine((d) => d !== 0, 'delta must not be 0')
      .default(1),
  })
  .strict();
export type RaceRequest = z.infer<typeof RaceRequest>;

/** Items in a canonical order (by product id): locks are taken in this order, which rules out deadlocks. */
export const canonicalItems = (items: ReservationItem[]): ReservationItem[] =>
  [...items].sort((a, b) => (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0));

export const sameItems = (a: ReservationItem[], b: ReservationItem[]): boolean => {
  const x = canonicalItems(a);
  const y = canonicalItems(b);
  return x.length === y.length && x.every((item, i) => item.productId === y[i].productId && item.quantity === y[i].quantity);
};
