//! HubRise connections of the current POS account. Rows keep names and ids, never tokens: the
//! `secret_key` column names the token's entry in the host's secret store.

use super::{connection_reads, meta};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::error::{Error, Result};
use crate::model::connection::{
    ConnectionNames, ConnectionOrigin, ConnectionState, HubriseConnection,
};
use crate::time::{now_ms, to_system_time};

/// A connection row with the fields the host does not see.
#[derive(Debug, Clone)]
pub struct ConnectionRow {
    pub public: HubriseConnection,
    pub pos_account_id: String,
    pub secret_key: String,
    pub callback_registered: bool,
    pub last_succeeded_at: Option<i64>,
    /// A catch-up query is due for orders created after this (ms).
    pub catch_up_from: Option<i64>,
}

const COLUMNS: &str = "id, location_id, location_name, hubrise_account_id, account_name, catalog_id, \
    catalog_name, customer_list_id, customer_list_name, app_instance_id, origin, state, \
    needs_confirmation, reconnect_needed, last_failed_at, last_failed_reason, created_at, \
    pos_account_id, secret_key, callback_registered, last_succeeded_at, catch_up_from";

fn from_row(row: &Row<'_>) -> rusqlite::Result<ConnectionRow> {
    let text = |i: usize| row.get::<_, String>(i);
    let bad = |i: usize, what: &str| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, what.into())
    };
    let origin = ConnectionOrigin::parse(&text(10)?).ok_or_else(|| bad(10, "unknown origin"))?;
    let state = ConnectionState::parse(&text(11)?).ok_or_else(|| bad(11, "unknown state"))?;
    Ok(ConnectionRow {
        public: HubriseConnection {
            id: row.get(0)?,
            location_id: row.get(1)?,
            location_name: row.get(2)?,
            account_id: row.get(3)?,
            account_name: row.get(4)?,
            catalog_id: row.get(5)?,
            catalog_name: row.get(6)?,
            customer_list_id: row.get(7)?,
            customer_list_name: row.get(8)?,
            app_instance_id: row.get(9)?,
            origin,
            state,
            needs_confirmation: row.get(12)?,
            reconnect_needed: row.get(13)?,
            last_failed_at: row.get::<_, Option<i64>>(14)?.map(to_system_time),
            last_failed_reason: row.get(15)?,
            created_at: to_system_time(row.get(16)?),
        },
        pos_account_id: row.get(17)?,
        secret_key: row.get(18)?,
        callback_registered: row.get(19)?,
        last_succeeded_at: row.get(20)?,
        catch_up_from: row.get(21)?,
    })
}

/// Live (not removed) connections of a POS account, oldest first.
pub fn list_live(conn: &Connection, pos_account_id: &str) -> Result<Vec<ConnectionRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM connections WHERE pos_account_id = ?1 AND state <> 'removed'
         ORDER BY created_at, id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([pos_account_id], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn get(conn: &Connection, id: &str) -> Result<ConnectionRow> {
    let sql = format!("SELECT {COLUMNS} FROM connections WHERE id = ?1");
    conn.query_row(&sql, [id], from_row)
        .optional()?
        .ok_or_else(|| Error::NotFound {
            what: format!("connection {id}"),
        })
}

/// The live connection of a location for a POS account, if any.
pub fn find_live_by_location(
    conn: &Connection,
    pos_account_id: &str,
    location_id: &str,
) -> Result<Option<ConnectionRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM connections
         WHERE pos_account_id = ?1 AND location_id = ?2 AND state <> 'removed'"
    );
    Ok(conn
        .query_row(&sql, [pos_account_id, location_id], from_row)
        .optional()?)
}

/// A new connection row.
pub struct NewConnection<'a> {
    pub id: &'a str,
    pub pos_account_id: &'a str,
    pub names: &'a ConnectionNames,
    pub origin: ConnectionOrigin,
    pub state: ConnectionState,
    pub needs_confirmation: bool,
    pub secret_key: &'a str,
}

/// How far back the first catch-up of a connection made within a day of a database recovery
/// reaches (design D24): its orders may have been received by the lost database, never acted on.
const RECOVERY_CATCH_UP_MS: i64 = 24 * 3_600_000;

pub fn insert(conn: &Connection, new: &NewConnection<'_>) -> Result<()> {
    let now = now_ms();
    let recovered_at = meta::get(conn, meta::RECOVERED_AT)?.and_then(|v| v.parse::<i64>().ok());
    let catch_up_from = match recovered_at {
        Some(at) if now - at < RECOVERY_CATCH_UP_MS => now.min(at - RECOVERY_CATCH_UP_MS),
        _ => now,
    };
    conn.execute(
        "INSERT INTO connections (id, pos_account_id, location_id, origin, state,
             needs_confirmation, secret_key, catch_up_from, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?9, ?8, ?8)",
        params![
            new.id,
            new.pos_account_id,
            new.names.location_id,
            new.origin.as_str(),
            new.state.as_str(),
            new.needs_confirmation,
            new.secret_key,
            now,
            catch_up_from
        ],
    )?;
    update_names(conn, new.id, new.names)
}

/// Refreshes the names and ids HubRise reported (token response, `GET /location`).
pub fn update_names(conn: &Connection, id: &str, names: &ConnectionNames) -> Result<()> {
    conn.execute(
        "UPDATE connections SET location_name = coalesce(?2, location_name),
             hubrise_account_id = coalesce(?3, hubrise_account_id),
             account_name = coalesce(?4, account_name), catalog_id = coalesce(?5, catalog_id),
             catalog_name = coalesce(?6, catalog_name),
             customer_list_id = coalesce(?7, customer_list_id),
             customer_list_name = coalesce(?8, customer_list_name),
             app_instance_id = coalesce(?9, app_instance_id), updated_at = ?10
         WHERE id = ?1",
        params![
            id,
            names.location_name,
            names.account_id,
            names.account_name,
            names.catalog_id,
            names.catalog_name,
            names.customer_list_id,
            names.customer_list_name,
            names.app_instance_id,
            now_ms()
        ],
    )?;
    Ok(())
}

