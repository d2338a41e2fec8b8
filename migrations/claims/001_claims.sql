-- Claims: the public Idempotency-Key contract. One row per (principal, key).
-- state: in_flight (an owner holds the lease until lease_expires_at), completed (the final
-- response is stored and replayed), failed (a 5xx or a release: the next claim takes it over).
CREATE TABLE claims (
  id               uuid        PRIMARY KEY,
  principal        text        NOT NULL CHECK (length(principal) BETWEEN 1 AND 512),
  key              text        NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  fingerprint      text        NOT NULL CHECK (length(fingerprint) BETWEEN 1 AND 128),
  state            text        NOT NULL CHECK (state IN ('in_flight', 'completed', 'failed')),
  lease_token      uuid        NOT NULL,
  lease_expires_at timestamptz NOT NULL,
  attempts         integer     NOT NULL DEFAULT 1 CHECK (attempts > 0),
  response_status  integer     CHECK (response_status BETWEEN 100 AND 599),
  response_headers jsonb,
  response_body    text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  expires_at       timestamptz NOT NULL,
  CONSTRAINT claims_principal_key_uq UNIQUE (principal, key),
  CONSTRAINT claims_completed_has_response CHECK (state <> 'completed' OR response_status IS NOT NULL)
);
-- The purge deletes by expiry.
CREATE INDEX claims_expires_at_idx ON claims (expires_at);
