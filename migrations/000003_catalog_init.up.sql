-- The catalog: categories (one level of nesting), products, photos, stock movements
-- and reservations held by orders.
CREATE SCHEMA IF NOT EXISTS catalog;

CREATE TABLE catalog.categories (
    id         uuid PRIMARY KEY,
    name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    slug       text        NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 100),
    parent_id  uuid REFERENCES catalog.categories (id) ON DELETE RESTRICT CHECK (parent_id <> id),
    position   integer     NOT NULL DEFAULT 0,
    visible    boolean     NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX categories_parent ON catalog.categories (parent_id);

CREATE TABLE catalog.products (
    id                    uuid PRIMARY KEY,
    name                  text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description           text        NOT NULL DEFAULT '',
    category_id           uuid REFERENCES catalog.categories (id) ON DELETE RESTRICT,
    sku                   text CHECK (length(sku) BETWEEN 1 AND 64),
    status                text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive', 'archived')),
    price_minor           bigint      NOT NULL CHECK (price_minor >= 0),
    weight_unit           text        NOT NULL CHECK (weight_unit IN ('unit', 'micrograms', 'grams', 'ounces', 'pounds', 'millilitres', 'litres')),
    weight_milli          bigint CHECK (weight_milli > 0),
    shipping_weight_grams integer CHECK (shipping_weight_grams > 0),
    track_stock           boolean     NOT NULL DEFAULT true,
    stock_on_hand         integer     NOT NULL DEFAULT 0 CHECK (stock_on_hand >= 0),
    reserved              integer     NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    low_stock_threshold   integer     NOT NULL DEFAULT 0 CHECK (low_stock_threshold >= 0),
    times_ordered         integer     NOT NULL DEFAULT 0,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CHECK (weight_unit = 'unit' OR weight_milli IS NOT NULL),
    CHECK (status <> 'active' OR shipping_weight_grams IS NOT NULL),
    CHECK (NOT track_stock OR reserved <= stock_on_hand)
);
-- SKUs are unique regardless of case: "abc-1" and "ABC-1" are the same SKU.
CREATE UNIQUE INDEX products_sku ON catalog.products (lower(sku));
CREATE INDEX products_name ON catalog.products (lower(name), id);
CREATE INDEX products_category ON catalog.products (category_id, lower(name), id);
CREATE INDEX products_status ON catalog.products (status);

CREATE TABLE catalog.photos (
    id           uuid PRIMARY KEY,
    product_id   uuid        NOT NULL REFERENCES catalog.products (id) ON DELETE CASCADE,
    position     integer     NOT NULL,
    is_primary   boolean     NOT NULL DEFAULT false,
    alt          text        NOT NULL DEFAULT '',
    status       text        NOT NULL DEFAULT 'processing' CHECK (status IN ('processing', 'ready', 'failed')),
    error        text        NOT NULL DEFAULT '',
    content_type text        NOT NULL DEFAULT '',
    width        integer     NOT NULL DEFAULT 0,
    height       integer     NOT NULL DEFAULT 0,
    bytes        bigint      NOT NULL DEFAULT 0,
    upload_key   text        NOT NULL DEFAULT '',
    original_key text        NOT NULL DEFAULT '',
    web_key      text        NOT NULL DEFAULT '',
    thumb_key    text        NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX photos_product ON catalog.photos (product_id, position);
CREATE UNIQUE INDEX photos_one_primary ON catalog.photos (product_id) WHERE is_primary;

CREATE TABLE catalog.stock_movements (
    id            bigserial PRIMARY KEY,
    product_id    uuid        NOT NULL REFERENCES catalog.products (id) ON DELETE CASCADE,
    delta         integer     NOT NULL,
    balance_after integer     NOT NULL,
    reason        text        NOT NULL,
    note          text        NOT NULL DEFAULT '',
    actor         text        NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stock_movements_product ON catalog.stock_movements (product_id, id DESC);

-- A monotonically increasing version of everything client apps can see of the
-- catalog. API responses are cached per version, so any committed change invalidates
-- them exactly. The bump is a deferred trigger: it runs at commit, so the version row
-- is locked only for the moment of the commit, not for the whole transaction.
CREATE TABLE catalog.version (
    id      boolean PRIMARY KEY DEFAULT true CHECK (id),
    version bigint NOT NULL
);
INSERT INTO catalog.version VALUES (true, 1);

CREATE FUNCTION catalog.bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Once per transaction, however many rows it changed.
    IF current_setting('catalog.version_bumped', true) IS DISTINCT FROM txid_current()::text THEN
        PERFORM set_config('catalog.version_bumped', txid_current()::text, true);
        UPDATE catalog.version SET version = version + 1;
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER categories_version AFTER INSERT OR UPDATE OR DELETE ON catalog.categories
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION catalog.bump_version();
CREATE CONSTRAINT TRIGGER products_version AFTER INSERT OR UPDATE OR DELETE ON catalog.products
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION catalog.bump_version();
CREATE CONSTRAINT TRIGGER photos_version AFTER INSERT OR UPDATE OR DELETE ON catalog.photos
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION catalog.bump_version();