/// Keeps the names and timezone HubRise shows for a connection (`names` empty when the read
/// stopped before `GET /location`); a `complete` read (catalog and customer list included) also
/// marks the names read. Returns whether a name the host shows changed.
pub fn keep_names(
    tx: &Connection,
    connection_id: &str,
    names: &ConnectionNames,
    timezone: Option<&str>,
    complete: bool,
) -> Result<bool> {
    let before = get(tx, connection_id)?.public;
    if !names.location_id.is_empty() {
        update_names(tx, connection_id, names)?;
    }
    if complete {
        connection_reads::names_read(tx, connection_id, timezone)?;
    } else if timezone.is_some() {
        connection_reads::set_timezone(tx, connection_id, timezone)?;
    }
    let after = get(tx, connection_id)?.public;
    Ok(ConnectionNames::from(&before) != ConnectionNames::from(&after))
}

pub fn set_state(conn: &Connection, id: &str, state: ConnectionState) -> Result<()> {
    conn.execute(
        "UPDATE connections SET state = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, state.as_str(), now_ms()],
    )?;
    Ok(())
}

/// When HubRise made a connection made off the device.
pub fn set_connected_at(conn: &Connection, id: &str, connected_at_ms: i64) -> Result<()> {
    conn.execute(
        "UPDATE connections SET connected_at = ?2 WHERE id = ?1",
        params![id, connected_at_ms],
    )?;
    Ok(())
}

/// When HubRise made the connection, if known.
pub fn connected_at(conn: &Connection, id: &str) -> Result<Option<i64>> {
    Ok(conn.query_row(
        "SELECT connected_at FROM connections WHERE id = ?1",
        [id],
        |row| row.get(0),
    )?)
}

/// The host confirmed a connection made off the device.
pub fn set_confirmed(conn: &Connection, id: &str) -> Result<()> {
    conn.execute(
        "UPDATE connections SET needs_confirmation = 0, updated_at = ?2 WHERE id = ?1",
        params![id, now_ms()],
    )?;
    Ok(())
}

/// HubRise refused the token: keep everything, remember why, ask for a reconnect.
pub fn record_failure(
    conn: &Connection,
    id: &str,
    reason: &str,
    reconnect_needed: bool,
) -> Result<()> {
    // A refused token takes its callback with it: it is registered again after the reconnect.
    conn.execute(
        "UPDATE connections SET last_failed_at = ?2, last_failed_reason = ?3,
             reconnect_needed = max(reconnect_needed, ?4),
             callback_registered = callback_registered AND NOT ?4, updated_at = ?2
         WHERE id = ?1",
        params![id, now_ms(), reason, reconnect_needed],
    )?;
    Ok(())
}

/// Asks for one catch-up query of orders created after `from_ms` (a reconnect).
pub fn request_catch_up(conn: &Connection, id: &str, from_ms: i64) -> Result<()> {
    conn.execute(
        "UPDATE connections SET catch_up_from = min(coalesce(catch_up_from, ?2), ?2) WHERE id = ?1",
        params![id, from_ms],
    )?;
    Ok(())
}

/// The catch-up query ran.
pub fn finish_catch_up(conn: &Connection, id: &str) -> Result<()> {
    conn.execute(
        "UPDATE connections SET catch_up_from = NULL WHERE id = ?1",
        [id],
    )?;
    Ok(())
}

/// `GET /callback` showed the passive callback listening to orders.
pub fn set_callback_registered(conn: &Connection, id: &str, registered: bool) -> Result<()> {
    conn.execute(
        "UPDATE connections SET callback_registered = ?2 WHERE id = ?1",
        params![id, registered],
    )?;
    Ok(())
}

/// A call with the token succeeded: a reconnect (or HubRise unblocking) is over.
pub fn record_success(conn: &Connection, id: &str) -> Result<()> {
    conn.execute(
        "UPDATE connections SET reconnect_needed = 0, last_succeeded_at = ?2, updated_at = ?2
         WHERE id = ?1",
        params![id, now_ms()],
    )?;
    Ok(())
}

/// Restart-to-apply: confirmed pending connections become active. Returns how many.
pub fn promote_pending(conn: &Connection, pos_account_id: &str) -> Result<usize> {
    Ok(conn.execute(
        "UPDATE connections SET state = 'active', updated_at = ?2
         WHERE pos_account_id = ?1 AND state = 'pending' AND needs_confirmation = 0",
        params![pos_account_id, now_ms()],
    )?)
}

/// Restart-to-apply: disconnected connections leave the list. Returns how many.
pub fn finish_removals(conn: &Connection, pos_account_id: &str) -> Result<usize> {
    // Their unsent changes can never reach HubRise now: closed, with why.
    conn.execute(
        "UPDATE outbox SET finished_at = ?2, outcome = 'dropped', last_error = 'disconnected'
         WHERE finished_at IS NULL AND connection_id IN (
             SELECT id FROM connections WHERE pos_account_id = ?1 AND state = 'removing')",
        params![pos_account_id, now_ms()],
    )?;
    Ok(conn.execute(
        "UPDATE connections SET state = 'removed', updated_at = ?2
         WHERE pos_account_id = ?1 AND state = 'removing'",
        params![pos_account_id, now_ms()],
    )?)
}
