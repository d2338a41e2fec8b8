import Stripe from 'stripe';
import type { SQSEvent } from 'aws-lambda';
import { stripeToProviderEvent, verifyStripeEvent } from '../../functions/payments/adapters/stripe-webhook';
import { paypalSignedMessage, paypalToProviderEvent } from '../../functions/payments/adapters/paypal-webhook';
import { newEvent, parseEnvelope } from '../../functions/shared/events';
import { sqsEventHandler } from '../../functions/shared/inbox';
import { HttpProblem } from '../../functions/shared/problem';

const stripe = new Stripe('sk_test_unit');
const secret = 'whsec_unit_test_secret';
const payload = JSON.stringify({
  id: 'evt_unit_1',
  object: 'event',
  type: 'payment_intent.succeeded',
  data: { object: { id: 'pi_unit_1', object: 'payment_intent', metadata: { orderId: 'o-1' } } },
});

const status = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err instanceof HttpProblem ? err.status : -1;
  }
  return 0;
};

describe('Stripe webhook verification', () => {
  it('accepts a correctly signed, fresh payload', () => {
    const header = stripe.webhooks.generateTestHeaderString({ payload, secret });
    const ev = verifyStripeEvent(Buffer.from(payload), header, secret);
    expect(ev.id).toBe('evt_unit_1');
    expect(stripeToProviderEvent(ev)).toMatchObject({ provider: 'stripe', eventId: 'evt_unit_1', providerRef: 'pi_unit_1', outcome: 'succeeded' });
  });

  it('rejects a tampered body, a wrong secret, a missing header and a stale timestamp with 400', () => {
    const header = stripe.webhooks.generateTestHeaderString({ payload, secret });
    expect(status(() => verifyStripeEvent(Buffer.from(payload.replace('pi_unit_1', 'pi_unit_2')), header, secret))).toBe(400);
    expect(status(() => verifyStripeEvent(Buffer.from(payload), header, 'whsec_other'))).toBe(400);
    expect(status(() => verifyStripeEvent(Buffer.from(payload), undefined, secret))).toBe(400);
    const stale = stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp: Math.floor(Date.now() / 1000) - 301 });
    expect(status(() => verifyStripeEvent(Buffer.from(payload), stale, secret))).toBe(400);
    // Inside the 5-minute tolerance is fine.
    const recent = stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp: Math.floor(Date.now() / 1000) - 240 });
    expect(status(() => verifyStripeEvent(Buffer.from(payload), recent, secret))).toBe(0);
  });

  it('maps failures and ignores event types with no payment outcome', () => {
    const failed = { id: 'evt_2', type: 'payment_intent.payment_failed', data: { object: { id: 'pi_2', last_payment_error: { message: 'card declined' } } } };
    expect(stripeToProviderEvent(failed as unknown as Stripe.Event)).toMatchObject({ outcome: 'failed', failureMessage: 'card declined' });
    const other = { id: 'evt_3', type: 'charge.updated', data: { object: { id: 'ch_3' } } };
    expect(stripeToProviderEvent(other as unknown as Stripe.Event).outcome).toBeUndefined();
  });
});

describe('event envelope', () => {
  it('round-trips raw and SNS-wrapped bodies and rejects anything else', () => {
    const ev = newEvent('PaymentSucceeded', 'payments', { sessionId: 's-1' }, { correlationId: 'c-1' });
    expect(parseEnvelope(JSON.stringify(ev))).toEqual(ev);
    expect(parseEnvelope(JSON.stringify({ Type: 'Notification', Message: JSON.stringify(ev) }))).toEqual(ev);
    expect(() => parseEnvelope(JSON.stringify({ marker: 'poison' }))).toThrow();
    expect(() => parseEnvelope('not json')).toThrow();
  });
});

describe('sqsEventHandler', () => {
  it('reports only the failed records (partial batch response)', async () => {
    const good = newEvent('PaymentSucceeded', 'payments', { n: 1 });
    const boom = newEvent('PaymentFailed', 'payments', { n: 2 });
    const seen: string[] = [];
    const handler = sqsEventHandler(async (ev) => {
      if (ev.id === boom.id) throw new Error('effect failed');
      seen.push(ev.id);
    });
    const records = [
      { messageId: 'm1', body: JSON.stringify(good) },
      { messageId: 'm2', body: JSON.stringify(boom) },
      { messageId: 'm3', body: '{"marker":"poison"}' },
    ];
    const res = await handler({ Records: records } as unknown as SQSEvent);
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm2' }, { itemIdentifier: 'm3' }]);
    expect(seen).toEqual([good.id]);
  });
});

describe('PayPal event mapping', () => {
  it('signs id|time|webhookId|crc32(body) with the CRC as an unsigned decimal', () => {
    // CRC-32 of "123456789" is 0xCBF43926 = 3421780262 (the standard check value).
    expect(paypalSignedMessage('tid', '2026-01-01T00:00:00Z', 'WH-1', Buffer.from('123456789'))).toBe('tid|2026-01-01T00:00:00Z|WH-1|3421780262');
  });

  it('maps capture and order events to outcomes and the PayPal order id', () => {
    expect(
      paypalToProviderEvent({ id: 'WH-1', event_type: 'PAYMENT.CAPTURE.COMPLETED', resource: { id: 'CAP', supplementary_data: { related_ids: { order_id: 'ORD' } } } }),
    ).toMatchObject({ outcome: 'succeeded', providerRef: 'ORD' });
    expect(paypalToProviderEvent({ id: 'WH-2', event_type: 'CHECKOUT.ORDER.APPROVED', resource: { id: 'ORD2' } })).toMatchObject({
      outcome: 'succeeded',
      providerRef: 'ORD2',
    });
    expect(
      paypalToProviderEvent({ id: 'WH-3', event_type: 'PAYMENT.CAPTURE.DENIED', resource: { supplementary_data: { related_ids: { order_id: 'ORD3' } } } }),
    ).toMatchObject({ outcome: 'failed' });
    expect(paypalToProviderEvent({ id: 'WH-4', event_type: 'BILLING.PLAN.CREATED' }).outcome).toBeUndefined();
  });
});
