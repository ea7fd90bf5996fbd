-- passerelle-bridge schema, version 3 (issue 24, part 5): waking a till in the background.

-- A till's APNs device token (lower-case hex), by POS account and device. One row a token: a
-- token registered again under another account or device moves there. `pushed_ms` is the last
-- notification sent to it (at most one per interval, claimed in one UPDATE across replicas).
-- A token is not a credential (only the app's signing key can send to it): stored as is.
CREATE TABLE push_devices (
    pos_account_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    token TEXT NOT NULL,
    registered_ms BIGINT NOT NULL,
    pushed_ms BIGINT NOT NULL,
    PRIMARY KEY (pos_account_id, device_id)
);
CREATE UNIQUE INDEX push_devices_by_token ON push_devices (token);

-- The tills' open event streams, as leases the replica serving each stream renews while it is
-- open and clears when it ends: a till whose lease is current hears its events on the stream
-- and is not woken by a notification.
CREATE TABLE till_streams (
    pos_account_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    lease TEXT NOT NULL,
    until_ms BIGINT NOT NULL,
    PRIMARY KEY (pos_account_id, device_id)
);
