-- passerelle-bridge schema, version 2 (issue 24): HubRise's events received by the active
-- callback, and where each till stands in each location's events.

-- One row an event, in its location's order. `seq` is the location's MAX + 1, computed inside
-- the insert: with the UNIQUE (location_id, seq) below, an insert can only take N + 1 once N
-- is committed, so a reader that saw N + 1 has seen N (no gap ever becomes visible later).
-- The body (which carries customers' personal data) is sealed like tokens, bound to its id.
-- A location's newest row is kept past its retention with its body cleared (a tombstone), so
-- the location's sequence never goes back.
CREATE TABLE callback_events (
    event_id TEXT PRIMARY KEY,     -- HubRise's: a replay is stored once
    location_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,            -- resource_type.event_type, e.g. order.create
    body_sealed TEXT,              -- NULL once past the retention (tombstone)
    received_ms BIGINT NOT NULL,
    UNIQUE (location_id, seq)
);

-- Where each till (a POS account's device) stands in a location's events: the last one sent.
CREATE TABLE till_cursors (
    pos_account_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    location_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (pos_account_id, device_id, location_id)
);
CREATE INDEX till_cursors_by_location ON till_cursors (location_id, seq);
