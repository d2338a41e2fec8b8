-- Identity: user accounts. Runs as identity_owner with search_path identity.
-- Emails are stored lower-cased (the service normalises them), so one plain UNIQUE
-- constraint stops duplicates and serves as the ON CONFLICT target.
CREATE TABLE users (
  id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  email         text        NOT NULL UNIQUE CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
  password_hash text        NOT NULL,
  roles         text[]      NOT NULL DEFAULT ARRAY['customer']::text[]
                            CHECK (cardinality(roles) > 0 AND roles <@ ARRAY['customer', 'admin']::text[]),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
