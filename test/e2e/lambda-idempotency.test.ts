import { TEST_DATA_CATEGORY } from '../../functions/catalog/core/model';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { InvokeCommand, LambdaClient, ListFunctionsCommand, type FunctionConfiguration } from '@aws-sdk/client-lambda';
import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { singleConnection, withTransaction } from '../../functions/shared/db';
import { newEvent } from '../../functions/shared/events';
import { IDEMPOTENCY_PREFIX, idempotencyRecordId, type KeyObject } from '../../functions/shared/idempotency';
import { awsClientConfig, endpoints } from '../support/endpoints';

// testTimeout in a jest project is not applied when several projects run together.
jest.setTimeout(180_000);

/**
 * Lambda-level idempotency (Powertools, records in each service's Postgres schema) on the deployed stack:
 * (a) the saga step Lambda invoked twice with one execution id + state runs the step once: the
 *     repeat returns the recorded result, catalog holds one reservation, stock moved once, and the
 *     record is in orders.idempotency_records; with the effect cleared, a third call still does nothing
 *     (the record answers, not catalog's own per-order dedupe); another execution id runs again.
 * (b) one event sent twice to the payments-audit queue is applied once and recorded by event id;
 *     with its inbox row deleted, a redelivery is still not applied (its record in
 *     payments.idempotency_records answers).
 */
const e = endpoints();
const aws = awsClientConfig();
const lambda = new LambdaClient(aws);
const sqs = new SQSClient(aws);
const run = randomUUID().slice(0, 8);
let db: Client;
const productIds: string[] = [];
const orderIds: string[] = [];

async function functionNamed(pattern: RegExp): Promise<string> {
  let Marker: string | undefined;
  const fns: FunctionConfiguration[] = [];
  do {
    const page = await lambda.send(new ListFunctionsCommand({ Marker, MaxItems: 50 }));
    fns.push(...(page.Functions ?? []));
    Marker = page.NextMarker;
  } while (Marker);
  const fn = fns.find((f) => pattern.test(f.FunctionName ?? ''));
  if (!fn?.FunctionName) throw new Error(`no deployed function matching ${pattern}`);
  return fn.FunctionName;
}

async function invoke(functionName: string, payload: unknown): Promise<unknown> {
  const out = await lambda.send(new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(payload)) }));
  const body = out.Payload ? JSON.parse(Buffer.from(out.Payload).toString() || 'null') : null;
  if (out.FunctionError) throw new Error(`${functionName} failed: ${JSON.stringify(body)}`);
  return body;
}

/** The record's row in the schema of the service that owns the prefix (`orders.…` or `payments.…`). */
async function record(prefix: string, key: KeyObject): Promise<Record<string, unknown> | undefined> {
  const schema = prefix.split('.')[0];
  if (schema !== 'orders' && schema !== 'payments') throw new Error(`no schema for prefix ${prefix}`);
  const got = await db.query(`SELECT status, expiry, in_progress_expiry, data FROM ${schema}.idempotency_records WHERE id = $1`, [idempotencyRecordId(prefix, key)]);
  return got.rows[0];
}

async function newProduct(stock: number): Promise<string> {
  const id = randomUUID();
  await db.query(`INSERT INTO catalog.products (id, sku, name, category, price_cents, stock) VALUES ($1, $2, 'Idempotency probe', '${TEST_DATA_CATEGORY}', 500, $3)`, [
    id,
    `idem-${id}`,
    stock,
  ]);
  productIds.push(id);
  return id;
}

/** A PENDING order written straight to the orders schema: no saga runs for it, the test drives the step. */
async function newOrder(productId: string, quantity: number): Promise<string> {
  const id = randomUUID();
  await db.query(`INSERT INTO orders.orders (id, customer_id, items, amount_cents, payment_provider) VALUES ($1, $2, $3, $4, 'stripe')`, [
    id,
    `e2e-idem-${run}`,
    JSON.stringify([{ productId, quantity, unitPriceCents: 500 }]),
    500 * quantity,
  ]);
  orderIds.push(id);
  return id;
}

