// Catalog card: the ETag race (one winner, the rest 412), then a cache miss and a hit with the SQL count.
import { api } from '../api.js';
import { header } from './kit.js';

export const catalogDemo = {
  id: 'catalog',
  label: 'Race and cache',
  about:
    'Twenty writers send one stock change each with the same ETag (If-Match): one wins, the rest get 412. The winning write empties the product’s cache entry: the read after it comes from Postgres and refills the entry, the next is served from Redis without SQL.',
  async run(log) {
    let race;
    // One race at a time on the demo product: a 409 means another is running, so wait and ask again (bounded).
    for (let i = 0; i < 10; i++) {
      race = await api('api/catalog/race', { method: 'POST', body: { writers: 20, delta: 1 }, auth: false, accept: [409] });
      if (race.status !== 409) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    const r = race.body;
    log(`Race: ${r.writers} writers with ETag ${r.initialEtag}: ${r.winners} won, ${r.preconditionFailed} × 412 across ${r.workersSeen} worker(s)`, {
      ok: r.winners === 1,
    });
    log(`Stock ${r.initialStock} → ${r.finalStock} (expected ${r.expectedFinalStock}); consistent: ${r.consistent}`, { ok: r.consistent });

    // The winner's write emptied the cache entry, so the race's own read after it was a miss (it
    // refilled the entry from Postgres); our read now is served from Redis.
    log(`The race's read after the winning write: cache ${r.finalRead.cache}, ${r.finalRead.sqlQueries} SQL statement(s)`);
    const res = await api(`api/products/${r.productId}`, { auth: false });
    const cache = header(res, 'x-cache');
    const sql = header(res, 'x-sql-queries');
    const door = header(res, 'x-served-by') === 'bff' ? 'answered by the BFF from the cache entry, no catalog call' : 'answered by the catalog';
    log(`Our read now: cache ${cache}, ${sql} SQL statement(s), ETag ${header(res, 'etag')} (the race ended at ${r.finalEtag}); ${door}`, {
      ok: cache === 'hit' && sql === '0',
    });
  },
};
