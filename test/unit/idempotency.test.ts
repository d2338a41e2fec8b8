import { IdempotencyItemAlreadyExistsError, IdempotencyItemNotFoundError, IdempotencyRecordStatus } from '@aws-lambda-powertools/idempotency';
import { BasePersistenceLayer, IdempotencyRecord } from '@aws-lambda-powertools/idempotency/persistence';
import type { Context, SQSEvent } from 'aws-lambda';
import { config } from '../../functions/shared/config';
import { newEvent } from '../../functions/shared/events';
import { eventKey, idempotencyRecordId, idempotent, IdempotencyKeyMissing, sagaStepKey } from '../../functions/shared/idempotency';
import { sqsEventHandler } from '../../functions/shared/inbox';
import { loginLimits } from '../../functions/identity/core/rate-limit';

/**
 * Powertools' real idempotency flow (makeIdempotent, IdempotencyHandler, BasePersistenceLayer)
 * over a stand-in store that keeps items in a Map with the put condition of Powertools' DynamoDB
 * layer, which our Postgres layer keeps: a key may be written when absent, expired, or in progress
 * past its in-progress expiry. test/integration/idempotency-store.test.ts runs the same flows on
 * PostgresPersistenceLayer and real Postgres; test/e2e/lambda-idempotency.test.ts against the
 * deployed Lambdas and their schemas' records.
 */
class MapStore extends BasePersistenceLayer {
  readonly items = new Map<string, IdempotencyRecord>();
  protected async _getRecord(key: string) {
    const r = this.items.get(key);
    if (!r) throw new IdempotencyItemNotFoundError();
    return r;
  }
  protected async _putRecord(record: IdempotencyRecord) {
    const old = this.items.get(record.idempotencyKey);
    const now = Date.now();
    const free =
      !old ||
      (old.expiryTimestamp ?? 0) < now / 1000 ||
      (old.getStatus() === IdempotencyRecordStatus.INPROGRESS && old.inProgressExpiryTimestamp !== undefined && old.inProgressExpiryTimestamp < now);
    if (!free) throw new IdempotencyItemAlreadyExistsError(`exists: ${record.idempotencyKey}`, old);
    this.items.set(record.idempotencyKey, record);
  }
  protected async _updateRecord(record: IdempotencyRecord) {
    this.items.set(record.idempotencyKey, record);
  }
  protected async _deleteRecord(record: IdempotencyRecord) {
    this.items.delete(record.idempotencyKey);
  }
}

const cfg = { IDEMPOTENCY_TTL_SECONDS: 600 };
const context = (remainingMs: number) => ({ getRemainingTimeInMillis: () => remainingMs }) as unknown as Context;
const EXEC = 'arn:aws:states:us-east-1:000000000000:execution:checkout-mesh-checkout-saga:6f1c2d3e-0000-4000-8000-000000000001';

describe('idempotency keys', () => {
  it('a saga step is keyed by execution id + state name; a task-token state by its token too', () => {
    expect(sagaStepKey({ executionId: EXEC, stateName: 'ReserveStock', taskToken: undefined })).toEqual({ executionId: EXEC, stateName: 'ReserveStock' });
    expect(sagaStepKey({ executionId: ` ${EXEC} `, stateName: 'WaitForPayment', taskToken: 'tok-1' })).toEqual({
      executionId: EXEC,
      stateName: 'WaitForPayment',
      taskToken: 'tok-1',
    });
  });

  it('refuses a step event without them rather than share one key between steps', () => {
    for (const ev of [{}, { executionId: EXEC }, { stateName: 'ReserveStock' }, { executionId: '', stateName: 'ReserveStock' }, { executionId: 42, stateName: 'X' }]) {
      expect(() => sagaStepKey(ev)).toThrow(IdempotencyKeyMissing);
    }
  });

  it('an event is keyed by its envelope id', () => {
    expect(eventKey({ id: 'e-1' })).toEqual({ eventId: 'e-1' });
    expect(() => eventKey({})).toThrow(IdempotencyKeyMissing);
  });

  it('idempotencyRecordId is the id Powertools writes (prefix#md5 of the sorted key), whatever the key order', async () => {
    const store = new MapStore();
    const once = idempotent(cfg, { prefix: 'orders.saga-step', store }, async () => ({ outcome: 'reserved' }));
    once.withContext(context(15_000));
    await once.run({ stateName: 'ReserveStock', executionId: EXEC });
    expect([...store.items.keys()]).toEqual([idempotencyRecordId('orders.saga-step', { executionId: EXEC, stateName: 'ReserveStock' })]);
    expect(idempotencyRecordId('p', { b: '2', a: '1' })).toBe(idempotencyRecordId('p', { a: '1', b: '2' }));
    expect(idempotencyRecordId('p', { a: '1' })).not.toBe(idempotencyRecordId('q', { a: '1' }));
  });
});

