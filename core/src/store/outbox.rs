//! Status changes waiting to reach HubRise, pushed in order per connection. At least once, applied
//! once: a patch carries only fields that are safe to apply twice (design D8).

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use crate::error::Result;
use crate::time::now_ms;

/// Why an entry exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Marks a new order `received` (automatic).
    Received,
    /// A change made at the till (accept, reject, status).
    Till,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Received => "received",
            Kind::Till => "till",
        }
    }
}

/// An entry to push.
#[derive(Debug, Clone)]
pub struct Entry {
    pub seq: i64,
    pub order_id: String,
    pub kind: Kind,
    pub patch: Value,
    pub attempts: u32,
}

pub fn enqueue(
    conn: &Connection,
    connection_id: &str,
    order_id: &str,
    kind: Kind,
    patch: &Value,
    note: Option<&str>,
) -> Result<()> {
    let now = now_ms();
    conn.execute(
        "INSERT INTO outbox (connection_id, order_id, kind, patch, note, created_at, next_attempt_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        params![connection_id, order_id, kind.as_str(), patch.to_string(), note, now],
    )?;
    Ok(())
}

/// The oldest unfinished entry of a connection, if it is due. Later entries wait behind it, so
/// changes reach HubRise in the order they were made.
pub fn next_due(conn: &Connection, connection_id: &str) -> Result<Option<Entry>> {
    let row = conn
        .query_row(
            "SELECT seq, order_id, kind, patch, attempts, next_attempt_at FROM outbox
             WHERE connection_id = ?1 AND finished_at IS NULL ORDER BY seq LIMIT 1",
            [connection_id],
            |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, u32>(4)?,
                    row.get::<_, i64>(5)?,
                ))
            },
        )
        .optional()?;
    Ok(row
        .filter(|r| r.5 <= now_ms())
        .map(|(seq, order_id, kind, patch, attempts, _)| Entry {
            seq,
            order_id,
            kind: if kind == "received" {
                Kind::Received
            } else {
                Kind::Till
            },
            patch: serde_json::from_str(&patch).unwrap_or(Value::Null),
            attempts,
        }))
}

/// The entry reached HubRise (`pushed`) or will never be sent (`dropped`, with why).
pub fn finish(conn: &Connection, seq: i64, dropped_because: Option<&str>) -> Result<()> {
    let outcome = if dropped_because.is_some() {
        "dropped"
    } else {
        "pushed"
    };
    conn.execute(
        "UPDATE outbox SET finished_at = ?2, outcome = ?3, last_error = coalesce(?4, last_error)
         WHERE seq = ?1",
        params![seq, now_ms(), outcome, dropped_because],
    )?;
    Ok(())
}

/// A push failed in a way that may pass: try again at `next_attempt_at` (ms).
pub fn retry_later(conn: &Connection, seq: i64, next_attempt_at: i64, error: &str) -> Result<()> {
    conn.execute(
        "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3 WHERE seq = ?1",
        params![seq, next_attempt_at, error],
    )?;
    Ok(())
}
