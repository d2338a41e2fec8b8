import { TEST_DATA_CATEGORY } from '../../functions/catalog/core/model';
import crypto from 'node:crypto';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { Client } from 'pg';
import { awsClientConfig, endpoints, localSecrets } from '../support/endpoints';
import { checkInvariants, outboxDrained, stockSnapshot, type StockSnapshot } from '../support/invariants';
import { Shopper, type OrderView } from '../support/shop';

/**
 * The checkout saga end to end on the emulator, paid through the local Stripe and PayPal fakes
 * exactly as a browser would: the happy path to COMPLETED, every forward step failing by error
 * and by timeout (compensations for what was done, in reverse order), a declined card, and
 * duplicate PaymentSucceeded events. Ends with the invariant check over all of its orders.
 * Its own product (inserted here) keeps other suites from moving the stock it counts.
 */
const PRODUCT_ID = crypto.randomUUID();
const PRICE = 1999;
const INITIAL_STOCK = 500;
const orderIds: string[] = [];
let db: Client;
let shopper: Shopper;
let baseline: StockSnapshot;

const cart = (quantity: number, paymentProvider: 'stripe' | 'paypal' = 'stripe', failurePlan?: { failAt: string; mode: 'error' | 'timeout' }) => ({
  items: [{ productId: PRODUCT_ID, quantity }],
  paymentProvider,
  ...(failurePlan ? { failurePlan } : {}),
});

async function place(body: unknown): Promise<string> {
  const res = await shopper.placeOrderRetrying(body);
  if (res.status !== 202) throw new Error(`POST /api/orders answered ${res.status}: ${JSON.stringify(res.body)}`);
  const { id } = res.body as { id: string };
  orderIds.push(id);
  return id;
}

/**
 * Pays as soon as the order is payable; a saga that fails before that is fine (returns undefined).
 * `mayBeCancelled`: the saga may cancel the session between "payable" and the payment (a step that
 * fails right after the session was created), and the provider then refuses the confirmation (400).
 */
async function payWhenPayable(id: string, opts: { decline?: boolean; mayBeCancelled?: boolean } = {}): Promise<OrderView | undefined> {
  // Up to 2 min: under this suite's own load (ten sagas at once, five of them hanging the step Lambda)
  // a first step throttled at its reserved concurrency backs off for a minute before it runs.
  const order = await shopper.awaitPayable(id, 120_000).catch(() => undefined);
  if (order) expect([200, 303, 402, ...(opts.mayBeCancelled ? [400] : [])]).toContain(await shopper.pay(order, opts));
  return order;
}

const steps = (t: { steps: Array<{ step: string; outcome: string; compensation: boolean }> }) => t.steps.map((s) => [s.step, s.outcome, s.compensation]);
const session = async (orderId: string) =>
  (await db.query<{ id: string; status: string }>('SELECT id::text, status FROM payments.payment_sessions WHERE order_id = $1', [orderId])).rows[0];
const operations = async (sessionId: string) =>
  (await db.query<{ operation: string }>('SELECT operation FROM payments.payment_operations WHERE session_id = $1 ORDER BY created_at', [sessionId])).rows.map(
    (r) => r.operation,
  );
const held = async () => (await db.query<{ stock: number; reserved: number }>('SELECT stock, reserved FROM catalog.products WHERE id = $1', [PRODUCT_ID])).rows[0];

beforeAll(async () => {
  db = new Client({ connectionString: endpoints().postgresUrl });
  await db.connect();
  await db.query(`INSERT INTO catalog.products (id, sku, name, category, price_cents, stock) VALUES ($1, $2, 'Saga matrix widget', '${TEST_DATA_CATEGORY}', $3, $4)`, [
    PRODUCT_ID,
    `saga-matrix-${PRODUCT_ID}`,
    PRICE,
    INITIAL_STOCK,
  ]);
  baseline = await stockSnapshot(db, [PRODUCT_ID]);
  shopper = await new Shopper().login();
});

afterAll(async () => {
  await db.end();
});

