-- Payments: what BTCPay tells us and what we keep of it. The invoice row gains the
-- gateway's own status, the order's split (for the ledger), overpayment and refund;
-- every payment is a row; every change of payment status is a history row; every
-- webhook delivery is kept (the inbox) before it is acted on.
ALTER TABLE payments.invoices
    ADD COLUMN subtotal_minor    bigint NOT NULL DEFAULT 0,
    ADD COLUMN shipping_minor    bigint NOT NULL DEFAULT 0,
    ADD COLUMN gateway_status    text   NOT NULL DEFAULT '',
    ADD COLUMN additional_status text   NOT NULL DEFAULT '',
    ADD COLUMN received_minor    bigint NOT NULL DEFAULT 0,
    ADD COLUMN received_sats     bigint NOT NULL DEFAULT 0,
    ADD COLUMN overpaid_minor    bigint NOT NULL DEFAULT 0,
    ADD COLUMN rate_pence        bigint NOT NULL DEFAULT 0,
    ADD COLUMN settled_at        timestamptz,
    ADD COLUMN synced_at         timestamptz,
    ADD COLUMN refund_id         text   NOT NULL DEFAULT '',
    ADD COLUMN refund_link       text   NOT NULL DEFAULT '',
    ADD COLUMN refund_policy     text   NOT NULL DEFAULT '',
    ADD COLUMN refund_minor      bigint NOT NULL DEFAULT 0;
CREATE INDEX invoices_open ON payments.invoices (expires_at)
    WHERE status IN ('pending', 'confirming', 'partially_paid');
CREATE INDEX invoices_expired ON payments.invoices (updated_at) WHERE status = 'expired';

-- One row per payment received (an on-chain output or a Lightning payment).
CREATE TABLE payments.payments (
    invoice_id   text        NOT NULL,
    payment_id   text        NOT NULL,
    order_id     uuid        NOT NULL REFERENCES payments.invoices (order_id),
    order_number text        NOT NULL,
    method       text        NOT NULL,
    txid         text        NOT NULL,
    amount_sats  bigint      NOT NULL,
    rate_pence   bigint      NOT NULL,
    value_minor  bigint      NOT NULL,
    destination  text        NOT NULL DEFAULT '',
    status       text        NOT NULL CHECK (status IN ('confirming', 'settled', 'invalid')),
    received_at  timestamptz NOT NULL,
    confirmed_at timestamptz,
    PRIMARY KEY (invoice_id, payment_id)
);
CREATE INDEX payments_received ON payments.payments (received_at DESC, invoice_id, payment_id);
CREATE INDEX payments_order ON payments.payments (order_id);

-- The payment status history of each order.
CREATE TABLE payments.status_history (
    id                bigserial PRIMARY KEY,
    order_id          uuid        NOT NULL REFERENCES payments.invoices (order_id),
    status            text        NOT NULL,
    gateway_status    text        NOT NULL DEFAULT '',
    additional_status text        NOT NULL DEFAULT '',
    source            text        NOT NULL,
    note              text        NOT NULL DEFAULT '',
    at                timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX status_history_order ON payments.status_history (order_id, id);

-- The inbox of the gateway's webhook deliveries, keyed by the original delivery id so
-- that redeliveries are recognised.
CREATE TABLE payments.webhook_inbox (
    delivery_id  text PRIMARY KEY,
    provider     text        NOT NULL,
    event_type   text        NOT NULL,
    store_id     text        NOT NULL DEFAULT '',
    invoice_id   text        NOT NULL DEFAULT '',
    body         bytea       NOT NULL,
    deliveries   int         NOT NULL DEFAULT 1,
    outcome      text        NOT NULL DEFAULT 'queued',
    received_at  timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz
);
CREATE INDEX webhook_inbox_received ON payments.webhook_inbox (received_at DESC);

-- The sandbox gateway's own invoices (an adapter's table, development only), shared by
-- every process.
CREATE SCHEMA IF NOT EXISTS sandbox;
CREATE TABLE sandbox.invoices (
    id         text PRIMARY KEY,
    order_id   text        NOT NULL UNIQUE,
    data       jsonb       NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
