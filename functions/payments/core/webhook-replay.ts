import { PaymentError } from './errors';
import { ProviderRejected } from './gateway';

/** How many recent applied events to try: one the provider no longer has (or never sent: a test's) is skipped. */
const CANDIDATES = 5;

/**
 * The payments card's demo (/reference): the latest provider event we applied is delivered again,
 * signed with our webhook secret, through the same verification and apply path a provider's
 * delivery takes. The evidence: the first delivery changed a session and wrote one outbox row
 * (dispatched when its sent time is set); the replay is acknowledged as a duplicate and the outbox
 * still holds that one row. Nothing new can happen: the event was applied before.
 */
export interface AppliedWebhook {
  provider: 'stripe';
  eventId: string;
  eventType: string;
  receivedAt: string;
}

export interface OutboxRowEvidence {
  seq: number;
  eventId: string;
  eventType: string;
  createdAt: string;
  /** When the dispatcher published it to SNS; null while it waits. */
  sentAt: string | null;
}

export interface WebhookReplayPorts {
  /** The most recent provider events that changed a session (webhook inbox outcome `applied`), newest first. */
  recentApplied(limit: number): Promise<AppliedWebhook[]>;
  /** The outbox rows written for a provider event (its payment event carries providerEventId). */
  outboxRowsFor(providerEventId: string): Promise<OutboxRowEvidence[]>;
  /** The provider's copy of the event (Stripe: GET /v1/events/{id}), as the JSON it delivers. */
  fetchEvent(eventId: string): Promise<string>;
  /** A delivery of `payload` as the provider would make it: signed, through our webhook route. */
  deliver(payload: string): Promise<{ status: number; duplicate: boolean; outcome: string }>;
}

export interface WebhookReplayEvidence {
  event: AppliedWebhook;
  outboxBefore: OutboxRowEvidence[];
  replay: { status: number; duplicate: boolean; outcome: string };
  outboxAfter: OutboxRowEvidence[];
}

export async function replayLatestWebhook(ports: WebhookReplayPorts): Promise<WebhookReplayEvidence> {
  for (const event of await ports.recentApplied(CANDIDATES)) {
    let payload: string;
    try {
      payload = await ports.fetchEvent(event.eventId);
    } catch (err) {
      if (err instanceof ProviderRejected) continue; // not at the provider: try an older one
      throw err;
    }
    const outboxBefore = await ports.outboxRowsFor(event.eventId);
    const replay = await ports.deliver(payload);
    const outboxAfter = await ports.outboxRowsFor(event.eventId);
    return { event, outboxBefore, replay, outboxAfter };
  }
  throw new PaymentError('nothingToReplay', 'No Stripe webhook that Stripe still has has been applied yet: place and pay an order first');
}
