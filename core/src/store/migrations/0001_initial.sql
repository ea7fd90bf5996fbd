-- Passerelle schema 1. No secret is ever stored here: tokens, PKCE verifiers and passwords live in
-- the host's secret store (Keychain), referenced by opaque keys.

-- Per-install values that are not secrets (the HubRise device_id, decision 5).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- POS accounts that signed in on this device. At most one is current.
CREATE TABLE pos_accounts (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL,
    business_name TEXT NOT NULL,
    is_current    INTEGER NOT NULL DEFAULT 0 CHECK (is_current IN (0, 1)),
    signed_in_at  INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX pos_accounts_one_current ON pos_accounts (is_current) WHERE is_current = 1;

-- HubRise connections of a POS account, one per location (and device).
-- state: pending (waits for restart), active, removing (waits for restart), removed (history).
CREATE TABLE connections (
    id                  TEXT PRIMARY KEY,
    pos_account_id      TEXT NOT NULL REFERENCES pos_accounts (id),
    location_id         TEXT NOT NULL,
    location_name       TEXT,
    hubrise_account_id  TEXT,
    account_name        TEXT,
    catalog_id          TEXT,
    catalog_name        TEXT,
    customer_list_id    TEXT,
    customer_list_name  TEXT,
    app_instance_id     TEXT,
    origin              TEXT NOT NULL CHECK (origin IN ('device', 'pos_back_office', 'hubrise_back_office')),
    state               TEXT NOT NULL CHECK (state IN ('pending', 'active', 'removing', 'removed')),
    needs_confirmation  INTEGER NOT NULL DEFAULT 0 CHECK (needs_confirmation IN (0, 1)),
    secret_key          TEXT NOT NULL,
    reconnect_needed    INTEGER NOT NULL DEFAULT 0 CHECK (reconnect_needed IN (0, 1)),
    last_failed_at      INTEGER,
    last_failed_reason  TEXT,
    last_succeeded_at   INTEGER,
    callback_registered INTEGER NOT NULL DEFAULT 0 CHECK (callback_registered IN (0, 1)),
    -- When set, one catch-up query (orders created after this, ms) runs at the next sync
    -- (decision 7: first activation and after a reconnect).
    catch_up_from       INTEGER,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX connections_one_live_per_location
    ON connections (pos_account_id, location_id) WHERE state <> 'removed';

-- The active configuration and, when something waits for a restart, the pending settings.
-- Promoting pending to active happens in one transaction with the connection states.
CREATE TABLE config_snapshots (
    slot       TEXT PRIMARY KEY CHECK (slot IN ('active', 'pending')),
    version    INTEGER NOT NULL,
    json       TEXT NOT NULL,
    written_at INTEGER NOT NULL
) STRICT;

-- OAuth connection attempts started on this device (state digest only; the verifier is a secret).
CREATE TABLE oauth_flows (
    id             TEXT PRIMARY KEY,
    pos_account_id TEXT NOT NULL REFERENCES pos_accounts (id),
    state_digest   TEXT NOT NULL UNIQUE,
    redirect_uri   TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('open', 'completed', 'cancelled')),
    created_at     INTEGER NOT NULL,
    finished_at    INTEGER
) STRICT;

-- Orders as HubRise sent them (full JSON kept), with the columns the inbox filters on.
CREATE TABLE orders (
    id            TEXT NOT NULL,
    location_id   TEXT NOT NULL,
    connection_id TEXT NOT NULL REFERENCES connections (id),
    status        TEXT NOT NULL,
    service_type  TEXT,
    created_at    TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    total         TEXT,
    json          TEXT NOT NULL,
    received_at   INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (location_id, id)
) STRICT;
-- The till looks orders up by HubRise's id alone (ids are unique across HubRise).
CREATE INDEX orders_by_id ON orders (id);
CREATE INDEX orders_by_time ON orders (created_at_ms DESC);
CREATE INDEX orders_by_connection_time ON orders (connection_id, created_at_ms DESC);
CREATE INDEX orders_by_status_time ON orders (status, created_at_ms DESC);

-- HubRise callback events already applied; recorded in the same transaction as the order.
CREATE TABLE processed_events (
    connection_id TEXT NOT NULL REFERENCES connections (id),
    event_id      TEXT NOT NULL,
    processed_at  INTEGER NOT NULL,
    PRIMARY KEY (connection_id, event_id)
) STRICT;

-- Status changes made at the till, pushed to HubRise in order (at least once, applied once).
CREATE TABLE outbox (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    connection_id   TEXT NOT NULL REFERENCES connections (id),
    order_id        TEXT NOT NULL,
    -- 'received': marks a new order received; 'till': a change made at the POS.
    kind            TEXT NOT NULL CHECK (kind IN ('received', 'till')),
    -- Only fields safe to apply twice (decision 8): status, confirmed_time, collection_code.
    patch           TEXT NOT NULL,
    -- Kept locally (a rejection reason HubRise has no field for).
    note            TEXT,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    finished_at     INTEGER,
    outcome         TEXT CHECK (outcome IN ('pushed', 'dropped'))
) STRICT;
CREATE INDEX outbox_due ON outbox (connection_id, seq) WHERE finished_at IS NULL;
CREATE INDEX outbox_by_order ON outbox (order_id) WHERE finished_at IS NULL;
