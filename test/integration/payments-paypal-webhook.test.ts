import { Client } from 'pg';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { endpoints } from '../support/endpoints';
import { loadPaymentsHandler, closePaymentsHandler, providerSecrets, type PaymentsHandler } from '../support/payments';
import { startPayPalFake, type PayPalFake } from '../../localstack/fakes/paypal-fake';

// testTimeout in a jest project is not applied when several projects run together.
jest.setTimeout(120_000);

/**
 * POST /webhooks/paypal through the payments API handler (in process): transmission signature
 * with a locally generated key and certificate served by the PayPal fake, webhook id from Vault.
 */
type Handler = PaymentsHandler;
let handler: Handler;
let admin: Client;
let fake: PayPalFake;
let webhookId: string;

beforeAll(async () => {
  const e = endpoints();
  fake = await startPayPalFake();
  handler = await loadPaymentsHandler({ PAYPAL_CERT_URL_PREFIXES: `${fake.url}/v1/notifications/certs/` });
  admin = new Client({ connectionString: e.postgresUrl });
  await admin.connect();
  webhookId = (await providerSecrets('paypal')).webhookId;
});

afterAll(async () => {
  await admin?.end();
  await fake?.close();
  await closePaymentsHandler();
});

const post = async (body: string, headers: Record<string, string>) => {
  const res = await handler(
    {
      httpMethod: 'POST',
      path: '/webhooks/paypal',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      isBase64Encoded: false,
      queryStringParameters: null,
      requestContext: { identity: { sourceIp: '127.0.0.1' } },
    } as unknown as APIGatewayProxyEvent,
    {} as Context,
  );
  return { status: res.statusCode, headers: res.headers, body: JSON.parse(res.body) };
};

let n = 0;
async function session() {
  const ref = `PAYPAL-ORDER-${Date.now()}-${n++}`;
  const { rows } = await admin.query<{ id: string }>(
    `INSERT INTO payments.payment_sessions (order_id, provider, provider_ref, amount_cents, currency)
     VALUES ($1, 'paypal', $2, 3100, 'usd') RETURNING id`,
    [`order-${ref}`, ref],
  );
  return { id: rows[0].id, ref };
}

const captureCompleted = (ref: string) =>
  JSON.stringify({
    id: `WH-${ref}`,
    event_type: 'PAYMENT.CAPTURE.COMPLETED',
    resource_type: 'capture',
    resource: { id: `CAP-${ref}`, status: 'COMPLETED', supplementary_data: { related_ids: { order_id: ref } } },
  });

async function state(id: string) {
  const s = await admin.query('SELECT status FROM payments.payment_sessions WHERE id = $1', [id]);
  const o = await admin.query('SELECT event_type FROM payments.outbox WHERE aggregate_id = $1', [id]);
  return { status: s.rows[0].status, outbox: o.rows.map((r) => r.event_type) };
}

describe('POST /webhooks/paypal', () => {
  it('applies a correctly signed event once even when delivered 3 times', async () => {
    const { id, ref } = await session();
    const body = captureCompleted(ref);
    const outcomes = [];
    for (let i = 0; i < 3; i++) {
      const res = await post(body, fake.sign(body, webhookId));
      expect(res.status).toBe(200);
      outcomes.push(res.body.outcome);
    }
    expect(outcomes).toEqual(['applied', 'duplicate', 'duplicate']);
    expect(await state(id)).toEqual({ status: 'succeeded', outbox: ['PaymentSucceeded'] });
  });

  it('rejects a tampered body, another webhook id, a stale transmission and a non-allow-listed cert URL with 400', async () => {
    const { id, ref } = await session();
    const body = captureCompleted(ref);
    const tampered = await post(body.replace('COMPLETED"', 'COMPLETED" '), fake.sign(body, webhookId));
    expect(tampered.status).toBe(400);
    expect(tampered.headers['content-type']).toBe('application/problem+json');
    expect((await post(body, fake.sign(body, 'WH-SOMEONE-ELSE'))).status).toBe(400);
    expect((await post(body, fake.sign(body, webhookId, { time: new Date(Date.now() - 600_000) }))).status).toBe(400);
    const evil = { ...fake.sign(body, webhookId), 'paypal-cert-url': 'https://evil.example/cert.pem' };
    expect((await post(body, evil)).status).toBe(400);
    const { 'paypal-transmission-sig': _sig, ...unsigned } = fake.sign(body, webhookId);
    expect((await post(body, unsigned)).status).toBe(400);
    expect(await state(id)).toEqual({ status: 'pending', outbox: [] });
  });

  it('maps a denied capture to PaymentFailed', async () => {
    const { id, ref } = await session();
    const body = JSON.stringify({
      id: `WH-D-${ref}`,
      event_type: 'PAYMENT.CAPTURE.DENIED',
      resource: { id: `CAP-${ref}`, supplementary_data: { related_ids: { order_id: ref } } },
    });
    const res = await post(body, fake.sign(body, webhookId));
    expect(res.body.outcome).toBe('applied');
    expect(await state(id)).toEqual({ status: 'failed', outbox: ['PaymentFailed'] });
  });
});
