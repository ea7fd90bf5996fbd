-- passerelle-bridge schema, version 1. The same SQL runs on SQLite and Postgres: TEXT and
-- BIGINT only, ids made by the bridge. No token, code, state or session id is stored in clear:
-- POS tokens, web sessions and device-flow states are kept as their SHA-256, HubRise tokens
-- and codes waiting for a device are sealed (XChaCha20-Poly1305, see src/crypto.rs).

-- The built-in identity's tokens (sandbox, walkthrough, embedded default only).
CREATE TABLE pos_tokens (
    token_digest TEXT PRIMARY KEY,
    kind TEXT NOT NULL,            -- access | refresh
    account_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL     -- ms since the Unix epoch
);

-- HubRise connections recorded on POS accounts.
CREATE TABLE connections (
    id TEXT PRIMARY KEY,
    pos_account_id TEXT NOT NULL,
    token_digest TEXT NOT NULL,    -- the same HubRise token is one entry
    token_sealed TEXT NOT NULL,
    device_id TEXT,
    account_id TEXT,
    account_name TEXT,
    location_id TEXT,
    location_name TEXT,
    catalog_id TEXT,
    catalog_name TEXT,
    customer_list_id TEXT,
    customer_list_name TEXT,
    app_instance_id TEXT,
    origin TEXT NOT NULL,          -- device | web | hubrise_back_office
    removed BIGINT NOT NULL,       -- 0 | 1
    created_at TEXT NOT NULL,      -- RFC 3339
    connected_at TEXT,             -- RFC 3339: when HubRise made the connection (decision 19)
    recorded_ms BIGINT NOT NULL,   -- order of recording
    UNIQUE (pos_account_id, token_digest)
);
CREATE INDEX connections_by_account ON connections (pos_account_id, location_id);
CREATE INDEX connections_by_instance ON connections (app_instance_id);

-- Each account's configuration version (the ETag).
CREATE TABLE config_versions (
    pos_account_id TEXT PRIMARY KEY,
    version BIGINT NOT NULL
);

-- Connections a device started with the bridge's https redirect, by the state's digest.
CREATE TABLE device_flows (
    state_digest TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    outcome TEXT,                  -- NULL (pending) | code | error
    outcome_sealed TEXT            -- the code (sealed) or HubRise's error
);

-- Web back office sessions, by the digest of the cookie.
CREATE TABLE web_sessions (
    session_digest TEXT PRIMARY KEY,
    account_id TEXT,
    csrf TEXT NOT NULL,
    connect_state TEXT,
    pending_code_sealed TEXT,
    pending_code_ms BIGINT,
    expires_ms BIGINT NOT NULL
);

-- Sign-in failures by email (lockout), shared by replicas.
CREATE TABLE sign_in_failures (
    email TEXT PRIMARY KEY,
    consecutive BIGINT NOT NULL,
    locked_until_ms BIGINT NOT NULL
);