describe.each(['stripe', 'paypal'] as const)('happy path with %s', (provider) => {
  it('order -> COMPLETED: stock taken once, one captured payment, five steps, events published', async () => {
    const before = await held();
    const id = await place(cart(2, provider));
    const payable = await payWhenPayable(id);
    expect(payable?.payment).toMatchObject({ provider, status: 'pending' });
    if (provider === 'stripe') expect(payable?.payment?.clientSecret).toMatch(/^pi_.+_secret_/);
    else expect(payable?.payment?.approveUrl).toContain('/checkoutnow?token=');
    const t = await shopper.settled(id);
    expect(t.state).toBe('COMPLETED');
    expect(steps(t)).toEqual([
      ['ReserveStock', 'succeeded', false],
      ['CreatePaymentSession', 'succeeded', false],
      ['WaitForPayment', 'succeeded', false],
      ['CapturePayment', 'succeeded', false],
      ['CompleteOrder', 'succeeded', false],
    ]);
    expect(await held()).toEqual({ stock: before.stock - 2, reserved: before.reserved + 2 });
    const s = await session(id);
    expect(s.status).toBe('captured');
    expect(await operations(s.id)).toEqual(['capture']);
    // OrderPlaced and OrderCompleted leave through the orders outbox.
    expect(await outboxDrained(db, [id])).toBe(true);
    const { rows } = await db.query('SELECT event_type FROM orders.outbox WHERE aggregate_id = $1 ORDER BY seq', [id]);
    expect(rows.map((r) => r.event_type)).toEqual(['OrderPlaced', 'OrderCompleted']);
  });
});

/** Expected trace per failing step: the forward steps up to it, then its compensation chain. */
const FORWARD = ['ReserveStock', 'CreatePaymentSession', 'WaitForPayment', 'CapturePayment', 'CompleteOrder'];
const CHAIN: Record<string, string[]> = {
  // The failed step's own undo runs too: a timed-out step may have done its work anyway.
  ReserveStock: ['ReleaseStock', 'MarkOrderFailed'],
  CreatePaymentSession: ['CancelPaymentSession', 'ReleaseStock', 'MarkOrderFailed'],
  WaitForPayment: ['CancelPaymentSession', 'ReleaseStock', 'MarkOrderFailed'],
  CapturePayment: ['RefundPayment', 'ReleaseStock', 'MarkOrderFailed'],
  CompleteOrder: ['RefundPayment', 'ReleaseStock', 'MarkOrderFailed'],
};
/** Where the money ends for each failing step: never captured and kept. */
const PAYMENT_END: Record<string, string[] | undefined> = {
  ReserveStock: undefined,
  CreatePaymentSession: undefined,
  WaitForPayment: ['cancel'],
  CapturePayment: ['cancel'],
  CompleteOrder: ['capture', 'refund'],
};

const MATRIX = ['ReserveStock', 'CreatePaymentSession', 'WaitForPayment', 'CapturePayment', 'CompleteOrder'].flatMap((step) =>
  (['error', 'timeout'] as const).map((mode) => [step, mode] as const),
);

async function failureCase(failAt: string, mode: 'error' | 'timeout'): Promise<void> {
  const id = await place(cart(1, 'stripe', { failAt, mode }));
  // WaitForPayment failing by error fails as soon as it runs: the session is cancelled at once.
  await payWhenPayable(id, { mayBeCancelled: failAt === 'WaitForPayment' && mode === 'error' });
  const t = await shopper.settled(id, 170_000);
  expect(t.state).toBe('FAILED');
  const done = FORWARD.slice(0, FORWARD.indexOf(failAt));
  const compensations = CHAIN[failAt];
  expect(steps(t)).toEqual([...done.map((s) => [s, 'succeeded', false]), [failAt, 'failed', false], ...compensations.map((s) => [s, 'succeeded', true])]);
  // The step failed the way the plan said: by the plan's own exception (also WaitForPayment, whose
  // Lambda only registers the task token: its error must fail the task, not leave it waiting for
  // a callback until the Task times out), or by a timeout (the Lambda's own or the Task's).
  const failed = t.steps.find((s) => s.step === failAt)!;
  if (mode === 'error') {
    expect({ failAt, error: failed.error, cause: failed.cause }).toEqual({
      failAt,
      error: expect.not.stringMatching(/timeout|timedout/i),
      cause: expect.stringContaining(`failure plan: ${failAt}`),
    });
  } else {
    expect({ failAt, error: failed.error }).toEqual({ failAt, error: expect.stringMatching(/^(States\.Timeout|Sandbox\.Timedout)$/) });
  }
  const { rows } = await db.query('SELECT status FROM catalog.reservations WHERE order_id = $1', [id]);
  // Released — also after ReserveStock itself failed: the release leaves a tombstone, so a
  // reservation arriving late (a timed-out attempt still running) is refused.
  expect(rows[0]?.status).toBe('released');
  // The failure plan was for this execution: its rules ended with the saga.
  const listed = (await (await fetch(`${endpoints().apiBaseUrl}/api/chaos/rules`)).json()) as { rules: Array<{ target: { orderId?: string } }> };
  expect(listed.rules.filter((r) => r.target.orderId === id)).toEqual([]);
  const s = await session(id);
  const expectedOps = PAYMENT_END[failAt];
  if (!expectedOps) expect(s).toBeUndefined();
  else {
    expect(await operations(s.id)).toEqual(expectedOps);
    expect(['cancelled', 'refunded']).toContain(s.status);
  }
}

