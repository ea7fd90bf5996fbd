//! Per-install key/value pairs that are not secrets.

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::Result;

/// The `device_id` sent to HubRise (design D5).
pub const DEVICE_ID: &str = "device_id";
/// The host's label the generated `device_id` was made from.
pub const DEVICE_ID_LABEL: &str = "device_id_label";
/// Set once the `device_id` went out in an authorize request: from then on it never changes.
pub const DEVICE_ID_SENT: &str = "device_id_sent";
/// Set once the device's identity is in the secret store too (on iOS a `ThisDeviceOnly`
/// Keychain item, which a backup restored on another iPad does not carry): a database with it
/// and a secret store without the identity belongs to another device.
pub const DEVICE_ID_IN_SECRET_STORE: &str = "device_id_in_secret_store";
/// When this database started after a recovery (ms), so the first catch-ups reach back.
pub const RECOVERED_AT: &str = "recovered_at";

/// The ETag of the POS backend's configuration last merged for an account.
pub fn pos_configuration_etag(pos_account_id: &str) -> String {
    format!("pos_configuration_etag/{pos_account_id}")
}

/// Where this till stands in the POS backend's event stream for an account (its last
/// `Last-Event-ID`), and when it last took an event (ms), as `"<ms> <position>"`: kept across
/// launches, so a stream cut, or an app killed, between the backend sending an event and the till
/// storing its order resumes before that event, and a gap catches up from the last event taken.
/// Erased with the account's data.
pub fn event_stream_position(pos_account_id: &str) -> String {
    format!("event_stream_position/{pos_account_id}")
}

pub fn get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| {
            row.get(0)
        })
        .optional()?)
}

pub fn set(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

pub fn delete(conn: &Connection, key: &str) -> Result<()> {
    conn.execute("DELETE FROM meta WHERE key = ?1", [key])?;
    Ok(())
}
