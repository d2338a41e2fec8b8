import type { Queryable } from '../../shared/db';
import type { EventEnvelope } from '../../shared/events';

/**
 * The audit consumer's effect. `deliveries` counts applications: with the inbox guard it
 * stays 1 however often SQS redelivers; without it a test would see it grow.
 */
export async function recordAudit(client: Queryable, event: EventEnvelope): Promise<void> {
  const aggregateId = typeof event.data.sessionId === 'string' ? event.data.sessionId : null;
  await client.query(
    `INSERT INTO event_audit (event_id, event_type, source, aggregate_id, envelope) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (event_id) DO UPDATE SET deliveries = event_audit.deliveries + 1`,
    [event.id, event.type, event.source, aggregateId, JSON.stringify(event)],
  );
}
