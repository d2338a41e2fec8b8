import { Client } from 'pg';
import { crowdProduct, crowdUsers, runCrowd, summarizeCrowd, type CrowdReport } from '../support/crowd';
import { endpoints } from '../support/endpoints';

/**
 * The reduced flash crowd (`npm run bench -- crowd` is the full one): 100 anonymous readers from
 * one client at the same instant, beside 10 checkouts from distinct users. Whatever the machine
 * can serve, every answer is either a success or a refusal a client can act on (503/429
 * problem+json with Retry-After): no 504, no other 5xx, never the emulator's raw body. Refused
 * checkouts left no order; accepted ones all end, and the invariants hold.
 */
jest.setTimeout(600_000);

describe('flash crowd', () => {
  let db: Client;
  let report: CrowdReport;
  beforeAll(async () => {
    db = new Client({ connectionString: endpoints().postgresUrl });
    await db.connect();
    const users = await crowdUsers(10);
    const productId = await crowdProduct(db, 10_000);
    report = await runCrowd(db, { readers: 100, readerMode: 'one-client', checkouts: 10, users, productId, log: (l) => console.log(l) });
    const s = summarizeCrowd(report);
    console.log(`crowd: ${JSON.stringify(s)}; workers ${JSON.stringify(report.workers)}; orders ${JSON.stringify(report.orders)}`);
  });
  afterAll(() => db?.end());

  it('answers every request with a success or an actionable refusal (no 504, no other 5xx, no raw platform body)', () => {
    const s = summarizeCrowd(report);
    const bad = [...report.readerAnswers, ...report.checkoutAnswers].filter((a) => !['ok', 'refused'].includes(a.cls));
    expect(bad).toEqual([]);
    expect(s.badAnswers).toBe(0);
    // The crowd really was more than the door admits at once: some were refused, some served.
    expect(report.readerAnswers.some((a) => a.cls === 'refused')).toBe(true);
    expect(report.readersServed).toBeGreaterThan(0);
  });

  it('a refused checkout left nothing; every accepted order ended and the invariants hold', () => {
    expect(report.orders.refusedWithOrder).toBe(0);
    expect(report.orders.nonTerminal).toEqual([]);
    expect(report.orders.accepted).toBeGreaterThan(0);
    expect(report.invariants.violations).toEqual([]);
  });
});
