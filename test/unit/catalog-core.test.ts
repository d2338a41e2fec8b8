import { CatalogService, requireIfMatch } from '../../functions/catalog/core/catalog-service';
import { noneMatchHits, parseIfMatch, toEtag } from '../../functions/catalog/core/etag';
import { ListQuery, ProductPatch, RACE_DEMO_PRODUCT_ID, RaceRequest, ReserveRequest, StockPatch, sameItems, type Product } from '../../functions/catalog/core/model';
import type { GuardedWrite, ProductCache, ProductRepository } from '../../functions/catalog/core/ports';
import { retryThrottled, runRace, summarize, type Send } from '../../functions/catalog/core/race';
import { catalogProblem } from '../../functions/catalog/adapters/problems';
import { CatalogError } from '../../functions/catalog/core/errors';
import type { HttpProblem } from '../../functions/shared/problem';

/** The core throws CatalogErrors; the handler answers the problem catalogProblem maps each to (the wire contract). */
function problemOf(fn: () => unknown): HttpProblem {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CatalogError);
    return catalogProblem(err)!;
  }
  throw new Error('expected a CatalogError');
}
async function rejection(p: Promise<unknown>): Promise<HttpProblem> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CatalogError);
  return catalogProblem(err)!;
}

const ID = '00000000-0000-4000-8000-00000000aaaa';
const product = (version: string, stock = 10): Product => ({
  id: ID,
  sku: 'S',
  name: 'N',
  category: 'c',
  priceCents: 100,
  stock,
  reserved: 0,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  version,
});

describe('ETags', () => {
  it('are strong and quoted', () => expect(toEtag('123')).toBe('"123"'));
  it('parses If-Match lists; weak tags never match', () => {
    expect(parseIfMatch(undefined)).toEqual({ kind: 'missing' });
    expect(parseIfMatch('  ')).toEqual({ kind: 'missing' });
    expect(parseIfMatch('*')).toEqual({ kind: 'any' });
    expect(parseIfMatch('"5"')).toEqual({ kind: 'tags', versions: ['5'] });
    expect(parseIfMatch('"5", W/"6", "7"')).toEqual({ kind: 'tags', versions: ['5', '7'] });
    expect(parseIfMatch('W/"5"')).toEqual({ kind: 'tags', versions: [] });
    expect(parseIfMatch('garbage')).toEqual({ kind: 'tags', versions: [] });
    expect(parseIfMatch('"x; DROP"')).toEqual({ kind: 'tags', versions: [] });
  });
  it('If-None-Match compares weakly', () => {
    expect(noneMatchHits('"5"', '5')).toBe(true);
    expect(noneMatchHits('W/"5"', '5')).toBe(true);
    expect(noneMatchHits('"4", "5"', '5')).toBe(true);
    expect(noneMatchHits('"4"', '5')).toBe(false);
    expect(noneMatchHits('*', '5')).toBe(true);
    expect(noneMatchHits(undefined, '5')).toBe(false);
  });
  it('requireIfMatch answers 428 without a usable header', () => {
    for (const h of [undefined, '', '*']) {
      expect(() => requireIfMatch(h)).toThrow(expect.objectContaining({ code: 'ifMatchRequired' }));
      expect(problemOf(() => requireIfMatch(h)).status).toBe(428);
    }
    expect(requireIfMatch('"9"')).toEqual(['9']);
  });
});

