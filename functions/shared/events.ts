import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { type Database, type Queryable, withTransaction } from './db';
import { logger } from './logger';

/**
 * The one event envelope of the mesh, the transactional outbox writer, and the generic
 * dispatcher core. Any service with an `outbox` table in its schema (see
 * migrations/payments/001_*.sql for the shape) reuses these.
 */
export const EventEnvelopeSchema = z.object({
  id: z.string().uuid(),
  type: z.string().min(1).max(100),
  occurredAt: z.string().datetime({ offset: true }),
  source: z.string().min(1),
  correlationId: z.string().min(1),
  data: z.record(z.string(), z.unknown()),
});
export type EventEnvelope<D extends Record<string, unknown> = Record<string, unknown>> = Omit<z.infer<typeof EventEnvelopeSchema>, 'data'> & { data: D };

export function newEvent<D extends Record<string, unknown>>(
  type: string,
  source: string,
  data: D,
  opts: { correlationId?: string; id?: string; occurredAt?: Date } = {},
): EventEnvelope<D> {
  const id = opts.id ?? randomUUID();
  return {
    id,
    type,
    occurredAt: (opts.occurredAt ?? new Date()).toISOString(),
    source,
    correlationId: opts.correlationId ?? id,
    data,
  };
}

/** Parses an envelope from a queue body; throws on anything else. */
export function parseEnvelope(body: string): EventEnvelope {
  let value: unknown = JSON.parse(body);
  // Non-raw SNS delivery wraps the message: accept both.
  if (value && typeof value === 'object' && (value as { Type?: string }).Type === 'Notification') {
    value = JSON.parse((value as { Message: string }).Message);
  }
  return EventEnvelopeSchema.parse(value) as EventEnvelope;
}

export interface OutboxTarget {
  aggregateType: string;
  aggregateId: string;
}

/**
 * Appends an event to the outbox. Call it with the client of the transaction that makes
 * the state change, so both commit or neither does. The table is resolved through the
 * caller's search_path (each service's own schema).
 */
export async function appendOutbox(client: Queryable, event: EventEnvelope, target: OutboxTarget): Promise<void> {
  EventEnvelopeSchema.parse(event);
  await client.query(
    `INSERT INTO outbox (event_id, aggregate_type, aggregate_id, event_type, envelope)
     VALUES ($1, $2, $3, $4, $5)`,
    [event.id, target.aggregateType, target.aggregateId, event.type, JSON.stringify(event)],
  );
}

export interface OutboxRow {
  seq: string;
  eventId: string;
  aggregateId: string;
  eventType: string;
  envelope: EventEnvelope;
}

export type Publish = (event: EventEnvelope, row: OutboxRow) => Promise<void>;

export interface DispatchResult {
  published: number;
  batches: number;
  failed?: string;
}

/**
 * Publishes unsent outbox rows and marks them sent.
 *
 * Each batch is one transaction: it locks the oldest unsent row of each aggregate
 * (`FOR UPDATE SKIP LOCKED`, so concurrent dispatchers take disjoint rows and never
 * publish a row twice while it is locked), publishes them in seq order, then marks the
 * published ones sent. A later row of an aggregate is only taken once every earlier row
 * of it is sent, which keeps per-aggregate order across dispatchers. If the process dies
 * after publish and before commit, the lock is released and the row is published again:
 * delivery is at-least-once, and consumers dedupe by event id (inbox).
 */
export async function dispatchOutbox(pool: Database, publish: Publish, opts: { batchSize?: number; maxBatches?: number; table?: string } = {}): Promise<DispatchResult> {
  const batchSize = opts.batchSize ?? 50;
  const maxBatches = opts.maxBatches ?? 20;
  const table = opts.table ?? 'outbox';
  if (!/^[a-z_][a-z0-9_.]*$/.test(table)) throw new Error(`bad outbox table name ${table}`);
  let published = 0;
  let batches = 0;
  for (; batches < maxBatches; ) {
    const outcome = await withTransaction(pool, async (client) => {
      const { rows } = await client.query<{
        seq: string;
        event_id: string;
        aggregate_id: string;
        event_type: string;
        envelope: EventEnvelope;
      }>(
        `SELECT o.seq, o.event_id, o.aggregate_id, o.event_type, o.envelope
           FROM ${table} o
          WHERE o.sent_at IS NULL
            AND NOT EXISTS (SELECT 1 FROM ${table} p
                             WHERE p.aggregate_id = o.aggregate_id AND p.sent_at IS NULL AND p.seq < o.seq)
          ORDER BY o.seq
          LIMIT $1
          FOR UPDATE SKIP LOCKED`,
        [batchSize],
      );
      const done: string[] = [];
      let failed: string | undefined;
      for (const r of rows) {
        try {
          await publish(r.envelope, {
            seq: r.seq,
            eventId: r.event_id,
            aggregateId: r.aggregate_id,
            eventType: r.event_type,
            envelope: r.envelope,
          });
          done.push(r.seq);
        } catch (err) {
          failed = (err as Error).message;
          logger.warn('outbox publish failed', { eventId: r.event_id, error: failed });
          await client.query(`UPDATE ${table} SET attempts = attempts + 1 WHERE seq = $1`, [r.seq]);
          break;
        }
      }
      if (done.length) {
        await client.query(`UPDATE ${table} SET sent_at = now(), attempts = attempts + 1 WHERE seq = ANY($1::bigint[])`, [done]);
      }
      return { count: done.length, selected: rows.length, failed };
    });
    batches++;
    published += outcome.count;
    if (outcome.failed) return { published, batches, failed: outcome.failed };
    if (outcome.selected === 0) break;
  }
  return { published, batches };
}

/** Pending count and the age of the oldest unsent row (ops surface). */
export async function outboxStats(db: Queryable, table = 'outbox'): Promise<{ pending: number; oldestAgeSeconds: number | null }> {
  const { rows } = await db.query<{ pending: number; age: number | null }>(
    `SELECT count(*)::int AS pending, EXTRACT(EPOCH FROM now() - min(created_at))::float AS age FROM ${table} WHERE sent_at IS NULL`,
  );
  const r = rows[0];
  return { pending: r.pending, oldestAgeSeconds: r.age === null ? null : Math.round(r.age * 10) / 10 };
}
