-- Secrets OrderDesk makes for itself when the operator has not configured one (the
-- address encryption key without ENCRYPTION_KEYS), shared by every process.
CREATE TABLE platform.secrets (
    name       text PRIMARY KEY,
    value      bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
