import type { Queryable } from '../../shared/db';
import type { AppliedWebhook, OutboxRowEvidence } from '../core/webhook-replay';

/** Postgres side of the webhook replay demo (core/webhook-replay.ts): the webhook inbox and the outbox. */
export async function recentAppliedStripeEvents(db: Queryable, limit: number): Promise<AppliedWebhook[]> {
  const { rows } = await db.query<{ event_id: string; event_type: string; received_at: Date }>(
    `SELECT event_id, event_type, received_at FROM webhook_inbox
      WHERE provider = 'stripe' AND outcome = 'applied' ORDER BY received_at DESC LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({ provider: 'stripe', eventId: r.event_id, eventType: r.event_type, receivedAt: r.received_at.toISOString() }));
}

export async function outboxRowsForProviderEvent(db: Queryable, providerEventId: string): Promise<OutboxRowEvidence[]> {
  const { rows } = await db.query<{ seq: string; event_id: string; event_type: string; created_at: Date; sent_at: Date | null }>(
    `SELECT seq, event_id, event_type, created_at, sent_at FROM outbox
      WHERE envelope -> 'data' ->> 'providerEventId' = $1 ORDER BY seq`,
    [providerEventId],
  );
  return rows.map((r) => ({
    seq: Number(r.seq),
    eventId: r.event_id,
    eventType: r.event_type,
    createdAt: r.created_at.toISOString(),
    sentAt: r.sent_at?.toISOString() ?? null,
  }));
}
