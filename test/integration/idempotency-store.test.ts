import { IdempotencyConfig, IdempotencyItemAlreadyExistsError, IdempotencyItemNotFoundError, IdempotencyRecordStatus } from '@aws-lambda-powertools/idempotency';
import { IdempotencyRecord } from '@aws-lambda-powertools/idempotency/persistence';
import type { Context } from 'aws-lambda';
import type { Pool } from 'pg';
import { idempotencyRecordId, idempotent } from '../../functions/shared/idempotency';
import { PostgresPersistenceLayer } from '../../functions/shared/idempotency-store';
import { sweepExpiredIdempotencyRecords } from '../../functions/shared/idempotency-sweep';
import { type ScratchSchema, scratchSchema } from '../support/scratch-schema';

// testTimeout in a jest project is not applied when several projects run together.
jest.setTimeout(120_000);

/**
 * PostgresPersistenceLayer (Lambda idempotency records in a service's schema) on real Postgres, in a
 * throw-away schema with the table shaped like orders.idempotency_records (the migration), so
 * nothing deployed reads or sweeps these rows. The put condition is the one of Powertools' DynamoDB
 * layer: absent, or expired, or in progress with a lapsed in-progress expiry; otherwise
 * IdempotencyItemAlreadyExistsError with the record that is there.
 */
let schema: string;
let admin: Pool;
let db: Pool;

/** The layer with its storage calls reachable, configured as makeIdempotent would. */
class Exposed extends PostgresPersistenceLayer {
  constructor(pool: Pool, opts: { validation?: boolean } = {}) {
    super(pool);
    this.configure({
      config: new IdempotencyConfig({ expiresAfterSeconds: 600, ...(opts.validation ? { payloadValidationJmesPath: 'amount' } : {}) }),
      keyPrefix: 't',
    });
  }
  put = (r: IdempotencyRecord) => this._putRecord(r);
  get = (id: string) => this._getRecord(id);
  update = (r: IdempotencyRecord) => this._updateRecord(r);
  remove = (r: IdempotencyRecord) => this._deleteRecord(r);
}

const context = (remainingMs: number) => ({ getRemainingTimeInMillis: () => remainingMs }) as unknown as Context;
const nowS = () => Date.now() / 1000;
type Status = (typeof IdempotencyRecordStatus)[keyof typeof IdempotencyRecordStatus];
const rec = (id: string, status: Status, extra: Partial<ConstructorParameters<typeof IdempotencyRecord>[0]> = {}) =>
  new IdempotencyRecord({ idempotencyKey: id, status, expiryTimestamp: Math.round(nowS() + 600), ...extra });
const row = async (id: string) =>
  (await admin.query(`SELECT status, expiry, in_progress_expiry, data, validation FROM ${schema}.idempotency_records WHERE id = $1`, [id])).rows[0];

let scratch: ScratchSchema;
beforeAll(async () => {
  // The layer resolves the table through the search_path, as on a service's leased pool.
  scratch = await scratchSchema('idem_test', { idempotency_records: 'LIKE orders.idempotency_records INCLUDING ALL' }, { dbMax: 12 });
  schema = scratch.name;
  admin = scratch.admin;
  db = scratch.db;
});

afterAll(async () => {
  await scratch.drop();
});

beforeEach(async () => {
  await scratch.truncate();
});

