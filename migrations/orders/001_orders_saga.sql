-- Orders: the order aggregate driven by the checkout saga, consumer inbox, transactional outbox.
-- Runs as orders_owner with search_path orders.

CREATE TABLE orders (
  id              uuid        PRIMARY KEY,
  customer_id     text        NOT NULL,
  items           jsonb       NOT NULL,
  amount_cents    bigint      NOT NULL CHECK (amount_cents >= 0),
  currency        text        NOT NULL DEFAULT 'eur',
  payment_provider text       NOT NULL CHECK (payment_provider IN ('stripe', 'paypal')),
  state           text        NOT NULL DEFAULT 'PENDING'
                              CHECK (state IN ('PENDING', 'RESERVED', 'AWAITING_PAYMENT', 'PAID', 'COMPLETED',
                                               'COMPENSATING', 'FAILED', 'NEEDS_ATTENTION')),
  execution_arn   text,
  payment_session_id text,
  task_token      text,
  failure_reason  text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_customer ON orders (customer_id, created_at DESC);

-- Event consumers (functions/shared/inbox.ts).
CREATE TABLE inbox (
  consumer     text        NOT NULL,
  event_id     text        NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);

-- Transactional outbox (functions/shared/events.ts).
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
