-- Lambda-level idempotency records of the saga step and the payment-events consumer: Powertools'
-- records, kept by functions/shared/idempotency-store.ts (PostgresPersistenceLayer) on the
-- service's own leased pool. Replaces the DynamoDB table. Times are Powertools' numbers:
-- `expiry` epoch seconds, `in_progress_expiry` epoch milliseconds (double precision, as DynamoDB's
-- numbers, so a fractional value round-trips). Expired rows are overwritten by the next put for
-- their id and deleted in batches by the outbox dispatcher's one-minute sweep.
CREATE TABLE idempotency_records (
  id                 text             PRIMARY KEY,
  status             text             NOT NULL CHECK (status IN ('INPROGRESS', 'COMPLETED', 'EXPIRED')),
  expiry             double precision NOT NULL,
  in_progress_expiry double precision,
  data               jsonb,
  validation         text
);
CREATE INDEX idempotency_records_expiry ON idempotency_records (expiry);
