-- An item set aside is never final (issue 27): one that names an order is fetched again with a
-- growing wait, for at least a day after it was set aside. `next_retry_at` is NULL once the
-- library stops retrying by itself (the till can still retry it); `retries` counts its tries.
ALTER TABLE quarantine ADD COLUMN retries INTEGER NOT NULL DEFAULT 0;
ALTER TABLE quarantine ADD COLUMN next_retry_at INTEGER;
CREATE INDEX quarantine_retry_due ON quarantine (connection_id, next_retry_at)
    WHERE next_retry_at IS NOT NULL;