const stockOf = async (id: string) => (await db.query<{ stock: number; reserved: number }>('SELECT stock, reserved FROM catalog.products WHERE id = $1', [id])).rows[0];
const reservationsOf = async (orderId: string) => Number((await db.query('SELECT count(*) AS n FROM catalog.reservations WHERE order_id = $1', [orderId])).rows[0].n);
const stateOf = async (orderId: string) => (await db.query<{ state: string }>('SELECT state FROM orders.orders WHERE id = $1', [orderId])).rows[0].state;
const executionArn = (name: string) => `arn:aws:states:${e.region}:000000000000:execution:checkout-mesh-checkout-saga:${name}`;

beforeAll(async () => {
  db = new Client({ connectionString: e.postgresUrl });
  await db.connect();
});

afterAll(async () => {
  if (orderIds.length) {
    await db.query('DELETE FROM catalog.reservations WHERE order_id = ANY($1::uuid[])', [orderIds]);
    await db.query('DELETE FROM orders.outbox WHERE aggregate_id = ANY($1::text[])', [orderIds]);
    await db.query('DELETE FROM orders.orders WHERE id = ANY($1::uuid[])', [orderIds]);
  }
  if (productIds.length) await db.query('DELETE FROM catalog.products WHERE id = ANY($1::uuid[])', [productIds]);
  await db.query(`DELETE FROM payments.inbox WHERE consumer = 'payments-audit' AND event_id IN (SELECT event_id FROM payments.event_audit WHERE aggregate_id LIKE $1)`, [
    `idem-${run}-%`,
  ]);
  await db.query(`DELETE FROM payments.event_audit WHERE aggregate_id LIKE $1`, [`idem-${run}-%`]);
  await db?.end();
});

describe('saga step Lambda: one execution id + state runs the step once', () => {
  it('a repeated ReserveStock returns the recorded result with no second reservation, and the record is in orders.idempotency_records', async () => {
    const fn = await functionNamed(/SagaStep/);
    const productId = await newProduct(5);
    const orderId = await newOrder(productId, 2);
    const key = { executionId: executionArn(`e2e-idem-${orderId}`), stateName: 'ReserveStock' };
    // What the ASL sends (Parameters.Payload of ReserveStock).
    const payload = { step: 'ReserveStock', orderId, ...key, input: { orderId } };

    const first = await invoke(fn, payload);
    expect(first).toEqual({ outcome: 'reserved', detail: { orderId } });
    const second = await invoke(fn, payload);
    expect(second).toEqual(first);
    expect(await reservationsOf(orderId)).toBe(1);
    expect(await stockOf(productId)).toEqual({ stock: 3, reserved: 2 });
    expect(await stateOf(orderId)).toBe('RESERVED');

    const item = await record(IDEMPOTENCY_PREFIX.sagaStep, key);
    expect(item).toMatchObject({ status: 'COMPLETED', data: first });
    // Its expiry (epoch seconds), about IDEMPOTENCY_TTL_SECONDS (24 h) ahead.
    expect(Number(item!.expiry)).toBeGreaterThan(Date.now() / 1000 + 3600);

    // Catalog dedupes reservations per order by itself: take that out of the picture. With the
    // reservation gone and the order back to PENDING, a step that ran would reserve again.
    await withTransaction(singleConnection(db), async (tx) => {
      await tx.query('DELETE FROM catalog.reservations WHERE order_id = $1', [orderId]);
      await tx.query('UPDATE catalog.products SET stock = stock + 2, reserved = reserved - 2 WHERE id = $1', [productId]);
      await tx.query(`UPDATE orders.orders SET state = 'PENDING' WHERE id = $1`, [orderId]);
    });
    expect(await invoke(fn, payload)).toEqual(first);
    expect(await reservationsOf(orderId)).toBe(0);
    expect(await stockOf(productId)).toEqual({ stock: 5, reserved: 0 });
    expect(await stateOf(orderId)).toBe('PENDING');

    // The control: another execution of the same order is another key, and the step runs.
    const otherKey = { ...key, executionId: executionArn(`e2e-idem-${orderId}-2`) };
    expect(await invoke(fn, { ...payload, ...otherKey })).toEqual(first);
    expect(await reservationsOf(orderId)).toBe(1);
    expect(await stockOf(productId)).toEqual({ stock: 3, reserved: 2 });
    expect(await record(IDEMPOTENCY_PREFIX.sagaStep, otherKey)).toMatchObject({ status: 'COMPLETED' });
  });

  it('a step event without the execution id is refused, not run under a shared key', async () => {
    const fn = await functionNamed(/SagaStep/);
    const productId = await newProduct(1);
    const orderId = await newOrder(productId, 1);
    await expect(invoke(fn, { step: 'ReserveStock', orderId, input: { orderId } })).rejects.toThrow(/IdempotencyKeyMissing|executionId/);
    expect(await reservationsOf(orderId)).toBe(0);
  });
});