describe('idempotent() on PostgresPersistenceLayer', () => {
  it('runs once per key and answers a repeat with the recorded result; the row has the record id, COMPLETED, the result and the TTL', async () => {
    const fn = jest.fn(async (n: number) => ({ outcome: 'reserved', detail: { n } }));
    const once = idempotent({ IDEMPOTENCY_TTL_SECONDS: 600 }, { prefix: 'orders.saga-step', db }, fn);
    once.withContext(context(15_000));
    const key = { stateName: 'ReserveStock', executionId: 'exec-1' };
    const before = nowS();
    const first = await once.run(key, 1);
    expect(await once.run(key, 2)).toEqual(first);
    expect(fn).toHaveBeenCalledTimes(1);
    const r = await row(idempotencyRecordId('orders.saga-step', { executionId: 'exec-1', stateName: 'ReserveStock' }));
    expect(r).toMatchObject({ status: 'COMPLETED', data: { outcome: 'reserved', detail: { n: 1 } } });
    expect(r.expiry - before).toBeGreaterThan(599);
    expect(r.expiry - before).toBeLessThan(602);
    // The in-progress expiry of the put is left by the update (as DynamoDB's UpdateItem leaves it).
    expect(r.in_progress_expiry - before * 1000).toBeGreaterThanOrEqual(15_000);
    await once.run({ ...key, stateName: 'CreatePaymentSession' }, 3);
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it('a call that throws leaves no row, so the retry runs again', async () => {
    let calls = 0;
    const once = idempotent({ IDEMPOTENCY_TTL_SECONDS: 600 }, { prefix: 't.retry', db }, async () => {
      calls++;
      if (calls === 1) throw new Error('catalog down');
      return { outcome: 'reserved' };
    });
    once.withContext(context(15_000));
    await expect(once.run({ eventId: 'e-1' })).rejects.toThrow('catalog down');
    expect(await row(idempotencyRecordId('t.retry', { eventId: 'e-1' }))).toBeUndefined();
    await expect(once.run({ eventId: 'e-1' })).resolves.toEqual({ outcome: 'reserved' });
    expect(calls).toBe(2);
  });

  it('a concurrent duplicate is refused while the first is in progress, and runs after a crashed first call lapses', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const fn = jest.fn(async () => {
      await gate;
      return { ok: true };
    });
    const once = idempotent({ IDEMPOTENCY_TTL_SECONDS: 600 }, { prefix: 't.busy', db }, fn);
    once.withContext(context(15_000));
    const first = once.run({ eventId: 'e-busy' });
    // Wait until the first call's in-progress row is there.
    const id = idempotencyRecordId('t.busy', { eventId: 'e-busy' });
    for (let i = 0; i < 100 && !(await row(id)); i++) await new Promise((r) => setTimeout(r, 10));
    expect((await row(id)).status).toBe('INPROGRESS');
    await expect(once.run({ eventId: 'e-busy' })).rejects.toMatchObject({ name: 'IdempotencyAlreadyInProgressError' });
    release();
    await first;
    expect(fn).toHaveBeenCalledTimes(1);

    // A Lambda that timed out mid-call left an in-progress row; once its in-progress expiry passed, a retry runs.
    const crashed = idempotencyRecordId('t.busy', { eventId: 'e-crash' });
    await admin.query(`INSERT INTO ${schema}.idempotency_records (id, status, expiry, in_progress_expiry) VALUES ($1, 'INPROGRESS', $2, $3)`, [
      crashed,
      Math.round(nowS() + 600),
      Date.now() - 1,
    ]);
    await expect(once.run({ eventId: 'e-crash' })).resolves.toEqual({ ok: true });
    expect(fn).toHaveBeenCalledTimes(2);
    expect((await row(crashed)).status).toBe('COMPLETED');
  });

  it('20 concurrent calls with one key (separate connections) run the function once', async () => {
    let runs = 0;
    const once = idempotent({ IDEMPOTENCY_TTL_SECONDS: 600 }, { prefix: 't.crowd', db }, async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 200));
      return { ok: true };
    });
    once.withContext(context(15_000));
    const settled = await Promise.allSettled(Array.from({ length: 20 }, () => once.run({ eventId: 'e-crowd' })));
    expect(runs).toBe(1);
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
    for (const s of settled) if (s.status === 'rejected') expect((s.reason as Error).name).toBe('IdempotencyAlreadyInProgressError');
  });
});

