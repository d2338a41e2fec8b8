-- Catalog: products with stock, and per-order stock reservations for the checkout saga.
-- `stock` is the available quantity; `reserved` counts units held by open reservations.
CREATE TABLE products (
  id          uuid        PRIMARY KEY,
  sku         text        NOT NULL UNIQUE,
  name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  category    text        NOT NULL,
  price_cents integer     NOT NULL CHECK (price_cents >= 0),
  stock       integer     NOT NULL DEFAULT 0 CHECK (stock >= 0),
  reserved    integer     NOT NULL DEFAULT 0 CHECK (reserved >= 0),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX products_category_name_idx ON products (category, name, id);
CREATE INDEX products_name_idx ON products (lower(name), id);

-- One row per order: the idempotency record of reserve/release.
CREATE TABLE reservations (
  order_id    uuid        PRIMARY KEY,
  status      text        NOT NULL CHECK (status IN ('reserved', 'released')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  released_at timestamptz
);

CREATE TABLE reservation_items (
  order_id   uuid    NOT NULL REFERENCES reservations (order_id) ON DELETE CASCADE,
  product_id uuid    NOT NULL REFERENCES products (id),
  quantity   integer NOT NULL CHECK (quantity > 0),
  PRIMARY KEY (order_id, product_id)
);
CREATE INDEX reservation_items_product_idx ON reservation_items (product_id);
