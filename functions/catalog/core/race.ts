import { CatalogError } from './errors';
import { retryOnThrottle, sleep as realSleep } from '../../shared/retry';
import type { RaceRequest } from './model';

/** The minimal HTTP client the race needs; the catalog's ServiceClient fits it. */
export type Send = (
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: unknown },
) => Promise<{ status: number; headers: { get(name: string): string | null }; body: string }>;

export interface RaceResult {
  productId: string;
  writers: number;
  delta: number;
  initialEtag: string;
  initialStock: number;
  finalEtag: string | null;
  finalStock: number;
  expectedFinalStock: number;
  winners: number;
  preconditionFailed: number;
  otherStatuses: Record<string, number>;
  /** Distinct catalog workers (processes) that answered a writer with a product (x-catalog-worker). */
  workersSeen: number;
  /** Exactly one winner and final = initial + winners × delta. */
  consistent: boolean;
  durationMs: number;
  /** How the read after the race was served (x-cache, x-sql-queries): the winner's write emptied the cache, so a miss. */
  finalRead: { cache: string | null; sqlQueries: number | null };
}

/**
 * Reads the product once, then fires N stock PATCHes that all carry that one ETag, at the
 * public catalog API (so they spread over Lambda workers), and reports who won.
 */
export async function runRace(rawSend: Send, req: RaceRequest, opts: { throttleBudgetMs?: number } = {}): Promise<RaceResult> {
  const send = retryThrottled(rawSend, opts.throttleBudgetMs ?? 20_000);
  const path = `/products/${req.productId}`;
  const first = await send('GET', path, { headers: { 'cache-control': 'no-cache' } });
  if (first.status === 404) throw new CatalogError('productNotFound', `No product ${req.productId}`);
  if (first.status !== 200) throw new CatalogError('productUnreadable', `Reading the product answered ${first.status}`);
  const etag = first.headers.get('etag');
  if (!etag) throw new CatalogError('productUnreadable', 'The product read carried no ETag');
  const initialStock = (JSON.parse(first.body) as { stock: number }).stock;

  const started = Date.now();
  const workers = new Set<string>();
  const statuses = await Promise.all(
    Array.from({ length: req.writers }, () =>
      send('PATCH', `${path}/stock`, { headers: { 'if-match': etag }, body: { delta: req.delta } }).then(
        (r) => {
          const worker = r.headers.get('x-catalog-worker');
          if (worker) workers.add(worker);
          return r.status;
        },
        () => 0,
      ),
    ),
  );
  const durationMs = Date.now() - started;

  const last = await send('GET', path, {});
  const finalStock = last.status === 200 ? (JSON.parse(last.body) as { stock: number }).stock : Number.NaN;
  const sql = last.headers.get('x-sql-queries');
  return {
    ...summarize(req, { etag, initialStock, finalStock, finalEtag: last.headers.get('etag'), statuses, durationMs }),
    workersSeen: workers.size,
    finalRead: { cache: last.headers.get('x-cache'), sqlQueries: sql === null ? null : Number(sql) },
  };
}

export function summarize(
  req: RaceRequest,
  r: { etag: string; initialStock: number; finalStock: number; finalEtag: string | null; statuses: number[]; durationMs: number },
): Omit<RaceResult, 'workersSeen' | 'finalRead'> {
  let winners = 0;
  let preconditionFailed = 0;
  const otherStatuses: Record<string, number> = {};
  for (const s of r.statuses) {
    if (s >= 200 && s < 300) winners++;
    else if (s === 412) preconditionFailed++;
    else otherStatuses[String(s)] = (otherStatuses[String(s)] ?? 0) + 1;
  }
  const expectedFinalStock = r.initialStock + winners * req.delta;
  return {
    productId: req.productId,
    writers: req.writers,
    delta: req.delta,
    initialEtag: r.etag,
    initialStock: r.initialStock,
    finalEtag: r.finalEtag,
    finalStock: r.finalStock,
    expectedFinalStock,
    winners,
    preconditionFailed,
    otherStatuses,
    consistent: winners === 1 && r.finalStock === expectedFinalStock,
    durationMs: r.durationMs,
  };
}

/**
 * A 429 from the platform (the catalog runs with a small reserved concurrency) says "not now",
 * not "lost the race": retry it with jittered backoff (shared/retry.ts) until the budget is spent.
 * A budget of 0 hands every 429 back at once (for a `send` that already retries, like the BFF's).
 */
export function retryThrottled(send: Send, budgetMs: number, sleep: (ms: number) => Promise<void> = realSleep): Send {
  // Short pauses: N writers compete for two workers, each busy for a few tens of ms.
  return (method, path, opts) =>
    retryOnThrottle(() => send(method, path, opts), { deadline: Date.now() + budgetMs, sleep, backoff: { baseDelayMs: 10, maxDelayMs: 200 } });
}
