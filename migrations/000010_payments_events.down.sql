DROP SCHEMA IF EXISTS sandbox CASCADE;
DROP TABLE IF EXISTS payments.webhook_inbox;
DROP TABLE IF EXISTS payments.status_history;
DROP TABLE IF EXISTS payments.payments;
DROP INDEX IF EXISTS payments.invoices_open;
DROP INDEX IF EXISTS payments.invoices_expired;
ALTER TABLE payments.invoices
    DROP COLUMN subtotal_minor, DROP COLUMN shipping_minor, DROP COLUMN gateway_status, DROP COLUMN additional_status,
    DROP COLUMN received_minor, DROP COLUMN received_sats, DROP COLUMN overpaid_minor, DROP COLUMN rate_pence,
    DROP COLUMN settled_at, DROP COLUMN synced_at, DROP COLUMN refund_id, DROP COLUMN refund_link,
    DROP COLUMN refund_policy, DROP COLUMN refund_minor;
