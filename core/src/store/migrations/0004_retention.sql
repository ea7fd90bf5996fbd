-- Passerelle schema 0004 (registered after 0002; renumbered at merge if needed): nothing grows
-- forever, customer data does not stay (design D24).

-- When the customer's personal data was scrubbed from the order's JSON (ids, totals, items stay).
ALTER TABLE orders ADD COLUMN scrubbed_at INTEGER;
CREATE INDEX orders_to_scrub ON orders (created_at_ms) WHERE scrubbed_at IS NULL;

-- Pruning walks these by age, a small batch at a time.
CREATE INDEX processed_events_by_time ON processed_events (processed_at);
CREATE INDEX outbox_finished ON outbox (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX quarantine_by_time ON quarantine (quarantined_at);
CREATE INDEX event_failures_by_connection ON event_failures (connection_id);

-- When the personal data of a quarantined body was scrubbed.
ALTER TABLE quarantine ADD COLUMN scrubbed_at INTEGER;
CREATE INDEX quarantine_to_scrub ON quarantine (quarantined_at) WHERE scrubbed_at IS NULL AND raw IS NOT NULL;
