import { setTimeout as sleep } from 'node:timers/promises';
import Stripe from 'stripe';
import { Client } from 'pg';
import { GetQueueAttributesCommand, GetQueueUrlCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { newEvent } from '../../functions/shared/events';
import { awsClientConfig, endpoints } from '../support/endpoints';
import { signedFetch } from '../support/signed-fetch';
import { providerSecrets } from '../support/payments';

// testTimeout in a jest project is not applied when several projects run together.
jest.setTimeout(180_000);

/**
 * Done-when of the payments issue on the emulator: a signed Stripe webhook through the public
 * API -> payments Lambda (state + outbox in one transaction) -> dispatcher (after-commit kick)
 * -> SNS payments topic -> payments-audit SQS queue -> consumer Lambda -> exactly one audit row.
 */
const e = endpoints();
const stripe = new Stripe('sk_test_e2e');
let admin: Client;
let secret: string;

beforeAll(async () => {
  admin = new Client({ connectionString: e.postgresUrl });
  await admin.connect();
  secret = (await providerSecrets('stripe')).webhookSecret;
});

afterAll(async () => {
  await admin?.end();
});

async function newSession() {
  const pi = `pi_e2e_${Date.now()}_${Math.random().toString(36).slice(2, 8)}`;
  const { rows } = await admin.query<{ id: string }>(
    `INSERT INTO payments.payment_sessions (order_id, provider, provider_ref, amount_cents, currency)
     VALUES ($1, 'stripe', $2, 1999, 'eur') RETURNING id`,
    [`order-${pi}`, pi],
  );
  return { id: rows[0].id, pi };
}

const send = (body: string, signature: string) =>
  fetch(`${e.apiBaseUrl}/webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': signature },
    body,
  });

const audits = async (sessionId: string) =>
  (await admin.query('SELECT event_id, event_type, deliveries FROM payments.event_audit WHERE aggregate_id = $1', [sessionId])).rows;

describe('payments through the public API and the event mesh', () => {
  it('a signed Stripe webhook delivered 3 times leads to exactly one event at the audit consumer', async () => {
    const { id, pi } = await newSession();
    const body = JSON.stringify({ id: `evt_${pi}`, object: 'event', type: 'payment_intent.succeeded', data: { object: { id: pi, object: 'payment_intent' } } });
    const outcomes: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await send(body, stripe.webhooks.generateTestHeaderString({ payload: body, secret }));
      expect(res.status).toBe(200);
      outcomes.push(((await res.json()) as { outcome: string }).outcome);
    }
    expect(outcomes).toEqual(['applied', 'duplicate', 'duplicate']);

    let rows: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 90 && rows.length === 0; i++) {
      rows = await audits(id);
      if (rows.length === 0) await sleep(1000);
    }
    expect(rows).toEqual([{ event_id: expect.any(String), event_type: 'PaymentSucceeded', deliveries: 1 }]);
    const outbox = await admin.query('SELECT event_id::text, sent_at FROM payments.outbox WHERE aggregate_id = $1', [id]);
    expect(outbox.rows).toHaveLength(1);
    expect(outbox.rows[0].event_id).toBe(rows[0].event_id);
    expect(outbox.rows[0].sent_at).not.toBeNull();

    // Nothing more arrives later (no second publish, no second application).
    await sleep(3000);
    expect(await audits(id)).toEqual(rows);
  });

  it('rejects a tampered webhook with 400 problem+json and publishes nothing', async () => {
    const { id, pi } = await newSession();
    const body = JSON.stringify({ id: `evt_${pi}`, object: 'event', type: 'payment_intent.succeeded', data: { object: { id: pi, object: 'payment_intent' } } });
    const header = stripe.webhooks.generateTestHeaderString({ payload: body, secret });
    const res = await send(body.replace('"object":"event"', '"object":"evil"'), header);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const stale = stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp: Math.floor(Date.now() / 1000) - 600 });
    expect((await send(body, stale)).status).toBe(400);
    const s = await admin.query('SELECT status FROM payments.payment_sessions WHERE id = $1', [id]);
    expect(s.rows[0].status).toBe('pending');
    expect((await admin.query('SELECT 1 FROM payments.outbox WHERE aggregate_id = $1', [id])).rows).toHaveLength(0);
  });

  it('the payments-audit queue has a DLQ, and redrive moves its messages back to the consumer, which applies them once', async () => {
    const sqs = new SQSClient(awsClientConfig());
    const urlOf = async (QueueName: string) => (await sqs.send(new GetQueueUrlCommand({ QueueName }))).QueueUrl!;
    const queueUrl = await urlOf('checkout-mesh-payments-audit');
    const dlqUrl = await urlOf('checkout-mesh-payments-audit-dlq');
    const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }));
    expect(Number(JSON.parse(attrs.Attributes!.RedrivePolicy!).maxReceiveCount)).toBeGreaterThan(1);

    // An event that ended in the DLQ (e.g. the database was down for every retry), twice.
    const { id } = await newSession();
    const event = newEvent('PaymentSucceeded', 'payments', { sessionId: id, orderId: 'redrive-test' });
    for (let i = 0; i < 2; i++) {
      await sqs.send(
        new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: JSON.stringify(event), MessageAttributes: { type: { DataType: 'String', StringValue: event.type } } }),
      );
    }
    const res = await signedFetch(`${e.services.payments}/ops/dlq/payments-audit/redrive`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { moved: number }).moved).toBeGreaterThanOrEqual(2);

    let rows: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 60 && rows.length === 0; i++) {
      rows = await audits(id);
      if (rows.length === 0) await sleep(1000);
    }
    await sleep(2000);
    expect(await audits(id)).toEqual([{ event_id: event.id, event_type: 'PaymentSucceeded', deliveries: 1 }]);

    const unknown = await signedFetch(`${e.services.payments}/ops/dlq/no-such-queue/redrive`, { method: 'POST' });
    expect(unknown.status).toBe(404);
  });

  it('GET /ops/outbox reports the pending count and the oldest age', async () => {
    const res = await signedFetch(`${e.services.payments}/ops/outbox`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { pending: number; oldestAgeSeconds: number | null };
    expect(body.pending).toEqual(expect.any(Number));
    expect(body.oldestAgeSeconds === null || typeof body.oldestAgeSeconds === 'number').toBe(true);
  });

  it('a poison message ends in the payments-audit DLQ after maxReceiveCount failed batches, and redrive brings it back', async () => {
    const sqs = new SQSClient(awsClientConfig());
    const urlOf = async (QueueName: string) => (await sqs.send(new GetQueueUrlCommand({ QueueName }))).QueueUrl!;
    const queueUrl = await urlOf('checkout-mesh-payments-audit');
    const dlqUrl = await urlOf('checkout-mesh-payments-audit-dlq');
    const marker = `poison-${Date.now()}`;
    // Not an event envelope: the consumer Lambda reports it in batchItemFailures on every receive.
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify({ marker }) }));
    const inDlq = async () => {
      // A short visibility timeout (not 0): with more than 10 messages parked (earlier runs), the
      // next receives show the others instead of the same ten.
      const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, WaitTimeSeconds: 1, VisibilityTimeout: 3, MaxNumberOfMessages: 10 }));
      return (got.Messages ?? []).some((m) => m.Body?.includes(marker));
    };
    // maxReceiveCount (3) x visibility timeout (30 s) on the emulator: about 90 s.
    let found = false;
    const deadline = Date.now() + 200_000;
    while (!found && Date.now() < deadline) found = await inDlq();
    expect(found).toBe(true);
    // Let the probe's visibility timeout lapse, so the redrive sees the message.
    await new Promise((r) => setTimeout(r, 3500));

    const res = await signedFetch(`${e.services.payments}/ops/dlq/payments-audit/redrive`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { moved: number }).moved).toBeGreaterThanOrEqual(1);
    // Back on the main queue (being retried by the consumer), no longer in the DLQ.
    expect(await inDlq()).toBe(false);
  }, 260_000);
});