describe('payments-audit consumer: one event applied once, per record', () => {
  const audit = async (eventId: string) => (await db.query<{ deliveries: number }>('SELECT deliveries FROM payments.event_audit WHERE event_id = $1', [eventId])).rows;

  async function waitForAudit(eventId: string, timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rows = await audit(eventId);
      if (rows.length || Date.now() > deadline) return rows;
      await sleep(500);
    }
  }

  it('the same event sent twice is applied once and recorded by event id; with its inbox row gone, a redelivery is still not applied', async () => {
    const queueUrl = (await sqs.send(new GetQueueUrlCommand({ QueueName: 'checkout-mesh-payments-audit' }))).QueueUrl!;
    const send = (body: unknown) =>
      sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: JSON.stringify(body),
          MessageAttributes: { type: { DataType: 'String', StringValue: 'PaymentSucceeded' } },
        }),
      );
    const event = newEvent('PaymentSucceeded', 'payments', { sessionId: `idem-${run}-1`, orderId: 'lambda-idempotency-test' });
    await send(event);
    await send(event);

    expect(await waitForAudit(event.id)).toEqual([{ deliveries: 1 }]);
    // Both messages handled (one by the record, or after an in-progress retry): poll the record, then settle.
    let item: Record<string, unknown> | undefined;
    for (let i = 0; i < 60 && item?.status !== 'COMPLETED'; i++) {
      item = await record(IDEMPOTENCY_PREFIX.paymentsAudit, { eventId: event.id });
      if (item?.status !== 'COMPLETED') await sleep(500);
    }
    expect(item).toMatchObject({ status: 'COMPLETED', data: { applied: true } });
    await sleep(3000);
    expect(await audit(event.id)).toEqual([{ deliveries: 1 }]);

    // The inbox is the inner guard; remove it for this event. A redelivery must now be stopped by
    // the idempotency record alone (without it, recordAudit would count deliveries = 2).
    await db.query(`DELETE FROM payments.inbox WHERE consumer = 'payments-audit' AND event_id = $1`, [event.id]);
    await send(event);
    // A fresh event after it: once it is applied, the consumer has been polling past the redelivery.
    const marker = newEvent('PaymentSucceeded', 'payments', { sessionId: `idem-${run}-2`, orderId: 'lambda-idempotency-test' });
    await send(marker);
    expect(await waitForAudit(marker.id)).toEqual([{ deliveries: 1 }]);
    await sleep(3000);
    expect(await audit(event.id)).toEqual([{ deliveries: 1 }]);
    expect((await db.query(`SELECT 1 FROM payments.inbox WHERE consumer = 'payments-audit' AND event_id = $1`, [event.id])).rows).toHaveLength(0);
  });
});

describe('expired records: swept by each service outbox dispatcher on its scheduled sweep', () => {
  it.each([
    ['orders', /OrdersMeshDispatcher/],
    ['payments', /PaymentsMeshDispatcher/],
  ])('%s: an expired record is deleted by a sweep invocation, a live one stays', async (schema, pattern) => {
    const fn = await functionNamed(pattern);
    const expired = `e2e.sweep#${run}-expired`;
    const live = `e2e.sweep#${run}-live`;
    await db.query(`INSERT INTO ${schema}.idempotency_records (id, status, expiry) VALUES ($1, 'COMPLETED', $2), ($3, 'COMPLETED', $4)`, [
      expired,
      Math.floor(Date.now() / 1000) - 60,
      live,
      Math.floor(Date.now() / 1000) + 3600,
    ]);
    try {
      // What the EventBridge rule sends every minute (it may also have run by itself meanwhile).
      await invoke(fn, { source: 'sweep' });
      const left = await db.query<{ id: string }>(`SELECT id FROM ${schema}.idempotency_records WHERE id = ANY($1::text[])`, [[expired, live]]);
      expect(left.rows.map((r) => r.id)).toEqual([live]);
    } finally {
      await db.query(`DELETE FROM ${schema}.idempotency_records WHERE id = ANY($1::text[])`, [[expired, live]]);
    }
  });
});
