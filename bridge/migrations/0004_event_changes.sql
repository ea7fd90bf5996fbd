-- passerelle-bridge schema, version 4 (issue 24): one change, one event.

-- HubRise sends a change of a location's order once per connection that listens to it, and
-- every till holds a connection of its own: with N tills the bridge received N events for one
-- change, relayed all N to every till, and each till read the order N times. `change_key` (a
-- digest of the location, the kind, the order, the time of the change and its new state; NULL
-- when the event lacks any of them) files the copies once.
ALTER TABLE callback_events ADD COLUMN change_key TEXT;
CREATE INDEX callback_events_by_change ON callback_events (location_id, change_key);
