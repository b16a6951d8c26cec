-- 0002 — staff users, sessions and login throttling.

CREATE TABLE users (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username             text NOT NULL CHECK (length(username) BETWEEN 1 AND 64),
    username_key         text NOT NULL,              -- NFC + lower case, for lookups
    display_name         text NOT NULL DEFAULT '',
    role                 text NOT NULL CHECK (role IN ('admin', 'manager', 'clerk', 'agency')),
    agency_id            bigint,                     -- the agency issue adds the foreign key
    password_hash        text NOT NULL,              -- argon2id PHC string
    must_change_password boolean NOT NULL DEFAULT false,
    disabled_at          timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    version              integer NOT NULL DEFAULT 1,
    CONSTRAINT users_agency_role CHECK ((role = 'agency') = (agency_id IS NOT NULL))
);
CREATE UNIQUE INDEX users_username_key_key ON users (username_key);

CREATE TABLE sessions (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id        bigint NOT NULL REFERENCES users (id),
    token_hash     bytea NOT NULL UNIQUE,            -- SHA-256 of the token; the token itself is never stored
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_seen_at   timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,             -- absolute expiry
    revoked_at     timestamptz,
    client_address text
);
CREATE INDEX sessions_user_active_idx ON sessions (user_id) WHERE revoked_at IS NULL;

-- Failures are counted per username key whether or not the user exists, so a lock says
-- nothing about existence; and per address for throttling.
CREATE TABLE login_failures (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username_key text NOT NULL,
    address      text,
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_username_idx ON login_failures (username_key, at);
CREATE INDEX login_failures_address_idx ON login_failures (address, at);

CREATE TABLE account_locks (
    username_key text PRIMARY KEY,
    locked_until timestamptz NOT NULL,
    lock_count   integer NOT NULL DEFAULT 1
);

GRANT SELECT, INSERT, UPDATE ON users TO ashrai_application;
GRANT SELECT, INSERT, UPDATE ON sessions TO ashrai_application;
GRANT SELECT, INSERT, DELETE ON login_failures TO ashrai_application;
GRANT SELECT, INSERT, UPDATE, DELETE ON account_locks TO ashrai_application;
