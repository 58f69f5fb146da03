-- Stock reserved by orders: one row per order and product. Releasing or committing a
-- reservation is idempotent: only a 'held' row changes the product's counters.
CREATE TABLE catalog.reservations (
    order_id   uuid        NOT NULL,
    product_id uuid        NOT NULL REFERENCES catalog.products (id),
    quantity   integer     NOT NULL CHECK (quantity > 0),
    -- counted: the product tracked stock when reserved, so its reserved counter holds it.
    counted    boolean     NOT NULL,
    status     text        NOT NULL DEFAULT 'held' CHECK (status IN ('held', 'released', 'committed')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (order_id, product_id)
);
CREATE INDEX reservations_held ON catalog.reservations (product_id) WHERE status = 'held';
