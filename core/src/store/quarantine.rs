//! Events that keep failing, and what sync set aside so that the rest goes on (design D20).

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::Result;
use crate::model::health::QuarantinedItem;
use crate::time::{now_ms, to_system_time};

/// An event's failures so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFailures {
    pub attempts: u32,
    pub first_failed_at: i64,
}

/// Records one more failure of an event and returns the count so far.
pub fn record_event_failure(
    conn: &Connection,
    connection_id: &str,
    event_id: &str,
    order_id: Option<&str>,
    error: &str,
) -> Result<EventFailures> {
    let now = now_ms();
    conn.execute(
        "INSERT INTO event_failures (connection_id, event_id, order_id, attempts, first_failed_at, last_error)
         VALUES (?1, ?2, ?3, 1, ?4, ?5)
         ON CONFLICT (connection_id, event_id) DO UPDATE SET attempts = attempts + 1,
             last_error = excluded.last_error",
        params![connection_id, event_id, order_id, now, error],
    )?;
    Ok(conn.query_row(
        "SELECT attempts, first_failed_at FROM event_failures WHERE connection_id = ?1 AND event_id = ?2",
        [connection_id, event_id],
        |row| {
            Ok(EventFailures {
                attempts: row.get(0)?,
                first_failed_at: row.get(1)?,
            })
        },
    )?)
}

/// The event went through (or was set aside): its failures are forgotten.
pub fn clear_event_failures(conn: &Connection, connection_id: &str, event_id: &str) -> Result<()> {
    conn.execute(
        "DELETE FROM event_failures WHERE connection_id = ?1 AND event_id = ?2",
        [connection_id, event_id],
    )?;
    Ok(())
}

/// Something set aside.
pub struct NewItem<'a> {
    pub connection_id: &'a str,
    pub kind: Kind,
    pub event_id: Option<&'a str>,
    pub order_id: Option<&'a str>,
    pub reason: &'a str,
    pub raw: Option<&'a str>,
    pub failures: EventFailures,
    /// When to fetch its order again (`None`: nothing to fetch, or never by itself).
    pub retry_at: Option<i64>,
}

/// What was set aside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An event past its failure budget.
    Event,
    /// An order HubRise sent that cannot be identified (no usable id).
    Order,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Event => "event",
            Kind::Order => "order",
        }
    }
}

/// Sets an item aside; returns its id.
pub fn insert(conn: &Connection, item: &NewItem<'_>) -> Result<i64> {
    conn.execute(
        "INSERT INTO quarantine (connection_id, kind, event_id, order_id, reason, raw, attempts,
             first_failed_at, quarantined_at, next_retry_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            item.connection_id,
            item.kind.as_str(),
            item.event_id,
            item.order_id,
            item.reason,
            item.raw,
            item.failures.attempts,
            item.failures.first_failed_at,
            now_ms(),
            item.retry_at.filter(|_| item.order_id.is_some()),
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// The items set aside for a connection, newest first.
pub fn list(conn: &Connection, connection_id: &str) -> Result<Vec<QuarantinedItem>> {
    let mut statement = conn.prepare(
        "SELECT id, connection_id, kind, event_id, order_id, reason, attempts, quarantined_at, raw
         FROM quarantine WHERE connection_id = ?1 ORDER BY id DESC",
    )?;
    let rows = statement.query_map([connection_id], |row| {
        Ok(QuarantinedItem {
            id: row.get(0)?,
            connection_id: row.get(1)?,
            is_event: row.get::<_, String>(2)? == "event",
            event_id: row.get(3)?,
            order_id: row.get(4)?,
            reason: row.get(5)?,
            attempts: row.get(6)?,
            quarantined_at: to_system_time(row.get(7)?),
            raw_body: row.get(8)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// How many items a connection has set aside.
pub fn count(conn: &Connection, connection_id: &str) -> Result<u32> {
    Ok(conn.query_row(
        "SELECT count(*) FROM quarantine WHERE connection_id = ?1",
        [connection_id],
        |row| row.get(0),
    )?)
}

/// An item whose order can be fetched again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    pub id: i64,
    pub connection_id: String,
    pub order_id: String,
    pub retries: u32,
    pub quarantined_at: i64,
}

fn retry(row: &rusqlite::Row<'_>) -> rusqlite::Result<Retry> {
    Ok(Retry {
        id: row.get(0)?,
        connection_id: row.get(1)?,
        order_id: row.get(2)?,
        retries: row.get(3)?,
        quarantined_at: row.get(4)?,
    })
}

const RETRY_COLUMNS: &str = "id, connection_id, order_id, retries, quarantined_at";

/// Up to `limit` items of a connection due to be fetched again, oldest due first. A retry
/// planned further than `max_wait_ms` away counts as due, so a wall clock set back never parks
/// an item.
pub fn due_retries(
    conn: &Connection,
    connection_id: &str,
    max_wait_ms: i64,
    limit: u32,
) -> Result<Vec<Retry>> {
    let now = now_ms();
    let mut statement = conn.prepare(&format!(
        "SELECT {RETRY_COLUMNS} FROM quarantine
         WHERE connection_id = ?1 AND order_id IS NOT NULL AND next_retry_at IS NOT NULL
           AND (next_retry_at <= ?2 OR next_retry_at > ?2 + ?3)
         ORDER BY next_retry_at LIMIT ?4"
    ))?;
    let rows = statement.query_map(params![connection_id, now, max_wait_ms, limit], retry)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The item `id` if its order can be fetched again (the till's retry), whatever its schedule.
pub fn retryable(conn: &Connection, id: i64) -> Result<Option<Retry>> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT {RETRY_COLUMNS} FROM quarantine WHERE id = ?1 AND order_id IS NOT NULL"
            ),
            [id],
            retry,
        )
        .optional()?)
}

/// A try failed again: counts it, keeps why, and plans the next (`None`: no more by itself).
pub fn retry_failed(conn: &Connection, id: i64, reason: &str, next_at: Option<i64>) -> Result<()> {
    conn.execute(
        "UPDATE quarantine SET retries = retries + 1, reason = ?2, next_retry_at = ?3 WHERE id = ?1",
        params![id, reason, next_at],
    )?;
    Ok(())
}

/// The item's order is stored now: it is no longer set aside.
pub fn remove(conn: &Connection, id: i64) -> Result<()> {
    conn.execute("DELETE FROM quarantine WHERE id = ?1", [id])?;
    Ok(())
}
