//! OAuth connection attempts started on this device. The row keeps a digest of the state, the
//! redirect used and when it started; the PKCE verifier is in the secret store.

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::Result;
use crate::time::now_ms;

/// A connection attempt.
#[derive(Debug, Clone)]
pub struct FlowRow {
    pub id: String,
    pub pos_account_id: String,
    pub redirect_uri: String,
    pub open: bool,
    pub created_at: i64,
}

pub fn insert(
    conn: &Connection,
    id: &str,
    pos_account_id: &str,
    state_digest: &str,
    redirect_uri: &str,
) -> Result<()> {
    conn.execute(
        "INSERT INTO oauth_flows (id, pos_account_id, state_digest, redirect_uri, status, created_at)
         VALUES (?1, ?2, ?3, ?4, 'open', ?5)",
        params![id, pos_account_id, state_digest, redirect_uri, now_ms()],
    )?;
    Ok(())
}

pub fn find_by_state(conn: &Connection, state_digest: &str) -> Result<Option<FlowRow>> {
    Ok(conn
        .query_row(
            "SELECT id, pos_account_id, redirect_uri, status = 'open', created_at
             FROM oauth_flows WHERE state_digest = ?1",
            [state_digest],
            |row| {
                Ok(FlowRow {
                    id: row.get(0)?,
                    pos_account_id: row.get(1)?,
                    redirect_uri: row.get(2)?,
                    open: row.get(3)?,
                    created_at: row.get(4)?,
                })
            },
        )
        .optional()?)
}

/// Closes an open attempt; false when it was already closed (a concurrent or replayed callback).
pub fn close(conn: &Connection, id: &str, completed: bool) -> Result<bool> {
    let status = if completed { "completed" } else { "cancelled" };
    let changed = conn.execute(
        "UPDATE oauth_flows SET status = ?2, finished_at = ?3 WHERE id = ?1 AND status = 'open'",
        params![id, status, now_ms()],
    )?;
    Ok(changed == 1)
}

/// Forgets attempts older than `older_than_ms` (long expired; their digests are useless).
pub fn purge(conn: &Connection, older_than_ms: i64) -> Result<Vec<String>> {
    let cutoff = now_ms() - older_than_ms;
    let mut stmt = conn.prepare("DELETE FROM oauth_flows WHERE created_at < ?1 RETURNING id")?;
    let ids = stmt.query_map([cutoff], |row| row.get(0))?;
    Ok(ids.collect::<rusqlite::Result<_>>()?)
}