describe('schemas', () => {
  it('reject unknown fields, zero and fractional deltas', () => {
    expect(StockPatch.safeParse({ delta: 3 }).success).toBe(true);
    expect(StockPatch.safeParse({ delta: 0 }).success).toBe(false);
    expect(StockPatch.safeParse({ delta: 1.5 }).success).toBe(false);
    expect(StockPatch.safeParse({ delta: 1, extra: true }).success).toBe(false);
    expect(ProductPatch.safeParse({}).success).toBe(false);
    expect(ProductPatch.safeParse({ priceCents: -1 }).success).toBe(false);
    expect(ProductPatch.safeParse({ name: 'x', stock: 1 }).success).toBe(false);
  });
  it('validate reservations: uuid ids, positive quantities, no duplicates', () => {
    const ok = { orderId: ID, items: [{ productId: ID, quantity: 2 }] };
    expect(ReserveRequest.safeParse(ok).success).toBe(true);
    expect(ReserveRequest.safeParse({ ...ok, orderId: 'nope' }).success).toBe(false);
    expect(ReserveRequest.safeParse({ ...ok, items: [{ productId: ID, quantity: -1 }] }).success).toBe(false);
    expect(ReserveRequest.safeParse({ ...ok, items: [ok.items[0], ok.items[0]] }).success).toBe(false);
    expect(ReserveRequest.safeParse({ ...ok, items: [] }).success).toBe(false);
  });
  it('list query coerces paging and rejects unknown parameters', () => {
    expect(ListQuery.parse({ limit: '5' })).toEqual({ limit: 5, offset: 0 });
    expect(ListQuery.safeParse({ limit: '500' }).success).toBe(false);
    expect(ListQuery.safeParse({ sort: 'x' }).success).toBe(false);
  });
  it('race defaults delta to 1 and caps writers', () => {
    expect(RaceRequest.parse({ writers: 3 })).toEqual({ productId: RACE_DEMO_PRODUCT_ID, writers: 3, delta: 1 });
    expect(RaceRequest.safeParse({ productId: RACE_DEMO_PRODUCT_ID, writers: 0 }).success).toBe(false);
    expect(RaceRequest.safeParse({ productId: RACE_DEMO_PRODUCT_ID, writers: 1000 }).success).toBe(false);
    // The public race never touches a real product.
    expect(RaceRequest.safeParse({ productId: ID, writers: 3 }).success).toBe(false);
  });
  it('compares reservation items regardless of order', () => {
    const a = { productId: 'a', quantity: 1 };
    const b = { productId: 'b', quantity: 2 };
    expect(sameItems([a, b], [b, a])).toBe(true);
    expect(sameItems([a], [a, b])).toBe(false);
    expect(sameItems([a], [{ ...a, quantity: 2 }])).toBe(false);
  });
});

describe('CatalogService', () => {
  function setup(write: GuardedWrite) {
    const invalidated: string[][] = [];
    const repo = {
      get: jest.fn(async () => product('1')),
      addStock: jest.fn(async () => write),
      updateFields: jest.fn(async () => write),
    } as unknown as ProductRepository;
    const cache: ProductCache = {
      getOrLoad: async (_id, load) => load(),
      invalidate: async (ids) => void invalidated.push(ids),
    };
    return { svc: new CatalogService(repo, cache), repo, invalidated };
  }

  it('428 before touching the repository when If-Match is missing', async () => {
    const { svc, repo } = setup({ kind: 'ok', product: product('2') });
    expect((await rejection(svc.addStock(ID, undefined, 1))).status).toBe(428);
    expect(repo.addStock).not.toHaveBeenCalled();
  });
  it('a win invalidates the cache before returning', async () => {
    const { svc, repo, invalidated } = setup({ kind: 'ok', product: product('2', 11) });
    await expect(svc.addStock(ID, '"1"', 1)).resolves.toMatchObject({ version: '2', stock: 11 });
    expect(repo.addStock).toHaveBeenCalledWith(ID, ['1'], 1);
    expect(invalidated).toEqual([[ID]]);
  });
  it('stale answers 412 with the current ETag and does not invalidate', async () => {
    const { svc, invalidated } = setup({ kind: 'stale', current: product('7') });
    const err = await rejection(svc.update(ID, '"1"', { name: 'x' }));
    expect(err.status).toBe(412);
    expect(err.type).toBe('https://checkout-mesh.dev/problems/precondition-failed');
    expect(err.headers.etag).toBe('"7"');
    expect(err.toBody()).toMatchObject({ currentEtag: '"7"' });
    expect(invalidated).toEqual([]);
  });
  it('going below zero answers 409 insufficient-stock', async () => {
    const { svc } = setup({ kind: 'insufficient', current: product('1', 0) });
    const err = await rejection(svc.addStock(ID, '"1"', -5));
    expect(err.status).toBe(409);
    expect(err.type).toMatch(/insufficient-stock$/);
    expect(err.title).toBe('Insufficient stock');
    expect(err.headers.etag).toBe('"1"');
    expect(err.toBody()).toMatchObject({ productId: ID, available: 0, delta: -5 });
  });
  it('unknown product answers 404', async () => {
    const { svc } = setup({ kind: 'notFound' });
    expect(await rejection(svc.addStock(ID, '"1"', 1))).toMatchObject({ status: 404, type: 'https://checkout-mesh.dev/problems/not-found' });
  });
});