// All ten run at once (each on its own order); a failure names its case.
it('every forward step failing by error and by timeout: FAILED, compensations in reverse order, stock and money restored', async () => {
  const results = await Promise.allSettled(MATRIX.map(([failAt, mode]) => failureCase(failAt, mode)));
  const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${MATRIX[i].join(' × ')}: ${(r.reason as Error).message}`] : []));
  expect(failed).toEqual([]);
}, 240_000);

it('a declined card ends FAILED through the PaymentFailed event: session cancelled, stock released', async () => {
  const id = await place(cart(1));
  await payWhenPayable(id, { decline: true });
  const t = await shopper.settled(id);
  expect(t.state).toBe('FAILED');
  expect(t.steps.map((s) => s.step)).toEqual(['ReserveStock', 'CreatePaymentSession', 'WaitForPayment', 'CancelPaymentSession', 'ReleaseStock', 'MarkOrderFailed']);
  const s = await session(id);
  expect(s.status).toBe('cancelled');
  expect(await operations(s.id)).toEqual(['cancel']);
});

it('duplicate PaymentSucceeded events (same id redelivered, and a second id) capture once', async () => {
  const id = await place(cart(1));
  const payable = await payWhenPayable(id);
  const t = await shopper.settled(id);
  expect(t.state).toBe('COMPLETED');
  const s = await session(id);
  // The PaymentSucceeded that resumed the saga, republished as the mesh would redeliver it.
  const { rows } = await db.query<{ envelope: Record<string, unknown> }>(
    `SELECT envelope FROM payments.outbox WHERE aggregate_id = $1 AND event_type = 'PaymentSucceeded'`,
    [s.id],
  );
  expect(rows).toHaveLength(1);
  const original = rows[0].envelope;
  const sns = new SNSClient(awsClientConfig());
  const topicArn = endpoints().stack.PaymentsTopicArn;
  const publish = (envelope: Record<string, unknown>) =>
    sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Message: JSON.stringify(envelope),
        MessageAttributes: { type: { DataType: 'String', StringValue: 'PaymentSucceeded' }, source: { DataType: 'String', StringValue: 'payments' } },
      }),
    );
  await publish(original);
  await publish(original);
  await publish({ ...original, id: crypto.randomUUID() });
  // The Stripe fake also redelivers its webhook under the same event id: acknowledged, no effect.
  expect(payable?.payment?.providerRef).toBeTruthy();
  await new Promise((r) => setTimeout(r, 8000));
  expect(await operations(s.id)).toEqual(['capture']);
  expect((await session(id)).status).toBe('captured');
  expect((await shopper.order(id)).state).toBe('COMPLETED');
  const stripe = endpoints().paymentFakes.stripe;
  const events = (await (await fetch(`${stripe}/v1/events`, { headers: { authorization: `Bearer ${stripeKey()}` } })).json()) as {
    data: Array<{ type: string; data: { object: { id: string } } }>;
  };
  const captures = events.data.filter((e) => e.type === 'payment_intent.succeeded' && e.data.object.id === payable?.payment?.providerRef);
  expect(captures).toHaveLength(1);
});

it('invariants hold over every order of this suite', async () => {
  expect(await outboxDrained(db, orderIds)).toBe(true);
  const report = await checkInvariants(db, orderIds, baseline);
  expect(report.violations).toEqual([]);
  expect(report.orders.total).toBe(orderIds.length);
  expect(report.money.capturedForFailed).toBe(0);
});

function stripeKey(): string {
  return (localSecrets() as unknown as { stripeApiKey: string }).stripeApiKey;
}
