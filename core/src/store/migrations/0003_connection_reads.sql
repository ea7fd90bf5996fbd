-- What a connection reads from HubRise besides its events (issue 15, decision 22): its open
-- orders' status (sibling tills never hear each other through events), the names HubRise shows
-- (location, catalog, customer list, which can be renamed there), and the location's timezone
-- (times sent to HubRise carry its offset). One row per connection, made when first needed.
CREATE TABLE connection_reads (
    connection_id TEXT PRIMARY KEY REFERENCES connections (id),
    -- IANA name from GET /location (`timezone.name`).
    timezone      TEXT,
    -- The names are read again at the next sync cycle (set at open, restart).
    names_due     INTEGER NOT NULL DEFAULT 1 CHECK (names_due IN (0, 1)),
    names_read_at INTEGER,
    -- The open orders' status is read at the next cycle whatever the spacing (foreground,
    -- reconnect).
    refresh_due   INTEGER NOT NULL DEFAULT 1 CHECK (refresh_due IN (0, 1)),
    refreshed_at  INTEGER
) STRICT;