describe('race', () => {
  const req = { productId: ID, writers: 4, delta: 2 };
  it('summarizes one winner as consistent', () => {
    const r = summarize(req, { etag: '"1"', initialStock: 10, finalStock: 12, finalEtag: '"2"', statuses: [200, 412, 412, 412], durationMs: 5 });
    expect(r).toMatchObject({ winners: 1, preconditionFailed: 3, expectedFinalStock: 12, consistent: true, otherStatuses: {} });
  });
  it('flags two winners or a lost update', () => {
    expect(summarize(req, { etag: '"1"', initialStock: 10, finalStock: 14, finalEtag: null, statuses: [200, 200, 412, 500], durationMs: 5 })).toMatchObject({
      winners: 2,
      consistent: false,
      otherStatuses: { '500': 1 },
    });
    expect(summarize(req, { etag: '"1"', initialStock: 10, finalStock: 10, finalEtag: null, statuses: [200, 412, 412, 412], durationMs: 5 }).consistent).toBe(false);
  });
  it('a product it cannot read answers 404 or 502 (as the BFF maps catalog errors)', async () => {
    const answering =
      (status: number): Send =>
      async () => ({ status, headers: { get: () => null }, body: '' });
    expect(await rejection(runRace(answering(404), req))).toMatchObject({ status: 404, type: 'https://checkout-mesh.dev/problems/not-found' });
    expect(await rejection(runRace(answering(500), req))).toMatchObject({ status: 502, type: 'https://checkout-mesh.dev/problems/upstream-unavailable' });
    expect(await rejection(runRace(answering(200), req))).toMatchObject({ status: 502, message: 'The product read carried no ETag' });
  });
  it('retries 429 until another answer', async () => {
    let calls = 0;
    const send: Send = async () => ({ status: ++calls < 3 ? 429 : 412, headers: { get: () => null }, body: '' });
    const res = await retryThrottled(send, 5000, async () => undefined)('PATCH', '/x', {});
    expect(res.status).toBe(412);
    expect(calls).toBe(3);
  });
  it('runRace: one read, N writers with that ETag, workers counted, throttles retried', async () => {
    let stock = 10;
    let version = 1;
    let throttled = 0;
    const hdrs = (h: Record<string, string>) => ({ get: (n: string) => h[n] ?? null });
    const send: Send = async (method, _path, opts) => {
      if (method === 'GET') return { status: 200, headers: hdrs({ etag: `"${version}"` }), body: JSON.stringify({ stock }) };
      if (throttled++ < 3) return { status: 429, headers: hdrs({}), body: '' };
      const worker = `w${throttled % 2}`;
      if (opts.headers?.['if-match'] !== `"${version}"`) return { status: 412, headers: hdrs({ 'x-catalog-worker': worker }), body: '' };
      stock += (opts.body as { delta: number }).delta;
      version++;
      return { status: 200, headers: hdrs({ 'x-catalog-worker': worker }), body: '' };
    };
    const r = await runRace(send, { productId: ID, writers: 10, delta: 3 });
    expect(r).toMatchObject({ winners: 1, preconditionFailed: 9, initialStock: 10, finalStock: 13, consistent: true, workersSeen: 2, otherStatuses: {} });
  });
});
