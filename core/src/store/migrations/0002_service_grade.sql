-- Passerelle schema 2: bad data isolated and never silent, orders announced until seen.

-- Failures of an event that HubRise could be asked about (its order fetch failed with an answer,
-- or the answer could not be read). Past the budget the event is quarantined; a success or a
-- quarantine removes the row.
CREATE TABLE event_failures (
    connection_id   TEXT NOT NULL REFERENCES connections (id),
    event_id        TEXT NOT NULL,
    order_id        TEXT,
    attempts        INTEGER NOT NULL,
    first_failed_at INTEGER NOT NULL,
    last_error      TEXT NOT NULL,
    PRIMARY KEY (connection_id, event_id)
) STRICT;

-- What sync set aside so that the rest could go on: an event past its failure budget, or an
-- order HubRise sent that cannot be identified. `raw` is the body HubRise sent, when there was one.
CREATE TABLE quarantine (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    connection_id   TEXT NOT NULL REFERENCES connections (id),
    kind            TEXT NOT NULL CHECK (kind IN ('event', 'order')),
    event_id        TEXT,
    order_id        TEXT,
    reason          TEXT NOT NULL,
    raw             TEXT,
    attempts        INTEGER NOT NULL,
    first_failed_at INTEGER NOT NULL,
    quarantined_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX quarantine_by_connection ON quarantine (connection_id, id);

-- An outbox entry past its retry budget stops (failed_at set, finished_at still NULL): later
-- changes of the same order wait behind it until the host retries it; other orders go on.
ALTER TABLE outbox ADD COLUMN failed_at INTEGER;
CREATE INDEX outbox_failed ON outbox (connection_id) WHERE failed_at IS NOT NULL AND finished_at IS NULL;

-- When the host marked the order as seen; until then it is announced again after a restart.
ALTER TABLE orders ADD COLUMN seen_at INTEGER;
CREATE INDEX orders_unseen ON orders (connection_id, received_at) WHERE seen_at IS NULL;

-- When HubRise made a connection made off the device (reported by the POS backend): confirming
-- it catches up from there, so orders placed before the iPad saw it are not lost (design D19).
ALTER TABLE connections ADD COLUMN connected_at INTEGER;
