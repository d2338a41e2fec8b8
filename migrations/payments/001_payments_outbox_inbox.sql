-- Payments: sessions, provider webhook inbox, consumer inbox, transactional outbox, audit.
-- Runs as payments_owner with search_path payments.

-- One payment session per order (the idempotency key of POST /internal/payment-sessions).
CREATE TABLE payment_sessions (
  id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  order_id      text        NOT NULL UNIQUE CHECK (length(order_id) BETWEEN 1 AND 200),
  provider      text        NOT NULL CHECK (provider IN ('stripe', 'paypal')),
  provider_ref  text,
  amount_cents  bigint      NOT NULL CHECK (amount_cents > 0),
  currency      text        NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
  status        text        NOT NULL DEFAULT 'pending'
                            CHECK (status IN ('pending', 'authorized', 'succeeded', 'failed', 'captured', 'cancelled', 'refunded')),
  client_secret text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX payment_sessions_provider_ref ON payment_sessions (provider, provider_ref) WHERE provider_ref IS NOT NULL;

-- Every capture / cancel / refund is recorded once; a repeat returns the recorded result.
CREATE TABLE payment_operations (
  session_id  uuid        NOT NULL REFERENCES payment_sessions (id),
  operation   text        NOT NULL CHECK (operation IN ('capture', 'cancel', 'refund')),
  result      jsonb       NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (session_id, operation)
);

-- Provider webhooks: one row per provider event id, written in the transaction that applies it.
CREATE TABLE webhook_inbox (
  provider    text        NOT NULL CHECK (provider IN ('stripe', 'paypal')),
  event_id    text        NOT NULL,
  event_type  text        NOT NULL,
  outcome     text        NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider, event_id)
);

-- Event consumers (functions/shared/inbox.ts): event id recorded with the effect.
CREATE TABLE inbox (
  consumer     text        NOT NULL,
  event_id     text        NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);

-- Transactional outbox (functions/shared/events.ts): published in seq order per aggregate.
CREATE TABLE outbox (
  seq            bigserial   PRIMARY KEY,
  event_id       uuid        NOT NULL UNIQUE,
  aggregate_type text        NOT NULL,
  aggregate_id   text        NOT NULL,
  event_type     text        NOT NULL,
  envelope       jsonb       NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  sent_at        timestamptz,
  attempts       integer     NOT NULL DEFAULT 0
);
CREATE INDEX outbox_unsent ON outbox (seq) WHERE sent_at IS NULL;
CREATE INDEX outbox_unsent_aggregate ON outbox (aggregate_id, seq) WHERE sent_at IS NULL;

-- The payments-audit consumer's effect: one row per event delivered through the mesh.
CREATE TABLE event_audit (
  event_id     text        PRIMARY KEY,
  event_type   text        NOT NULL,
  source       text        NOT NULL,
  aggregate_id text,
  deliveries   integer     NOT NULL DEFAULT 1,
  envelope     jsonb       NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now()
);
