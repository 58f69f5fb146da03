-- Outbound webhooks: the events published to client apps, one delivery of an event per
-- webhook, and every attempt at a delivery. Webhooks are deleted softly so that their
-- deliveries stay visible.
ALTER TABLE clients.webhooks
    ADD COLUMN deleted_at        timestamptz,
    ADD COLUMN secret_rotated_at timestamptz;

CREATE TABLE clients.events (
    id         uuid PRIMARY KEY,
    app_id     uuid        NOT NULL REFERENCES clients.apps (id) ON DELETE CASCADE,
    type       text        NOT NULL CHECK (length(type) BETWEEN 1 AND 100),
    subject    text        NOT NULL CHECK (length(subject) <= 200),
    created_at timestamptz NOT NULL,
    -- body is the exact JSON sent: {"id","type","createdAt","data"}.
    body       text        NOT NULL
);
CREATE INDEX events_app ON clients.events (app_id, created_at);

-- seq orders the deliveries of one webhook and subject: a delivery goes out only when
-- every earlier pending one of the same webhook and subject has been delivered or
-- given up.
CREATE TABLE clients.deliveries (
    seq              bigserial   PRIMARY KEY,
    id               uuid        NOT NULL UNIQUE,
    event_id         uuid        NOT NULL REFERENCES clients.events (id) ON DELETE CASCADE,
    webhook_id       uuid        NOT NULL REFERENCES clients.webhooks (id) ON DELETE CASCADE,
    app_id           uuid        NOT NULL REFERENCES clients.apps (id) ON DELETE CASCADE,
    subject          text        NOT NULL,
    status           text        NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
    attempts         integer     NOT NULL DEFAULT 0,
    last_status_code integer,
    last_error       text        NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL,
    give_up_at       timestamptz NOT NULL,
    last_attempt_at  timestamptz,
    delivered_at     timestamptz
);
CREATE INDEX deliveries_app ON clients.deliveries (app_id, seq DESC);
CREATE INDEX deliveries_pending ON clients.deliveries (webhook_id, subject, seq) WHERE status = 'pending';

CREATE TABLE clients.delivery_attempts (
    id          bigserial   PRIMARY KEY,
    delivery_id uuid        NOT NULL REFERENCES clients.deliveries (id) ON DELETE CASCADE,
    at          timestamptz NOT NULL,
    status_code integer,
    error       text        NOT NULL DEFAULT '',
    duration_ms integer     NOT NULL
);
CREATE INDEX delivery_attempts_delivery ON clients.delivery_attempts (delivery_id, id);
