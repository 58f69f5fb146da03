-- Client apps, their API keys (stored as SHA-256) and webhook endpoints.
CREATE SCHEMA IF NOT EXISTS clients;

CREATE TABLE clients.apps (
    id         uuid PRIMARY KEY,
    name       text        NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
    disabled   boolean     NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE clients.api_keys (
    id           uuid PRIMARY KEY,
    app_id       uuid        NOT NULL REFERENCES clients.apps (id) ON DELETE CASCADE,
    prefix       text        NOT NULL UNIQUE,
    hash         bytea       NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    last_used_at timestamptz
);
CREATE INDEX api_keys_app ON clients.api_keys (app_id);

CREATE TABLE clients.webhooks (
    id         uuid PRIMARY KEY,
    app_id     uuid        NOT NULL REFERENCES clients.apps (id) ON DELETE CASCADE,
    url        text        NOT NULL CHECK (length(url) <= 2000),
    secret     text        NOT NULL,
    active     boolean     NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_app ON clients.webhooks (app_id);
