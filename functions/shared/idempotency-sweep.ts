import type { Queryable } from './db';

/**
 * The table of Powertools' idempotency records in a service's schema (migrations/<service>/
 * NNN_idempotency_records.sql; the layer is idempotency-store.ts), and the clean-up of its expired
 * rows. Apart from the layer so the outbox dispatcher, which runs the clean-up, does not bundle
 * Powertools' idempotency.
 */
export const IDEMPOTENCY_TABLE = 'idempotency_records';

/**
 * Deletes expired records (`expiry < now`: what the put would overwrite anyway), oldest first, at
 * most `limit` per call, so one sweep holds no long lock and never competes with a put for the
 * same rows (SKIP LOCKED). Returns how many went. Run by the outbox dispatcher's scheduled sweep.
 */
export async function sweepExpiredIdempotencyRecords(db: Queryable, opts: { limit?: number; now?: number } = {}): Promise<number> {
  const limit = opts.limit ?? 500;
  const now = opts.now ?? Date.now();
  const res = await db.query(
    `DELETE FROM ${IDEMPOTENCY_TABLE} WHERE id IN (
       SELECT id FROM ${IDEMPOTENCY_TABLE} WHERE expiry < $1 ORDER BY expiry LIMIT $2 FOR UPDATE SKIP LOCKED)`,
    [now / 1000, limit],
  );
  return res.rowCount ?? 0;
}
