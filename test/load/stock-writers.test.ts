import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { TEST_DATA_CATEGORY } from '../../functions/catalog/core/model';
import { loginAs } from '../support/accounts';
import { classify } from '../support/crowd';
import { endpoints } from '../support/endpoints';

/**
 * 100 admins' writes at once with one ETag (`PATCH /api/products/{id}/stock`, If-Match): more
 * than the door admits at once. Each answer is the winner's 200, a 412 (stale ETag), or a refusal
 * a client can act on (503 problem+json with Retry-After); never a 504 or a raw platform body.
 * Accepted writes happened once and refused ones did nothing: the stock moved by exactly
 * delta × the number of 200s, and at most one write won.
 */
jest.setTimeout(300_000);
const e = endpoints();

describe('concurrent writers under the crowd bound', () => {
  let db: Client;
  beforeAll(async () => {
    db = new Client({ connectionString: e.postgresUrl });
    await db.connect();
  });
  afterAll(() => db?.end());

  it('100 same-ETag writers: one winner at most, 412s and 503 refusals, the stock moved once per 200', async () => {
    const id = randomUUID();
    await db.query(`INSERT INTO catalog.products (id, sku, name, category, price_cents, stock) VALUES ($1, $2, 'Writers test item', $3, 100, 1000)`, [
      id,
      `WRITERS-${id.slice(0, 8)}`,
      TEST_DATA_CATEGORY,
    ]);
    const admin = await loginAs(e.apiBaseUrl, 'admin');
    const read = await fetch(`${e.apiBaseUrl}/api/products/${id}`, { headers: { 'cache-control': 'no-cache' } });
    const etag = read.headers.get('etag')!;
    expect(etag).toBeTruthy();

    const answers = await Promise.all(
      Array.from({ length: 100 }, async () => {
        const res = await fetch(`${e.apiBaseUrl}/api/products/${id}/stock`, {
          method: 'PATCH',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${admin.accessToken}`, 'if-match': etag },
          body: JSON.stringify({ delta: 5 }),
          signal: AbortSignal.timeout(60_000),
        });
        return classify(res.status, res.headers, await res.text());
      }),
    );
    const statuses = answers.reduce<Record<string, number>>((m, a) => {
      const k = `${a.status} ${a.type ?? ''}`;
      m[k] = (m[k] ?? 0) + 1;
      return m;
    }, {});
    console.log(`100 same-ETag writers: ${JSON.stringify(statuses)}`);
    const unexpected = answers.filter((a) => !(a.status === 200 || a.status === 412 || a.cls === 'refused'));
    expect(unexpected).toEqual([]);
    const won = answers.filter((a) => a.status === 200).length;
    expect(won).toBeLessThanOrEqual(1);
    const { rows } = await db.query<{ stock: number }>('SELECT stock FROM catalog.products WHERE id = $1', [id]);
    expect(rows[0].stock).toBe(1000 + 5 * won);
  });
});
