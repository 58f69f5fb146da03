-- Ordering: shipping methods, orders with their lines (price, name and weight
-- snapshotted), status history, idempotency keys of client apps, and help messages.
CREATE SCHEMA IF NOT EXISTS ordering;

CREATE TABLE ordering.shipping_methods (
    id               uuid PRIMARY KEY,
    name             text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    service_code     text        NOT NULL CHECK (length(service_code) BETWEEN 1 AND 20),
    package_format   text        NOT NULL CHECK (package_format IN ('letter', 'largeLetter', 'smallParcel', 'mediumParcel', 'parcel')),
    price_minor      bigint      NOT NULL CHECK (price_minor >= 0),
    max_weight_grams integer     NOT NULL CHECK (max_weight_grams > 0),
    express          boolean     NOT NULL DEFAULT false,
    active           boolean     NOT NULL DEFAULT true,
    position         integer     NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE SEQUENCE ordering.order_number_seq START 10001;

CREATE TABLE ordering.orders (
    id                    uuid PRIMARY KEY,
    number                text        NOT NULL UNIQUE,
    app_id                uuid        NOT NULL,
    identity_ref          text        NOT NULL CHECK (length(identity_ref) BETWEEN 1 AND 128),
    status                text        NOT NULL CHECK (status IN ('pending_payment', 'processing', 'picked', 'shipped',
                                        'delivered', 'on_hold', 'cancelled', 'expired', 'refunded')),
    shipping_method_id    uuid        NOT NULL REFERENCES ordering.shipping_methods (id),
    shipping_name         text        NOT NULL,
    shipping_service_code text        NOT NULL,
    package_format        text        NOT NULL,
    express               boolean     NOT NULL DEFAULT false,
    subtotal_minor        bigint      NOT NULL CHECK (subtotal_minor >= 0),
    shipping_minor        bigint      NOT NULL CHECK (shipping_minor >= 0),
    total_minor           bigint      NOT NULL CHECK (total_minor = subtotal_minor + shipping_minor),
    currency              text        NOT NULL DEFAULT 'GBP',
    weight_grams          integer     NOT NULL CHECK (weight_grams > 0),
    address_sealed        bytea       NOT NULL,
    note                  text        NOT NULL DEFAULT '',
    cancel_reason         text        NOT NULL DEFAULT '',
    refund_due            boolean     NOT NULL DEFAULT false,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_client ON ordering.orders (app_id, identity_ref, created_at DESC, id DESC);
CREATE INDEX orders_status ON ordering.orders (status, created_at, id);
CREATE INDEX orders_created ON ordering.orders (created_at DESC, id DESC);

CREATE TABLE ordering.order_lines (
    order_id         uuid    NOT NULL REFERENCES ordering.orders (id) ON DELETE CASCADE,
    line_no          integer NOT NULL,
    product_id       uuid    NOT NULL,
    name             text    NOT NULL,
    sku              text,
    unit_price_minor bigint  NOT NULL CHECK (unit_price_minor >= 0),
    quantity         integer NOT NULL CHECK (quantity BETWEEN 1 AND 999),
    weight_unit      text    NOT NULL,
    weight_milli     bigint,
    unit_weight_grams integer NOT NULL CHECK (unit_weight_grams > 0),
    line_total_minor bigint  NOT NULL CHECK (line_total_minor = unit_price_minor * quantity),
    PRIMARY KEY (order_id, line_no)
);

CREATE TABLE ordering.history (
    id         bigserial PRIMARY KEY,
    order_id   uuid        NOT NULL REFERENCES ordering.orders (id) ON DELETE CASCADE,
    status     text        NOT NULL,
    at         timestamptz NOT NULL DEFAULT now(),
    actor_kind text        NOT NULL,
    actor      text        NOT NULL DEFAULT '',
    note       text        NOT NULL DEFAULT ''
);
CREATE INDEX history_order ON ordering.history (order_id, id);

CREATE TABLE ordering.idempotency_keys (
    app_id       uuid        NOT NULL,
    key          text        NOT NULL,
    request_hash bytea       NOT NULL,
    order_id     uuid        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (app_id, key)
);
CREATE INDEX idempotency_created ON ordering.idempotency_keys (created_at);

CREATE TABLE ordering.messages (
    id          uuid PRIMARY KEY,
    order_id    uuid        NOT NULL REFERENCES ordering.orders (id) ON DELETE CASCADE,
    author_kind text        NOT NULL CHECK (author_kind IN ('customer', 'staff')),
    author      text        NOT NULL DEFAULT '',
    body        text        NOT NULL CHECK (length(body) BETWEEN 1 AND 4000),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_order ON ordering.messages (order_id, created_at, id);

-- Internal notes of staff on an order: never shown to the customer or the client app.
CREATE TABLE ordering.notes (
    id         uuid PRIMARY KEY,
    order_id   uuid        NOT NULL REFERENCES ordering.orders (id) ON DELETE CASCADE,
    author     text        NOT NULL,
    body       text        NOT NULL CHECK (length(body) BETWEEN 1 AND 4000),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notes_order ON ordering.notes (order_id, created_at, id);
