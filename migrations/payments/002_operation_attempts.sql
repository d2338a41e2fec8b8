-- Provider idempotency keys for capture / cancel / refund include this counter: a call the
-- provider refused (its result is stored under its key) is retried later under a new key.
ALTER TABLE payment_sessions ADD COLUMN operation_attempts integer NOT NULL DEFAULT 0;
