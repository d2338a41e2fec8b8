import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { endpoints } from '../support/endpoints';
import { loadPaymentsHandler, closePaymentsHandler } from '../support/payments';
import { startStripeFake, type StripeFake } from '../../localstack/fakes/stripe-fake';

// testTimeout in a jest project is not applied when several projects run together.
jest.setTimeout(120_000);

/**
 * Payment sessions through the payments API handler (in process) with the official Stripe SDK
 * pointed at the stateful Stripe fake: idempotent create per order, capture / cancel / refund
 * applied once at the provider and recorded once, with one outbox event each.
 */
type Res = { statusCode: number; headers: Record<string, string>; body: string };
type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<Res>;
let handler: Handler;
let admin: Client;
let fake: StripeFake;

beforeAll(async () => {
  const e = endpoints();
  fake = await startStripeFake();
  handler = await loadPaymentsHandler({ STRIPE_API_BASE: fake.url });
  admin = new Client({ connectionString: e.postgresUrl });
  await admin.connect();
});

afterAll(async () => {
  await admin?.end();
  await fake?.close();
  await closePaymentsHandler();
});

const call = async (method: string, path: string, body?: unknown) => {
  const res = await handler(
    {
      httpMethod: method,
      path,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
      isBase64Encoded: false,
      queryStringParameters: null,
      // As API Gateway passes a caller it verified by IAM (the saga step's role).
      requestContext: { identity: { sourceIp: '127.0.0.1', userArn: 'arn:aws:sts::000000000000:assumed-role/saga-step-role/saga-step' } },
    } as unknown as APIGatewayProxyEvent,
    {} as Context,
  );
  return { status: res.statusCode, headers: res.headers, body: res.body ? JSON.parse(res.body) : undefined };
};

const callsTo = (suffix: string) => fake.calls.filter((c) => c.path.endsWith(suffix)).length;
const outboxTypes = async (sessionId: string) =>
  (await admin.query('SELECT event_type FROM payments.outbox WHERE aggregate_id = $1 ORDER BY seq', [sessionId])).rows.map((r) => r.event_type);

async function newSession(amountCents = 2500) {
  const orderId = `order-${randomUUID()}`;
  const res = await call('POST', '/internal/payment-sessions', { orderId, amountCents, currency: 'EUR', provider: 'stripe' });
  expect(res.status).toBe(201);
  return { orderId, session: res.body as { id: string; providerRef: string; status: string; clientSecret: string } };
}

describe('payment sessions (Stripe fake)', () => {
  it('creates one session and one PaymentIntent per order, however often and concurrently it is asked', async () => {
    const orderId = `order-${randomUUID()}`;
    const body = { orderId, amountCents: 1234, currency: 'eur' };
    const before = callsTo('/v1/payment_intents');
    const results = await Promise.all([1, 2, 3].map(() => call('POST', '/internal/payment-sessions', body)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 201]);
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    const again = await call('POST', '/internal/payment-sessions', body);
    expect(again.status).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toMatchObject({ id: results[0].body.id, orderId, amountCents: 1234, currency: 'eur', status: 'pending', provider: 'stripe' });
    expect(callsTo('/v1/payment_intents') - before).toBe(1);
    const pi = fake.intents.get(again.body.providerRef)!;
    expect(pi).toMatchObject({ amount: 1234, currency: 'eur', capture_method: 'manual', metadata: { orderId, sessionId: again.body.id } });

    const other = await call('POST', '/internal/payment-sessions', { ...body, amountCents: 999 });
    expect(other.status).toBe(422);
  });

  it('captures once: refused before authorisation, then applied once however often it is called', async () => {
    const { session } = await newSession();
    const early = await call('POST', `/internal/payment-sessions/${session.id}/capture`);
    expect(early.status).toBe(409);
    expect(await outboxTypes(session.id)).toEqual([]);

    await fetch(`${fake.url}/_fake/payment_intents/${session.providerRef}/authorize`, { method: 'POST' });
    const before = callsTo('/capture');
    const results = await Promise.all([1, 2, 3].map(() => call('POST', `/internal/payment-sessions/${session.id}/capture`)));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(results.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(2);
    expect(callsTo('/capture') - before).toBe(1);
    expect(results[0].body.session.status).toBe('captured');
    expect(fake.intents.get(session.providerRef)!.status).toBe('succeeded');
    expect(await outboxTypes(session.id)).toEqual(['PaymentCaptured']);

    // Refund once, then nothing more can happen to the money.
    const r1 = await call('POST', `/internal/payment-sessions/${session.id}/refund`);
    const r2 = await call('POST', `/internal/payment-sessions/${session.id}/refund`);
    expect([r1.status, r2.status]).toEqual([200, 200]);
    expect(r2.headers['idempotent-replayed']).toBe('true');
    expect(r2.body.operation).toEqual(r1.body.operation);
    expect(callsTo('/v1/refunds')).toBeGreaterThanOrEqual(1);
    expect((await call('POST', `/internal/payment-sessions/${session.id}/cancel`)).status).toBe(409);
    expect(await outboxTypes(session.id)).toEqual(['PaymentCaptured', 'PaymentRefunded']);
    const ops = await admin.query('SELECT operation FROM payments.payment_operations WHERE session_id = $1 ORDER BY created_at', [session.id]);
    expect(ops.rows.map((r) => r.operation)).toEqual(['capture', 'refund']);
  });

  it('cancels once and refuses to capture or refund a cancelled session', async () => {
    const { session } = await newSession();
    const c1 = await call('POST', `/internal/payment-sessions/${session.id}/cancel`);
    const c2 = await call('POST', `/internal/payment-sessions/${session.id}/cancel`);
    expect([c1.status, c2.status]).toEqual([200, 200]);
    expect(c1.body.session.status).toBe('cancelled');
    expect(c2.headers['idempotent-replayed']).toBe('true');
    expect(fake.intents.get(session.providerRef)!.status).toBe('canceled');
    expect((await call('POST', `/internal/payment-sessions/${session.id}/capture`)).status).toBe(409);
    expect((await call('POST', `/internal/payment-sessions/${session.id}/refund`)).status).toBe(409);
    expect(await outboxTypes(session.id)).toEqual(['PaymentCancelled']);
  });

  it('answers unknown sessions with 404 and bad bodies with 400 problem+json', async () => {
    expect((await call('POST', `/internal/payment-sessions/${randomUUID()}/capture`)).status).toBe(404);
    expect((await call('GET', '/internal/payment-sessions/not-a-uuid')).status).toBe(404);
    const bad = await call('POST', '/internal/payment-sessions', { orderId: '', amountCents: -1, currency: 'euro' });
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toBe('application/problem+json');
  });
});