describe('idempotent (Powertools makeIdempotent over a persistence layer)', () => {
  it('runs once per key and answers a repeat with the recorded result', async () => {
    const store = new MapStore();
    const fn = jest.fn(async (ev: { step: string; n: number }) => ({ outcome: 'reserved', detail: { n: ev.n } }));
    const once = idempotent(cfg, { prefix: 't.once', store }, fn);
    once.withContext(context(15_000));
    const key = { executionId: EXEC, stateName: 'ReserveStock' };
    const first = await once.run(key, { step: 'ReserveStock', n: 1 });
    // The payload around the key is not hashed: a retry's state data may differ (emulator keys).
    const second = await once.run(key, { step: 'ReserveStock', n: 2 });
    expect(fn).toHaveBeenCalledTimes(1);
    expect(second).toEqual(first);
    await once.run({ ...key, stateName: 'CreatePaymentSession' }, { step: 'CreatePaymentSession', n: 3 });
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it('a call that throws leaves no record, so the retry runs again', async () => {
    const store = new MapStore();
    let calls = 0;
    const once = idempotent(cfg, { prefix: 't.retry', store }, async () => {
      calls++;
      if (calls === 1) throw new Error('catalog down');
      return { outcome: 'reserved' };
    });
    once.withContext(context(15_000));
    await expect(once.run({ eventId: 'e-1' })).rejects.toThrow('catalog down');
    expect(store.items.size).toBe(0);
    await expect(once.run({ eventId: 'e-1' })).resolves.toEqual({ outcome: 'reserved' });
    expect(calls).toBe(2);
  });

  it('records expire after IDEMPOTENCY_TTL_SECONDS; the in-progress lock after the Lambda remaining time', async () => {
    const store = new MapStore();
    let seen: IdempotencyRecord | undefined;
    const once = idempotent(cfg, { prefix: 't.ttl', store }, async () => {
      seen = [...store.items.values()][0];
      return { ok: true };
    });
    once.withContext(context(15_000));
    const before = Date.now();
    await once.run({ eventId: 'e-ttl' });
    expect(seen?.getStatus()).toBe(IdempotencyRecordStatus.INPROGRESS);
    expect(seen!.inProgressExpiryTimestamp! - before).toBeGreaterThanOrEqual(15_000);
    expect(seen!.inProgressExpiryTimestamp! - before).toBeLessThan(16_000);
    const done = [...store.items.values()][0];
    expect(done.getStatus()).toBe(IdempotencyRecordStatus.COMPLETED);
    expect(done.expiryTimestamp! - before / 1000).toBeGreaterThan(599);
    expect(done.expiryTimestamp! - before / 1000).toBeLessThan(602);
  });

  it('a concurrent duplicate is refused while the first is in progress, and runs after a crashed first call lapses', async () => {
    const store = new MapStore();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const fn = jest.fn(async () => {
      await gate;
      return { ok: true };
    });
    const once = idempotent(cfg, { prefix: 't.busy', store }, fn);
    once.withContext(context(15_000));
    const first = once.run({ eventId: 'e-busy' });
    await new Promise((r) => setImmediate(r));
    await expect(once.run({ eventId: 'e-busy' })).rejects.toMatchObject({ name: 'IdempotencyAlreadyInProgressError' });
    release();
    await first;
    expect(fn).toHaveBeenCalledTimes(1);

    // A Lambda that timed out mid-call leaves an in-progress record; once its expiry passes, a retry runs.
    const stale = new IdempotencyRecord({
      idempotencyKey: idempotencyRecordId('t.busy', { eventId: 'e-crash' }),
      status: IdempotencyRecordStatus.INPROGRESS,
      expiryTimestamp: Date.now() / 1000 + 600,
      inProgressExpiryTimestamp: Date.now() - 1,
    });
    store.items.set(stale.idempotencyKey, stale);
    await expect(once.run({ eventId: 'e-crash' })).resolves.toEqual({ ok: true });
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it('without a store (the service database) the cold start fails with a message (never runs unguarded)', () => {
    expect(() => idempotent({ IDEMPOTENCY_TTL_SECONDS: 60 }, { prefix: 't.none' }, async () => 1)).toThrow(/no idempotency store for t.none/);
  });
});

describe('sqsEventHandler with record-level idempotency', () => {
  const record = (id: string, body: string) => ({ messageId: id, body }) as SQSEvent['Records'][number];

  it('applies an event once however many messages carry it, and reports only the failed records', async () => {
    const store = new MapStore();
    const applied: string[] = [];
    const handler = sqsEventHandler(
      async (event) => {
        if (event.type === 'Boom') throw new Error('effect failed');
        applied.push(event.id);
        return { applied: true };
      },
      { idempotency: { cfg, prefix: 't.sqs', store } },
    );
    const ev = newEvent('PaymentSucceeded', 'payments', { sessionId: 's-1' });
    const boom = newEvent('Boom', 'payments', {});
    const res = await handler(
      { Records: [record('m1', JSON.stringify(ev)), record('m2', JSON.stringify(ev)), record('m3', '{"not":"an envelope"}'), record('m4', JSON.stringify(boom))] },
      context(20_000),
    );
    expect(applied).toEqual([ev.id]);
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm3' }, { itemIdentifier: 'm4' }]);
    // A later redelivery of the same event: answered from the record.
    await handler({ Records: [record('m5', JSON.stringify(ev))] }, context(20_000));
    expect(applied).toEqual([ev.id]);
    expect(store.items.has(idempotencyRecordId('t.sqs', { eventId: ev.id }))).toBe(true);
    expect(store.items.has(idempotencyRecordId('t.sqs', { eventId: boom.id }))).toBe(false);
  });
});

describe('config: idempotency and login throttling settings', () => {
  const base = { SERVICE_NAME: 'orders' };

  it('defaults: 24 h records; 1000 logins per IP / 5 min, 10 failures per account / 15 min', () => {
    const c = config({ ...base });
    expect(c.IDEMPOTENCY_TTL_SECONDS).toBe(86_400);
    expect([c.LOGIN_MAX_PER_IP, c.LOGIN_IP_WINDOW_SEC, c.LOGIN_MAX_FAILURES_PER_ACCOUNT, c.LOGIN_ACCOUNT_WINDOW_SEC]).toEqual([1000, 300, 10, 900]);
    expect(config({ ...base, IDEMPOTENCY_TTL_SECONDS: '600', LOGIN_MAX_PER_IP: '50' })).toMatchObject({
      IDEMPOTENCY_TTL_SECONDS: 600,
      LOGIN_MAX_PER_IP: 50,
    });
    // What the identity handler gives its LoginLimiter.
    expect(loginLimits(config({ ...base, LOGIN_MAX_PER_IP: '50', LOGIN_ACCOUNT_WINDOW_SEC: '60' }))).toEqual({
      perIp: { limit: 50, windowSec: 300 },
      perAccount: { limit: 10, windowSec: 60 },
    });
  });

  it.each([
    ['LOGIN_MAX_PER_IP', ''],
    ['LOGIN_MAX_PER_IP', 'ten'],
    ['LOGIN_MAX_PER_IP', '0'],
    ['LOGIN_MAX_FAILURES_PER_ACCOUNT', '-3'],
    ['LOGIN_ACCOUNT_WINDOW_SEC', '1.5'],
    ['LOGIN_IP_WINDOW_SEC', '1e3'],
    ['IDEMPOTENCY_TTL_SECONDS', 'NaN'],
  ])('a malformed %s (%j) stops the cold start with a message naming it', (name, value) => {
    expect(() => config({ ...base, [name]: value })).toThrow(new RegExp(`Invalid configuration: ${name}: `));
  });
});