describe('PostgresPersistenceLayer: the conditional put, as the DynamoDB layer', () => {
  it('puts an absent id; refuses a live COMPLETED one with the record that is there', async () => {
    const store = new Exposed(db);
    await store.put(rec('k1', IdempotencyRecordStatus.INPROGRESS, { inProgressExpiryTimestamp: Date.now() + 10_000 }));
    await store.update(rec('k1', IdempotencyRecordStatus.COMPLETED, { responseData: { a: 1 } }));
    const err = await store.put(rec('k1', IdempotencyRecordStatus.INPROGRESS, { inProgressExpiryTimestamp: Date.now() + 10_000 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IdempotencyItemAlreadyExistsError);
    const existing = (err as IdempotencyItemAlreadyExistsError).existingRecord!;
    expect(existing.idempotencyKey).toBe('k1');
    expect(existing.getStatus()).toBe(IdempotencyRecordStatus.COMPLETED);
    expect(existing.getResponse()).toEqual({ a: 1 });
    expect((await row('k1')).data).toEqual({ a: 1 });
  });

  it('overwrites an expired record whole (status, expiries; the old result gone)', async () => {
    const store = new Exposed(db);
    await admin.query(`INSERT INTO ${schema}.idempotency_records (id, status, expiry, data) VALUES ('k2', 'COMPLETED', $1, '{"old":true}')`, [nowS() - 1]);
    const inProgressExpiry = Date.now() + 10_000;
    await store.put(rec('k2', IdempotencyRecordStatus.INPROGRESS, { inProgressExpiryTimestamp: inProgressExpiry }));
    expect(await row('k2')).toMatchObject({ status: 'INPROGRESS', in_progress_expiry: inProgressExpiry, data: null });
  });

  it('in progress: refused while its in-progress expiry is ahead or absent, taken once it lapsed', async () => {
    const store = new Exposed(db);
    const live = Math.round(nowS() + 600);
    await admin.query(
      `INSERT INTO ${schema}.idempotency_records (id, status, expiry, in_progress_expiry) VALUES ('ahead', 'INPROGRESS', $1, $2), ('none', 'INPROGRESS', $1, NULL), ('lapsed', 'INPROGRESS', $1, $3)`,
      [live, Date.now() + 60_000, Date.now() - 5],
    );
    for (const id of ['ahead', 'none']) {
      const err = await store.put(rec(id, IdempotencyRecordStatus.INPROGRESS, { inProgressExpiryTimestamp: Date.now() + 1000 })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IdempotencyItemAlreadyExistsError);
      expect((err as IdempotencyItemAlreadyExistsError).existingRecord?.getStatus()).toBe(IdempotencyRecordStatus.INPROGRESS);
    }
    await store.put(rec('lapsed', IdempotencyRecordStatus.INPROGRESS, { inProgressExpiryTimestamp: Date.now() + 1000 }));
    expect((await row('lapsed')).in_progress_expiry).toBeGreaterThan(Date.now());
    // A COMPLETED record whose (stale) in-progress expiry lapsed is not taken: only INPROGRESS ones are.
    await admin.query(`INSERT INTO ${schema}.idempotency_records (id, status, expiry, in_progress_expiry) VALUES ('done', 'COMPLETED', $1, $2)`, [live, Date.now() - 5]);
    await expect(store.put(rec('done', IdempotencyRecordStatus.INPROGRESS))).rejects.toBeInstanceOf(IdempotencyItemAlreadyExistsError);
  });

  it('50 concurrent puts of one id: exactly one wins, the others get the winner', async () => {
    const store = new Exposed(db);
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => store.put(rec('race', IdempotencyRecordStatus.INPROGRESS, { inProgressExpiryTimestamp: Date.now() + 10_000 + i }))),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const stored = await row('race');
    for (const r of results) {
      if (r.status === 'rejected') expect((r.reason as IdempotencyItemAlreadyExistsError).existingRecord?.inProgressExpiryTimestamp).toBe(stored.in_progress_expiry);
    }
  });

  it('get: a missing id is IdempotencyItemNotFoundError; results round-trip, a stored null apart from none', async () => {
    const store = new Exposed(db);
    await expect(store.get('nope')).rejects.toBeInstanceOf(IdempotencyItemNotFoundError);
    await store.update(rec('null', IdempotencyRecordStatus.COMPLETED, { responseData: null }));
    await store.update(rec('none', IdempotencyRecordStatus.COMPLETED));
    await store.update(rec('nested', IdempotencyRecordStatus.COMPLETED, { responseData: { s: 'é"\\', n: 1.5, list: [1, { b: false }] } }));
    expect((await store.get('null')).getResponse()).toBeNull();
    expect((await store.get('none')).getResponse()).toBeUndefined();
    expect((await store.get('nested')).getResponse()).toEqual({ s: 'é"\\', n: 1.5, list: [1, { b: false }] });
    // An update without a result keeps the one stored (DynamoDB's SET names only what it sets).
    await store.update(rec('nested', IdempotencyRecordStatus.COMPLETED));
    expect((await store.get('nested')).getResponse()).toMatchObject({ n: 1.5 });
    await store.remove(rec('nested', IdempotencyRecordStatus.EXPIRED));
    await expect(store.get('nested')).rejects.toBeInstanceOf(IdempotencyItemNotFoundError);
  });

  it('payload validation: the hash is stored only when enabled', async () => {
    const plain = new Exposed(db);
    await plain.put(rec('v1', IdempotencyRecordStatus.INPROGRESS, { payloadHash: 'h1' }));
    expect((await row('v1')).validation).toBeNull();
    const validating = new Exposed(db, { validation: true });
    await validating.put(rec('v2', IdempotencyRecordStatus.INPROGRESS, { payloadHash: 'h2' }));
    await validating.update(rec('v2', IdempotencyRecordStatus.COMPLETED, { payloadHash: 'h2', responseData: { ok: 1 } }));
    expect((await row('v2')).validation).toBe('h2');
    expect((await validating.get('v2')).payloadHash).toBe('h2');
  });
});

describe('sweepExpiredIdempotencyRecords', () => {
  it('deletes expired rows oldest first, at most the limit per call, and leaves the live ones', async () => {
    const now = nowS();
    await admin.query(
      `INSERT INTO ${schema}.idempotency_records (id, status, expiry)
       SELECT 'old-' || g, 'COMPLETED', $1::float8 - g FROM generate_series(1, 7) g
       UNION ALL SELECT 'live-' || g, 'COMPLETED', $1::float8 + 600 FROM generate_series(1, 3) g
       UNION ALL SELECT 'stuck', 'INPROGRESS', $1::float8 - 100`,
      [now],
    );
    expect(await sweepExpiredIdempotencyRecords(db, { limit: 5 })).toBe(5);
    const left = (await admin.query<{ id: string }>(`SELECT id FROM ${schema}.idempotency_records ORDER BY id`)).rows.map((r) => r.id);
    // The oldest went first: 'stuck' (100 s ago) and old-7 … old-4.
    expect(left).toEqual(['live-1', 'live-2', 'live-3', 'old-1', 'old-2', 'old-3']);
    expect(await sweepExpiredIdempotencyRecords(db, { limit: 5 })).toBe(3);
    expect(await sweepExpiredIdempotencyRecords(db, { limit: 5 })).toBe(0);
    expect((await admin.query(`SELECT count(*)::int AS n FROM ${schema}.idempotency_records`)).rows[0].n).toBe(3);
  });
});
