-- Reviews: one review per customer (client app + identity reference) per product, held
-- for moderation until staff approve it (or the shop auto-approves). Staff may hide a
-- review with a reason and reply to it publicly. Client apps see approved reviews only.
CREATE SCHEMA IF NOT EXISTS reviews;

CREATE TABLE reviews.reviews (
    id            uuid PRIMARY KEY,
    product_id    uuid        NOT NULL,
    app_id        uuid        NOT NULL,
    identity_ref  text        NOT NULL CHECK (char_length(identity_ref) BETWEEN 1 AND 128),
    rating        smallint    NOT NULL CHECK (rating BETWEEN 1 AND 5),
    body          text        NOT NULL CHECK (char_length(body) BETWEEN 1 AND 2000),
    status        text        NOT NULL CHECK (status IN ('pending', 'approved', 'hidden')),
    -- Why staff hid the review; only a hidden review has one.
    hidden_reason text        NOT NULL DEFAULT '' CHECK (char_length(hidden_reason) <= 500),
    moderated_by  text        NOT NULL DEFAULT '',
    moderated_at  timestamptz,
    -- The staff's public reply, if any.
    reply         text        NOT NULL DEFAULT '' CHECK (char_length(reply) <= 2000),
    reply_by      text        NOT NULL DEFAULT '',
    replied_at    timestamptz,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    UNIQUE (app_id, identity_ref, product_id),
    CHECK ((status = 'hidden') = (hidden_reason <> '')),
    CHECK ((reply = '') = (replied_at IS NULL))
);
-- A product's approved reviews, newest first (the client API's list and ratings).
CREATE INDEX reviews_public ON reviews.reviews (product_id, created_at DESC, id DESC) WHERE status = 'approved';
-- The moderation queue: one status, latest submission first.
CREATE INDEX reviews_queue ON reviews.reviews (status, updated_at DESC, id DESC);

-- A version of what client apps can see of reviews (approved reviews, their replies,
-- and so the products' ratings), bumped once per transaction at commit, like
-- catalog.version: the client API caches product responses per (catalog, reviews)
-- version. Changes to reviews that are not and were not approved leave it alone.
CREATE TABLE reviews.version (
    id      boolean PRIMARY KEY DEFAULT true CHECK (id),
    version bigint NOT NULL
);
INSERT INTO reviews.version VALUES (true, 1);

CREATE FUNCTION reviews.bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (TG_OP = 'INSERT' AND NEW.status <> 'approved')
        OR (TG_OP = 'DELETE' AND OLD.status <> 'approved')
        OR (TG_OP = 'UPDATE' AND OLD.status <> 'approved' AND NEW.status <> 'approved') THEN
        RETURN NULL;
    END IF;
    IF current_setting('reviews.version_bumped', true) IS DISTINCT FROM txid_current()::text THEN
        PERFORM set_config('reviews.version_bumped', txid_current()::text, true);
        UPDATE reviews.version SET version = version + 1;
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER reviews_version AFTER INSERT OR UPDATE OR DELETE ON reviews.reviews
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION reviews.bump_version();
