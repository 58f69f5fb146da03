-- The shop's settings: one row holding every saved setting as a JSON object, one key
-- per setting. A missing key means "the default"; keys a version does not know (saved
-- by a newer one) are kept, so that processes of two versions can run side by side.
CREATE SCHEMA IF NOT EXISTS settings;

CREATE TABLE settings.shop (
    id         boolean     PRIMARY KEY DEFAULT true CHECK (id),
    data       jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(data) = 'object'),
    updated_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO settings.shop (id) VALUES (true);
