import type { Queryable } from '../../shared/db';
import { appendOutbox, newEvent } from '../../shared/events';
import { AGGREGATE, PAYMENTS_SOURCE, PaymentEventType } from './events';

/**
 * Applying a verified provider event: in one transaction, record the event id in the
 * webhook inbox (a duplicate stops here), move the session, and append the outbox row.
 */
export interface ProviderEvent {
  provider: 'stripe' | 'paypal';
  eventId: string;
  eventType: string;
  /** The provider's id of the payment (Stripe PaymentIntent id, PayPal order id). */
  providerRef?: string;
  /** What the event means for the session, or undefined when we ignore this type. */
  outcome?: 'succeeded' | 'failed';
  /** Funds are held (manual capture) rather than collected: the session becomes `authorized`. */
  authorizedOnly?: boolean;
  /** orderId / sessionId the provider echoes back in metadata, if any. */
  metadata?: Record<string, string>;
  failureMessage?: string;
}

export interface ApplyResult {
  duplicate: boolean;
  outcome: 'applied' | 'ignored' | 'unknown-session' | 'duplicate' | 'no-transition';
  sessionId?: string;
  eventId?: string;
}

interface SessionRow {
  id: string;
  order_id: string;
  provider: string;
  amount_cents: string;
  currency: string;
  status: string;
}

export async function applyProviderEvent(client: Queryable, ev: ProviderEvent, correlationId: string): Promise<ApplyResult> {
  // Lock the session first (if any), then claim the event id: concurrent deliveries serialise.
  const inserted = await client.query(
    `INSERT INTO webhook_inbox (provider, event_id, event_type, outcome) VALUES ($1, $2, $3, 'received')
     ON CONFLICT DO NOTHING`,
    [ev.provider, ev.eventId, ev.eventType],
  );
  if (inserted.rowCount !== 1) return { duplicate: true, outcome: 'duplicate' };

  const record = async (outcome: ApplyResult['outcome']) => {
    await client.query('UPDATE webhook_inbox SET outcome = $3 WHERE provider = $1 AND event_id = $2', [ev.provider, ev.eventId, outcome]);
  };
  if (!ev.outcome) {
    await record('ignored');
    return { duplicate: false, outcome: 'ignored' };
  }
  const { rows } = await client.query<SessionRow>(
    `SELECT id, order_id, provider, amount_cents, currency, status FROM payment_sessions
      WHERE provider = $1 AND (provider_ref = $2 OR ($3::text IS NOT NULL AND id::text = $3))
      LIMIT 1 FOR UPDATE`,
    [ev.provider, ev.providerRef ?? null, ev.metadata?.sessionId ?? null],
  );
  const session = rows[0];
  if (!session) {
    await record('unknown-session');
    return { duplicate: false, outcome: 'unknown-session' };
  }
  // Success moves only a pending session (one PaymentSucceeded per session); failure a pending or
  // authorized one. A late or out-of-order outcome changes nothing.
  const from = ev.outcome === 'succeeded' ? ['pending'] : ['pending', 'authorized'];
  if (!from.includes(session.status)) {
    await record('no-transition');
    return { duplicate: false, outcome: 'no-transition', sessionId: session.id };
  }
  const status = ev.outcome === 'failed' ? 'failed' : ev.authorizedOnly ? 'authorized' : 'succeeded';
  await client.query('UPDATE payment_sessions SET status = $2, updated_at = now() WHERE id = $1', [session.id, status]);
  const event = newEvent(
    ev.outcome === 'succeeded' ? PaymentEventType.succeeded : PaymentEventType.failed,
    PAYMENTS_SOURCE,
    {
      sessionId: session.id,
      orderId: session.order_id,
      provider: ev.provider,
      amountCents: Number(session.amount_cents),
      currency: session.currency,
      providerEventId: ev.eventId,
      ...(ev.outcome === 'succeeded' ? { captured: !ev.authorizedOnly } : {}),
      ...(ev.failureMessage ? { reason: ev.failureMessage } : {}),
    },
    { correlationId },
  );
  await appendOutbox(client, event, { aggregateType: AGGREGATE, aggregateId: session.id });
  await record('applied');
  return { duplicate: false, outcome: 'applied', sessionId: session.id, eventId: event.id };
}
