import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Config } from './config';
import { eventKey, idempotent, type IdempotentOptions } from './idempotency';
import { type Database, type Queryable, withTransaction } from './db';
import { parseEnvelope, type EventEnvelope } from './events';
import { logger } from './logger';

/**
 * Idempotent consumers: the event id goes into the service's `inbox` table in the same
 * transaction as the effect; a repeat delivery finds the id there and applies nothing. This is
 * the guard that cannot be lost: the Powertools record (sqsEventHandler's `idempotency`) is written
 * after the commit, so a crash between the two leaves only the inbox to stop the repeat.
 * Concurrent deliveries of one id serialise on the primary key: the second waits for the
 * first to commit, then inserts nothing.
 */
export async function applyOnce(
  pool: Database,
  consumer: string,
  eventId: string,
  effect: (client: Queryable) => Promise<void>,
  opts: { table?: string } = {},
): Promise<boolean> {
  const table = opts.table ?? 'inbox';
  if (!/^[a-z_][a-z0-9_.]*$/.test(table)) throw new Error(`bad inbox table name ${table}`);
  return withTransaction(pool, async (client) => {
    const ins = await client.query(`INSERT INTO ${table} (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [consumer, eventId]);
    if (ins.rowCount !== 1) return false;
    await effect(client);
    return true;
  });
}

/**
 * An SQS event source handler with partial batch responses (ReportBatchItemFailures):
 * records are handled in order; a failed one is reported and the rest still run. A body
 * that is not an event envelope fails too, so it ends in the DLQ after maxReceiveCount.
 *
 * With `idempotency`, each record runs through Powertools' record-level idempotency keyed by the
 * envelope's event id (records in the service's schema, shared/idempotency-store.ts): a redelivered event returns its recorded result before any
 * database work; a record that fails leaves no record and is retried by SQS.
 */
export function sqsEventHandler(
  handle: (event: EventEnvelope, record: SQSRecord) => Promise<unknown>,
  opts: { idempotency?: IdempotentOptions & { cfg: Pick<Config, 'IDEMPOTENCY_TTL_SECONDS'> } } = {},
) {
  const once = opts.idempotency ? idempotent(opts.idempotency.cfg, opts.idempotency, handle) : undefined;
  return async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
    once?.withContext(context);
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records ?? []) {
      try {
        const envelope = parseEnvelope(record.body);
        await (once ? once.run(eventKey(envelope), envelope, record) : handle(envelope, record));
      } catch (err) {
        logger.warn('event handling failed', { messageId: record.messageId, error: (err as Error).message });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    // One line per batch: what operators look for, and the emulator's worker stops waiting for output once it sees one.
    logger.info('batch handled', { records: event.Records?.length ?? 0, failed: batchItemFailures.length });
    return { batchItemFailures };
  };
}
