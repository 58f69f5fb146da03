-- Payments: the invoice of each order at the payment gateway (BTCPay or the sandbox).
CREATE SCHEMA IF NOT EXISTS payments;

CREATE TABLE payments.invoices (
    order_id      uuid PRIMARY KEY,
    order_number  text        NOT NULL,
    provider      text        NOT NULL,
    invoice_id    text UNIQUE,
    status        text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'confirming', 'paid', 'partially_paid',
                                'overpaid', 'paid_late', 'expired', 'invalid', 'refunded')),
    amount_minor  bigint      NOT NULL CHECK (amount_minor > 0),
    currency      text        NOT NULL DEFAULT 'GBP',
    expires_at    timestamptz,
    checkout_link text        NOT NULL DEFAULT '',
    methods       jsonb       NOT NULL DEFAULT '[]',
    last_error    text        NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX invoices_status ON payments.invoices (status);
