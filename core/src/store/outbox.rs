//! Status changes waiting to reach HubRise, pushed in order per order: one order's changes reach
//! HubRise in the order they were made, and one order's failing change never holds back another
//! order's (design D20). At least once, applied once: a patch carries only fields that are safe
//! to apply twice (design D8).

use rusqlite::{Connection, Row, params};
use serde_json::Value;

use crate::error::Result;
use crate::model::health::FailedChange;
use crate::time::{now_ms, to_system_time};

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

/// The next due entries, in the order of the `outbox_next` index (migration 0008).
const DUE_HEADS: &str = "SELECT seq, order_id, kind, patch, attempts FROM outbox o
     WHERE connection_id = ?1 AND finished_at IS NULL AND failed_at IS NULL
       AND (next_attempt_at <= ?2 OR next_attempt_at > ?2 + ?3)
       AND order_id NOT IN (SELECT value FROM json_each(?4))
       AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.connection_id = o.connection_id
           AND p.order_id = o.order_id AND p.finished_at IS NULL AND p.seq < o.seq)
     ORDER BY kind = 'received', seq LIMIT ?5";

/// Up to `limit` due entries of a connection, the till's before the automatic `received`, then
/// oldest first, each the first unfinished one of its order and none of an order in `busy` (being pushed): an order's later changes wait behind its
/// earlier ones (even a failed one), other orders do not. A `next_attempt_at` further than
/// `max_wait_ms` away counts as due, so a wall clock set back never parks an entry.
pub fn due_heads(
    conn: &Connection,
    connection_id: &str,
    max_wait_ms: i64,
    busy: &[&str],
    limit: usize,
) -> Result<Vec<Entry>> {
    let now = now_ms();
    let busy = serde_json::Value::from(busy.to_vec()).to_string();
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut statement = conn.prepare_cached(DUE_HEADS)?;
    let rows = statement.query_map(params![connection_id, now, max_wait_ms, busy, limit], entry)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn entry(row: &Row<'_>) -> rusqlite::Result<Entry> {
    let kind: String = row.get(2)?;
    let patch: String = row.get(3)?;
    Ok(Entry {
        seq: row.get(0)?,
        order_id: row.get(1)?,
        kind: if kind == "received" {
            Kind::Received
        } else {
            Kind::Till
        },
        patch: serde_json::from_str(&patch).unwrap_or(Value::Null),
        attempts: row.get(4)?,
    })
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

/// When the connection's next change waiting to be tried again falls due (ms), if one is still
/// to come after `now_ms` (one already due but not sent waits behind another of its order).
pub fn next_retry_at(conn: &Connection, connection_id: &str, now_ms: i64) -> Result<Option<i64>> {
    Ok(conn.query_row(
        "SELECT MIN(next_attempt_at) FROM outbox
         WHERE connection_id = ?1 AND finished_at IS NULL AND failed_at IS NULL AND attempts > 0
           AND next_attempt_at > ?2",
        params![connection_id, now_ms],
        |row| row.get(0),
    )?)
}

/// The entry failed past its budget: it stops until the host retries it.
pub fn fail(conn: &Connection, seq: i64, error: &str) -> Result<()> {
    conn.execute(
        "UPDATE outbox SET attempts = attempts + 1, failed_at = ?2, last_error = ?3 WHERE seq = ?1",
        params![seq, now_ms(), error],
    )?;
    Ok(())
}

/// Failed changes of the given connections, oldest first.
pub fn failed(conn: &Connection, connection_id: &str) -> Result<Vec<FailedChange>> {
    let mut statement = conn.prepare_cached(
        "SELECT order_id, connection_id, json_extract(patch, '$.status'), coalesce(last_error, ''),
                attempts, failed_at
         FROM outbox WHERE connection_id = ?1 AND failed_at IS NOT NULL AND finished_at IS NULL
         ORDER BY seq",
    )?;
    let rows = statement.query_map([connection_id], |row| {
        Ok(FailedChange {
            order_id: row.get(0)?,
            connection_id: row.get(1)?,
            status: row.get(2)?,
            reason: row.get(3)?,
            attempts: row.get(4)?,
            failed_at: to_system_time(row.get(5)?),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// How many changes of a connection failed.
pub fn count_failed(conn: &Connection, connection_id: &str) -> Result<u32> {
    Ok(conn.query_row(
        "SELECT count(*) FROM outbox
         WHERE connection_id = ?1 AND failed_at IS NOT NULL AND finished_at IS NULL",
        [connection_id],
        |row| row.get(0),
    )?)
}

/// Puts an order's failed changes back in line, with a fresh budget; returns how many.
pub fn retry_failed(conn: &Connection, order_id: &str) -> Result<usize> {
    Ok(conn.execute(
        "UPDATE outbox SET failed_at = NULL, attempts = 0, next_attempt_at = ?2
         WHERE order_id = ?1 AND failed_at IS NOT NULL AND finished_at IS NULL",
        params![order_id, now_ms()],
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    /// The pusher asks for the next due entries once for every few orders: the ask must read
    /// them in the index's order and stop, not sort every waiting entry (a quadratic drain).
    #[test]
    fn the_next_due_entries_are_read_in_the_index_s_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let plan: Vec<String> = store
            .read(|conn| {
                let mut statement = conn.prepare(&format!("EXPLAIN QUERY PLAN {DUE_HEADS}"))?;
                let rows = statement.query_map(params!["connection", 0, 0, "[]", 4], |row| {
                    row.get::<_, String>(3)
                })?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            })
            .unwrap();
        assert!(
            plan.iter().any(|step| step.contains("outbox_next")),
            "{plan:?}"
        );
        assert!(
            !plan.iter().any(|step| step.contains("TEMP B-TREE")),
            "every waiting entry sorted at each ask: {plan:?}"
        );
    }
}
