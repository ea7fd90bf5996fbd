//! What a connection last read from HubRise besides its events (issue 15): the location's
//! timezone, when its names and its open orders' status were read, and whether a read is due
//! now. A connection without a row has everything due.

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::Result;
use crate::time::now_ms;

/// A connection's reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reads {
    pub timezone: Option<String>,
    pub names_due: bool,
    pub names_read_at: Option<i64>,
    pub read_back_due: bool,
    pub read_back_at: Option<i64>,
}

impl Default for Reads {
    fn default() -> Self {
        Self {
            timezone: None,
            names_due: true,
            names_read_at: None,
            read_back_due: true,
            read_back_at: None,
        }
    }
}

pub fn get(conn: &Connection, connection_id: &str) -> Result<Reads> {
    Ok(conn
        .query_row(
            "SELECT timezone, names_due, names_read_at, read_back_due, read_back_at
             FROM connection_reads WHERE connection_id = ?1",
            [connection_id],
            |row| {
                Ok(Reads {
                    timezone: row.get(0)?,
                    names_due: row.get(1)?,
                    names_read_at: row.get(2)?,
                    read_back_due: row.get(3)?,
                    read_back_at: row.get(4)?,
                })
            },
        )
        .optional()?
        .unwrap_or_default())
}

fn ensure(conn: &Connection, connection_id: &str) -> Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO connection_reads (connection_id) VALUES (?1)",
        [connection_id],
    )?;
    Ok(())
}

/// Asks for the names (`names`) and the open orders' status (`status`) of every live connection
/// of a POS account to be read at their next cycle.
pub fn request(conn: &Connection, pos_account_id: &str, names: bool, status: bool) -> Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO connection_reads (connection_id)
         SELECT id FROM connections WHERE pos_account_id = ?1 AND state <> 'removed'",
        [pos_account_id],
    )?;
    conn.execute(
        "UPDATE connection_reads SET names_due = max(names_due, ?2), read_back_due = max(read_back_due, ?3)
         WHERE connection_id IN (SELECT id FROM connections WHERE pos_account_id = ?1)",
        params![pos_account_id, names, status],
    )?;
    Ok(())
}

/// The names were read (and the location's timezone with them, when HubRise gave one).
pub fn names_read(conn: &Connection, connection_id: &str, timezone: Option<&str>) -> Result<()> {
    ensure(conn, connection_id)?;
    conn.execute(
        "UPDATE connection_reads SET names_due = 0, names_read_at = ?2,
             timezone = coalesce(?3, timezone)
         WHERE connection_id = ?1",
        params![connection_id, now_ms(), timezone],
    )?;
    Ok(())
}

/// The location's timezone, read with a part of the names.
pub fn set_timezone(conn: &Connection, connection_id: &str, timezone: Option<&str>) -> Result<()> {
    ensure(conn, connection_id)?;
    conn.execute(
        "UPDATE connection_reads SET timezone = coalesce(?2, timezone) WHERE connection_id = ?1",
        params![connection_id, timezone],
    )?;
    Ok(())
}

/// The open orders' status was read; `complete` is false when the budget cut the read short
/// (it is then due again at the next cycle).
pub fn read_back_done(conn: &Connection, connection_id: &str, complete: bool) -> Result<()> {
    ensure(conn, connection_id)?;
    conn.execute(
        "UPDATE connection_reads SET read_back_due = ?2, read_back_at = ?3 WHERE connection_id = ?1",
        params![connection_id, !complete, now_ms()],
    )?;
    Ok(())
}

/// The open orders' status is wanted at the next cycle, whatever the spacing (a sibling's
/// change that could not be read at once).
pub fn read_back_wanted(conn: &Connection, connection_id: &str) -> Result<()> {
    ensure(conn, connection_id)?;
    conn.execute(
        "UPDATE connection_reads SET read_back_due = 1 WHERE connection_id = ?1",
        [connection_id],
    )?;
    Ok(())
}

/// An order the till still works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenOrder {
    pub id: String,
    pub created_at_ms: i64,
}

/// Orders of a location whose HubRise status is not final, created at or after `since_ms`,
/// oldest first.
pub fn open_orders(conn: &Connection, location_id: &str, since_ms: i64) -> Result<Vec<OpenOrder>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, created_at_ms FROM orders
         WHERE location_id = ?1 AND created_at_ms >= ?2
           AND status NOT IN ('completed', 'rejected', 'cancelled', 'delivery_failed')
         ORDER BY created_at_ms, id",
    )?;
    let rows = stmt.query_map(params![location_id, since_ms], |row| {
        Ok(OpenOrder {
            id: row.get(0)?,
            created_at_ms: row.get(1)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// How many orders of a location were created at or after `since_ms` (what one listing from
/// then would bring, as far as this device knows).
pub fn orders_since(conn: &Connection, location_id: &str, since_ms: i64) -> Result<u64> {
    Ok(conn.query_row(
        "SELECT count(*) FROM orders WHERE location_id = ?1 AND created_at_ms >= ?2",
        params![location_id, since_ms],
        |row| row.get(0),
    )?)
}
