import { PaymentError } from '../../functions/payments/core/errors';
import { ProviderRejected } from '../../functions/payments/core/gateway';
import { replayLatestWebhook, type AppliedWebhook, type WebhookReplayPorts } from '../../functions/payments/core/webhook-replay';

/** The payments card's demo core over in-memory ports: which event it replays, and what it reports. */
const applied = (eventId: string): AppliedWebhook => ({
  provider: 'stripe',
  eventId,
  eventType: 'payment_intent.amount_capturable_updated',
  receivedAt: '2026-12-04T20:00:00.000Z',
});
const row = { seq: 7, eventId: 'e-7', eventType: 'PaymentSucceeded', createdAt: '2026-12-04T20:00:00.000Z', sentAt: '2026-12-04T20:00:01.000Z' };

function ports(over: Partial<WebhookReplayPorts> = {}): WebhookReplayPorts & { delivered: string[] } {
  const delivered: string[] = [];
  return {
    delivered,
    recentApplied: async () => [applied('evt_test_only'), applied('evt_real')],
    // The newest was sent by a test straight to the webhook: Stripe does not have it.
    fetchEvent: async (id) => {
      if (id === 'evt_test_only') throw new ProviderRejected('No such event', 'resource_missing');
      return JSON.stringify({ id, object: 'event' });
    },
    outboxRowsFor: async () => [row],
    deliver: async (payload) => {
      delivered.push(payload);
      return { status: 200, duplicate: true, outcome: 'duplicate' };
    },
    ...over,
  };
}

it('replays the newest applied event the provider still has, and reports the outbox before and after', async () => {
  const p = ports();
  const evidence = await replayLatestWebhook(p);
  expect(evidence.event.eventId).toBe('evt_real');
  expect(p.delivered).toEqual([JSON.stringify({ id: 'evt_real', object: 'event' })]);
  expect(evidence).toMatchObject({ outboxBefore: [row], outboxAfter: [row], replay: { duplicate: true, outcome: 'duplicate' } });
});

it('refuses with nothingToReplay when no applied event is left to replay', async () => {
  await expect(replayLatestWebhook(ports({ recentApplied: async () => [] }))).rejects.toMatchObject({ code: 'nothingToReplay' });
  await expect(replayLatestWebhook(ports({ recentApplied: async () => [applied('evt_test_only')] }))).rejects.toBeInstanceOf(PaymentError);
});

it('passes a provider outage on (it is not "not found")', async () => {
  const outage = ports({
    fetchEvent: async () => {
      throw new Error('connect ECONNREFUSED');
    },
  });
  await expect(replayLatestWebhook(outage)).rejects.toThrow('ECONNREFUSED');
  expect(outage.delivered).toEqual([]);
});
