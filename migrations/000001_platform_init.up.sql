-- The platform schema holds what every module shares: the transactional outbox and the
-- audit log. Modules write to both inside their own transactions.
CREATE SCHEMA IF NOT EXISTS platform;

CREATE TABLE platform.outbox (
    id          bigserial PRIMARY KEY,
    job_id      text        NOT NULL UNIQUE,
    job_type    text        NOT NULL,
    queue       text        NOT NULL DEFAULT 'default',
    payload     bytea       NOT NULL,
    max_retry   integer     NOT NULL DEFAULT 25,
    process_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz,
    attempts    integer     NOT NULL DEFAULT 0,
    last_error  text        NOT NULL DEFAULT ''
);
CREATE INDEX outbox_unsent ON platform.outbox (id) WHERE sent_at IS NULL;
CREATE INDEX outbox_sent_at ON platform.outbox (sent_at) WHERE sent_at IS NOT NULL;

CREATE TABLE platform.audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor_kind  text        NOT NULL,
    actor_id    text        NOT NULL DEFAULT '',
    actor       text        NOT NULL,
    ip          text        NOT NULL DEFAULT '',
    action      text        NOT NULL,
    object_type text        NOT NULL,
    object_id   text        NOT NULL DEFAULT '',
    detail      text        NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_object ON platform.audit_log (object_type, object_id, id DESC);
CREATE INDEX audit_log_actor ON platform.audit_log (actor, id DESC);
CREATE INDEX audit_log_at ON platform.audit_log (at);

-- The audit log is append-only.
CREATE FUNCTION platform.audit_log_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit log entries cannot be changed or deleted';
END $$;
CREATE TRIGGER audit_log_immutable BEFORE UPDATE OR DELETE ON platform.audit_log
    FOR EACH ROW EXECUTE FUNCTION platform.audit_log_immutable();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON platform.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION platform.audit_log_immutable();
