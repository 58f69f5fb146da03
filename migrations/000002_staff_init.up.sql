-- Staff users, their sessions and failed login attempts.
CREATE SCHEMA IF NOT EXISTS staff;

CREATE TABLE staff.users (
    id                   uuid PRIMARY KEY,
    username             text        NOT NULL UNIQUE CHECK (username = lower(username) AND length(username) BETWEEN 3 AND 32),
    display_name         text        NOT NULL DEFAULT '',
    role                 text        NOT NULL CHECK (role IN ('admin', 'manager', 'packer', 'accountant', 'support')),
    password_hash        text        NOT NULL,
    must_change_password boolean     NOT NULL DEFAULT false,
    disabled             boolean     NOT NULL DEFAULT false,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    password_changed_at  timestamptz NOT NULL DEFAULT now(),
    last_login_at        timestamptz
);

CREATE TABLE staff.sessions (
    token_hash   bytea PRIMARY KEY,
    user_id      uuid        NOT NULL REFERENCES staff.users (id) ON DELETE CASCADE,
    csrf_token   text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    ip           text        NOT NULL DEFAULT '',
    user_agent   text        NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON staff.sessions (user_id);
CREATE INDEX sessions_expires ON staff.sessions (expires_at);

CREATE TABLE staff.login_failures (
    id       bigserial PRIMARY KEY,
    username text        NOT NULL,
    ip       text        NOT NULL DEFAULT '',
    at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_username ON staff.login_failures (username, at);
