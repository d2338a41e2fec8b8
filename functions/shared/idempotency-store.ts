import { IdempotencyItemAlreadyExistsError, IdempotencyItemNotFoundError, IdempotencyRecordStatus } from '@aws-lambda-powertools/idempotency';
import { BasePersistenceLayer, IdempotencyRecord } from '@aws-lambda-powertools/idempotency/persistence';
import type { Queryable } from './db';
import { IDEMPOTENCY_TABLE } from './idempotency-sweep';

/**
 * Powertools' idempotency records in the service's own Postgres schema (`idempotency_records`,
 * migrations/<service>/NNN_idempotency_records.sql), over the service's Vault-leased pool: the
 * persistence layer the saga step and the event consumers run Powertools' idempotency on.
 *
 * It does what Powertools' DynamoDB layer (2.35, DynamoDBPersistenceLayer) does, statement for
 * request: a consistent read by id; a put that succeeds only when the id is absent, or its record
 * expired (`expiry < now`, epoch seconds), or it is INPROGRESS with an in-progress expiry that
 * lapsed (`in_progress_expiry < now`, epoch ms), and otherwise throws
 * IdempotencyItemAlreadyExistsError carrying the record that is there; an update that sets
 * expiry, status (and the result, the payload hash) and creates the row if it is gone; a delete
 * by id. Times are compared with this process's clock, as that layer does with `:now`: the same
 * clock Powertools computed the record's timestamps with.
 *
 * Expired rows: the put for the same id overwrites one (as DynamoDB's condition allows); the rest
 * are deleted in bounded batches by `sweepExpiredIdempotencyRecords` (idempotency-sweep.ts), which the
 * service's outbox dispatcher runs on its one-minute EventBridge sweep (shared/mesh.ts), in place of
 * DynamoDB's TTL.
 * Nothing else reads a lapsed row: Powertools treats a record past its expiry as absent.
 */

/** What the layer runs on: the service's LeasedPool (renewed or rotated before each use) or any pool (tests). */
export type RecordDb = Queryable & { ensureFresh?(): Promise<void> };

interface Row {
  id: string;
  status: string;
  expiry: number;
  in_progress_expiry: number | null;
  /** jsonb as text: SQL NULL (no result stored) stays apart from a stored JSON `null`. */
  data: string | null;
  validation: string | null;
}

const COLUMNS = 'id, status, expiry, in_progress_expiry, data::text AS data, validation';

/** An id taken between our put and our read (deleted by a failed call) is put again: at most this many tries. */
const PUT_ATTEMPTS = 3;

export class PostgresPersistenceLayer extends BasePersistenceLayer {
  constructor(private readonly db: RecordDb) {
    super();
  }

  private async ready(): Promise<Queryable> {
    // The handler renews its lease at the start of its work, which runs after the put: do it here first.
    await this.db.ensureFresh?.();
    return this.db;
  }

  protected async _getRecord(idempotencyKey: string): Promise<IdempotencyRecord> {
    const row = await this.read(await this.ready(), idempotencyKey);
    if (!row) throw new IdempotencyItemNotFoundError();
    return toRecord(row);
  }

  protected async _putRecord(record: IdempotencyRecord): Promise<void> {
    const db = await this.ready();
    const validation = this.isPayloadValidationEnabled() && record.payloadHash !== undefined ? record.payloadHash : null;
    for (let attempt = 1; ; attempt++) {
      const now = Date.now();
      // One statement, atomic like DynamoDB's conditional PutItem: the row is replaced whole (no
      // result), and only when the condition holds for the row that is there.
      const put = await db.query(
        `INSERT INTO ${IDEMPOTENCY_TABLE} AS r (id, status, expiry, in_progress_expiry, data, validation)
         VALUES ($1, $2, $3, $4, NULL, $5)
         ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, expiry = EXCLUDED.expiry,
           in_progress_expiry = EXCLUDED.in_progress_expiry, data = NULL, validation = EXCLUDED.validation
         WHERE r.expiry < $6
            OR (r.status = $7 AND r.in_progress_expiry IS NOT NULL AND r.in_progress_expiry < $8)`,
        [
          record.idempotencyKey,
          record.getStatus(),
          record.expiryTimestamp,
          record.inProgressExpiryTimestamp ?? null,
          validation,
          now / 1000,
          IdempotencyRecordStatus.INPROGRESS,
          now,
        ],
      );
      if (put.rowCount === 1) return;
      // The condition failed: DynamoDB returns the item that is there (ReturnValuesOnConditionCheckFailure: ALL_OLD).
      const existing = await this.read(db, record.idempotencyKey);
      if (existing) {
        throw new IdempotencyItemAlreadyExistsError(`Failed to put record for already existing idempotency key: ${record.idempotencyKey}`, toRecord(existing));
      }
      // Deleted in between (the call holding it failed): the id is absent now, so the put may succeed.
      if (attempt >= PUT_ATTEMPTS) throw new IdempotencyItemAlreadyExistsError(`Failed to put record for already existing idempotency key: ${record.idempotencyKey}`);
    }
  }

  protected async _updateRecord(record: IdempotencyRecord): Promise<void> {
    const db = await this.ready();
    // UpdateItem is an upsert: it sets these attributes and leaves the others (in_progress_expiry) as they are.
    const sets = ['status = EXCLUDED.status', 'expiry = EXCLUDED.expiry'];
    if (record.responseData !== undefined) sets.push('data = EXCLUDED.data');
    if (this.isPayloadValidationEnabled()) sets.push('validation = EXCLUDED.validation');
    await db.query(
      `INSERT INTO ${IDEMPOTENCY_TABLE} (id, status, expiry, data, validation) VALUES ($1, $2, $3, $4::jsonb, $5)
       ON CONFLICT (id) DO UPDATE SET ${sets.join(', ')}`,
      [
        record.idempotencyKey,
        record.getStatus(),
        record.expiryTimestamp,
        record.responseData === undefined ? null : JSON.stringify(record.responseData),
        this.isPayloadValidationEnabled() ? (record.payloadHash ?? null) : null,
      ],
    );
  }

  protected async _deleteRecord(record: IdempotencyRecord): Promise<void> {
    const db = await this.ready();
    await db.query(`DELETE FROM ${IDEMPOTENCY_TABLE} WHERE id = $1`, [record.idempotencyKey]);
  }

  private async read(db: Queryable, id: string): Promise<Row | undefined> {
    const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM ${IDEMPOTENCY_TABLE} WHERE id = $1`, [id]);
    return rows[0];
  }
}

function toRecord(row: Row): IdempotencyRecord {
  return new IdempotencyRecord({
    idempotencyKey: row.id,
    status: row.status as (typeof IdempotencyRecordStatus)[keyof typeof IdempotencyRecordStatus],
    expiryTimestamp: row.expiry,
    inProgressExpiryTimestamp: row.in_progress_expiry ?? undefined,
    responseData: row.data === null ? undefined : JSON.parse(row.data),
    payloadHash: row.validation ?? undefined,
  });
}
