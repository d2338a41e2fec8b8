import Stripe from 'stripe';
import { Client } from 'pg';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { endpoints } from '../support/endpoints';
import { loadPaymentsHandler, closePaymentsHandler, providerSecrets, type PaymentsHandler } from '../support/payments';

// testTimeout in a jest project is not applied when several projects run together.
jest.setTimeout(120_000);

/**
 * POST /webhooks/stripe through the payments API handler, in process, on real Postgres and
 * the real Vault secret: signature checks, one effect per event id, outbox row in the same
 * transaction. (The after-commit kick is off here: DISPATCHER_FUNCTION_NAME is unset.)
 */
type Handler = PaymentsHandler;
let handler: Handler;
let admin: Client;
let secret: string;
const stripe = new Stripe('sk_test_integration');

beforeAll(async () => {
  const e = endpoints();
  handler = await loadPaymentsHandler();
  admin = new Client({ connectionString: e.postgresUrl });
  await admin.connect();
  secret = (await providerSecrets('stripe')).webhookSecret;
});

afterAll(async () => {
  await admin?.end();
  await closePaymentsHandler();
});

const post = (body: string, signature?: string) =>
  handler(
    {
      httpMethod: 'POST',
      path: '/webhooks/stripe',
      headers: { 'content-type': 'application/json', ...(signature ? { 'Stripe-Signature': signature } : {}) },
      body,
      isBase64Encoded: false,
      queryStringParameters: null,
      requestContext: { identity: { sourceIp: '127.0.0.1' } },
    } as unknown as APIGatewayProxyEvent,
    {} as Context,
  );

let n = 0;
async function session() {
  const pi = `pi_it_${Date.now()}_${n++}`;
  const { rows } = await admin.query<{ id: string }>(
    `INSERT INTO payments.payment_sessions (order_id, provider, provider_ref, amount_cents, currency)
     VALUES ($1, 'stripe', $2, 4200, 'eur') RETURNING id`,
    [`order-${pi}`, pi],
  );
  return { id: rows[0].id, pi };
}

const stripeEvent = (pi: string, type = 'payment_intent.succeeded') =>
  JSON.stringify({ id: `evt_${pi}_${type.length}`, object: 'event', type, data: { object: { id: pi, object: 'payment_intent' } } });

async function state(sessionId: string, pi: string) {
  const s = await admin.query('SELECT status FROM payments.payment_sessions WHERE id = $1', [sessionId]);
  const o = await admin.query('SELECT event_type, envelope FROM payments.outbox WHERE aggregate_id = $1', [sessionId]);
  const w = await admin.query("SELECT outcome FROM payments.webhook_inbox WHERE provider = 'stripe' AND event_id LIKE $1", [`evt_${pi}%`]);
  return { status: s.rows[0].status as string, outbox: o.rows, inbox: w.rows.map((r) => r.outcome as string) };
}

describe('POST /webhooks/stripe', () => {
  it('applies a signed event once even when it is delivered 3 times', async () => {
    const { id, pi } = await session();
    const body = stripeEvent(pi);
    const results = [];
    for (let i = 0; i < 3; i++) {
      const res = await post(body, stripe.webhooks.generateTestHeaderString({ payload: body, secret }));
      results.push({ status: res.statusCode, ...(JSON.parse(res.body) as { duplicate: boolean; outcome: string }) });
    }
    expect(results.map((r) => [r.status, r.outcome])).toEqual([
      [200, 'applied'],
      [200, 'duplicate'],
      [200, 'duplicate'],
    ]);
    const s = await state(id, pi);
    expect(s.status).toBe('succeeded');
    expect(s.inbox).toEqual(['applied']);
    expect(s.outbox).toHaveLength(1);
    expect(s.outbox[0].event_type).toBe('PaymentSucceeded');
    expect(s.outbox[0].envelope).toMatchObject({
      type: 'PaymentSucceeded',
      source: 'payments',
      data: { sessionId: id, orderId: `order-${pi}`, amountCents: 4200, currency: 'eur', provider: 'stripe' },
    });
  });

  it('applies concurrent deliveries of one event once', async () => {
    const { id, pi } = await session();
    const body = stripeEvent(pi, 'payment_intent.payment_failed');
    const header = stripe.webhooks.generateTestHeaderString({ payload: body, secret });
    const results = await Promise.all([post(body, header), post(body, header), post(body, header)]);
    expect(results.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    expect(results.filter((r) => JSON.parse(r.body).outcome === 'applied')).toHaveLength(1);
    const s = await state(id, pi);
    expect(s.status).toBe('failed');
    expect(s.outbox.map((r) => r.event_type)).toEqual(['PaymentFailed']);
  });

  it('rejects a tampered body with 400 problem+json and touches nothing', async () => {
    const { id, pi } = await session();
    const body = stripeEvent(pi);
    const header = stripe.webhooks.generateTestHeaderString({ payload: body, secret });
    const res = await post(body.replace('payment_intent.succeeded', 'payment_intent.payment_failed'), header);
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(res.body)).toMatchObject({ status: 400, type: expect.stringMatching(/validation-error$/) });
    expect(await state(id, pi)).toEqual({ status: 'pending', outbox: [], inbox: [] });
  });

  it('rejects a stale timestamp, a wrong secret and a missing signature with 400', async () => {
    const { id, pi } = await session();
    const body = stripeEvent(pi);
    const stale = stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp: Math.floor(Date.now() / 1000) - 600 });
    expect((await post(body, stale)).statusCode).toBe(400);
    const wrong = stripe.webhooks.generateTestHeaderString({ payload: body, secret: 'whsec_not_the_secret' });
    expect((await post(body, wrong)).statusCode).toBe(400);
    expect((await post(body)).statusCode).toBe(400);
    expect(await state(id, pi)).toEqual({ status: 'pending', outbox: [], inbox: [] });
    // The same event, correctly signed, still applies afterwards.
    const good = await post(body, stripe.webhooks.generateTestHeaderString({ payload: body, secret }));
    expect(JSON.parse(good.body).outcome).toBe('applied');
  });

  it('acknowledges event types without a payment outcome and unknown payment intents without effects', async () => {
    const { id, pi } = await session();
    const other = stripeEvent(pi, 'charge.updated');
    const res = await post(other, stripe.webhooks.generateTestHeaderString({ payload: other, secret }));
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body).outcome).toBe('ignored');
    const unknown = stripeEvent(`${pi}_nobody`);
    const res2 = await post(unknown, stripe.webhooks.generateTestHeaderString({ payload: unknown, secret }));
    expect(JSON.parse(res2.body).outcome).toBe('unknown-session');
    const s = await state(id, pi);
    expect(s.status).toBe('pending');
    expect(s.outbox).toEqual([]);
  });

  it('an authorisation (manual capture) emits one PaymentSucceeded and a later succeeded event adds nothing', async () => {
    const { id, pi } = await session();
    const held = stripeEvent(pi, 'payment_intent.amount_capturable_updated');
    const r1 = await post(held, stripe.webhooks.generateTestHeaderString({ payload: held, secret }));
    expect(JSON.parse(r1.body).outcome).toBe('applied');
    const s1 = await state(id, pi);
    expect(s1.status).toBe('authorized');
    expect(s1.outbox.map((r) => r.envelope.data.captured)).toEqual([false]);
    const done = stripeEvent(pi, 'payment_intent.succeeded');
    const r2 = await post(done, stripe.webhooks.generateTestHeaderString({ payload: done, secret }));
    expect(JSON.parse(r2.body).outcome).toBe('no-transition');
    expect((await state(id, pi)).outbox).toHaveLength(1);
  });
});
