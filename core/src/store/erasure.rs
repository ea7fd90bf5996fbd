//! Erasing a POS account's data (design D24): every row that came from or refers to it, in
//! small batches, children before parents.

use rusqlite::{Connection, params};

use super::meta;
use crate::error::Result;
use crate::secrets;

/// The account's connections, for the tables keyed by connection.
const CONNECTIONS: &str = "(SELECT id FROM connections WHERE pos_account_id = ?1)";
/// Tables keyed by connection, children of `connections`: their rows go first.
const BY_CONNECTION: [&str; 6] = [
    "outbox",
    "quarantine",
    "event_failures",
    "processed_events",
    "connection_reads",
    "orders",
];

/// The POS accounts that ever signed in on this device.
pub fn accounts(conn: &Connection) -> Result<Vec<String>> {
    let mut statement = conn.prepare("SELECT id FROM pos_accounts ORDER BY signed_in_at")?;
    let ids = statement
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(ids)
}

/// Every secret-store key the account's rows name: its connections' tokens, its connection
/// attempts' PKCE verifiers, and its POS session.
pub fn secret_keys(conn: &Connection, pos_account_id: &str) -> Result<Vec<String>> {
    let column = |sql: &str| -> Result<Vec<String>> {
        let mut statement = conn.prepare(sql)?;
        let values = statement
            .query_map([pos_account_id], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(values)
    };
    let mut keys = column("SELECT secret_key FROM connections WHERE pos_account_id = ?1")?;
    let flows = column("SELECT id FROM oauth_flows WHERE pos_account_id = ?1")?;
    keys.extend(flows.iter().map(|flow| secrets::keys::pkce_verifier(flow)));
    keys.push(secrets::keys::pos_session(pos_account_id));
    Ok(keys)
}

/// What one batch deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Erased {
    pub rows: usize,
    pub orders: usize,
    pub connections: usize,
}

/// Deletes up to `limit` rows of the account's data from the first table that still has some;
/// the account's own rows (attempts, connections, the account) go last. `rows == 0` when done.
pub fn erase_batch(conn: &Connection, pos_account_id: &str, limit: u32) -> Result<Erased> {
    for table in BY_CONNECTION {
        let rows = conn.execute(
            &format!(
                "DELETE FROM {table} WHERE rowid IN (
                     SELECT rowid FROM {table} WHERE connection_id IN {CONNECTIONS} LIMIT ?2)"
            ),
            params![pos_account_id, limit],
        )?;
        if rows > 0 {
            let orders = if table == "orders" { rows } else { 0 };
            return Ok(Erased {
                rows,
                orders,
                connections: 0,
            });
        }
    }
    conn.execute(
        "DELETE FROM oauth_flows WHERE pos_account_id = ?1",
        [pos_account_id],
    )?;
    let connections = conn.execute(
        "DELETE FROM connections WHERE pos_account_id = ?1",
        [pos_account_id],
    )?;
    let account = conn.execute("DELETE FROM pos_accounts WHERE id = ?1", [pos_account_id])?;
    conn.execute(
        "DELETE FROM meta WHERE key IN (?1, ?2)",
        [
            meta::pos_configuration_etag(pos_account_id),
            meta::event_stream_position(pos_account_id),
        ],
    )?;
    Ok(Erased {
        rows: connections + account,
        orders: 0,
        connections,
    })
}
