-- Fulfilment: the shipment of each picked order at the carrier (Royal Mail Click & Drop
-- or the sandbox), its label and tracking numbers, and the tracking events read back.
CREATE SCHEMA IF NOT EXISTS fulfilment;

-- One shipment per order, made when a packer presses Picked. The state says how far
-- the registration with the carrier got; a worker takes the row lock while it talks to
-- the carrier, and "registering" left behind by a killed worker means the carrier may
-- have the order already (the next attempt looks it up by reference before creating).
CREATE TABLE fulfilment.shipments (
    order_id         uuid PRIMARY KEY,
    order_number     text        NOT NULL,
    -- The carrier's order reference: our order number, unique at the carrier too.
    reference        text        NOT NULL UNIQUE CHECK (reference ~ '^[A-Za-z0-9_-]{1,40}$'),
    carrier          text        NOT NULL,
    service_code     text        NOT NULL,
    service_name     text        NOT NULL DEFAULT '',
    express          boolean     NOT NULL DEFAULT false,
    package_format   text        NOT NULL CHECK (package_format IN ('letter', 'largeLetter', 'smallParcel', 'mediumParcel', 'parcel')),
    weight_grams     integer     NOT NULL CHECK (weight_grams BETWEEN 1 AND 30000),
    state            text        NOT NULL CHECK (state IN ('queued', 'registering', 'created', 'push_only', 'shipped',
                                   'delivered', 'failed', 'cancelled')),
    -- push_only: registered without a label (staff print it in Click & Drop).
    push_only        boolean     NOT NULL DEFAULT false,
    carrier_order_id text        NOT NULL DEFAULT '',
    tracking_numbers jsonb       NOT NULL DEFAULT '[]',
    label_key        text        NOT NULL DEFAULT '',
    -- The last problem: its kind (invalid: the carrier refused the parcel; label: no
    -- label yet; transient: the carrier did not answer) and the carrier's words.
    error_kind       text        NOT NULL DEFAULT '' CHECK (error_kind IN ('', 'invalid', 'label', 'transient')),
    error_message    text        NOT NULL DEFAULT '',
    attempts         integer     NOT NULL DEFAULT 0,
    retries          integer     NOT NULL DEFAULT 0,
    picked_by        text        NOT NULL DEFAULT '',
    picked_at        timestamptz NOT NULL,
    registered_at    timestamptz,
    shipped_at       timestamptz,
    delivered_at     timestamptz,
    next_poll_at     timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (state NOT IN ('created', 'push_only', 'shipped', 'delivered') OR carrier_order_id <> '')
);
CREATE INDEX shipments_picked ON fulfilment.shipments (picked_at DESC, order_id DESC);
CREATE INDEX shipments_poll ON fulfilment.shipments (state, next_poll_at) WHERE next_poll_at IS NOT NULL;

-- Tracking events read from the carrier's tracking service, each once.
CREATE TABLE fulfilment.tracking_events (
    id              bigserial PRIMARY KEY,
    order_id        uuid        NOT NULL REFERENCES fulfilment.shipments (order_id) ON DELETE CASCADE,
    tracking_number text        NOT NULL,
    event_code      text        NOT NULL,
    event_name      text        NOT NULL DEFAULT '',
    location        text        NOT NULL DEFAULT '',
    category        text        NOT NULL DEFAULT '',
    delivered       boolean     NOT NULL DEFAULT false,
    at              timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tracking_number, event_code, at)
);
CREATE INDEX tracking_events_order ON fulfilment.tracking_events (order_id, at);
