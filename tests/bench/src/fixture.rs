//! Databases to measure: connections made through the public API against the sandbox (sign in,
//! consent page, exchange, restart), then the bulk of the orders written straight into the
//! SQLite file, because no public API inserts 100,000 orders. The rows written are the ones the
//! sync engine writes for an order (the order, its processed event, its finished `received`
//! push), with the JSON of an order the engine really stored as a template.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use passerelle_core::{
    EventListener, InMemorySecretStore, PasserelleConfig, PasserelleEvent, RateLimits, SecretStore,
};
use passerelle_test_support::config_for;
use rusqlite::Connection;
use rusqlite::types::Value as SqlValue;
use serde_json::Value;

use crate::sandbox::SandboxInfo;
use crate::{BenchError, Result};

/// A port nothing listens on: requests fail at once with "connection refused".
pub const CLOSED_PORT_URL: &str = "http://127.0.0.1:9";

/// Passerelle's configuration for a sandbox (poll interval 1 s, allowed on loopback only).
pub fn config(info: &SandboxInfo, dir: &Path, limits: RateLimits) -> PasserelleConfig {
    let mut config = config_for(info, dir);
    config.rate_limits = limits;
    config
}

/// The same configuration with every server on a closed port.
pub fn closed_port_config(info: &SandboxInfo, dir: &Path) -> PasserelleConfig {
    let mut config = config(info, dir, RateLimits::hubrise());
    config.pos_base_url = CLOSED_PORT_URL.into();
    config.hubrise_oauth_url = format!("{CLOSED_PORT_URL}/oauth2/v1");
    config.hubrise_api_url = format!("{CLOSED_PORT_URL}/v1");
    config
}

/// The client's rate limits lifted (decision 11: the throughput benchmark says so). The
/// windows stay one minute long, as in production.
pub fn unlimited_client_limits() -> RateLimits {
    RateLimits {
        per_minute: u32::MAX,
        per_hour: u32::MAX,
        per_day: u32::MAX,
        heavy_per_minute: u32::MAX,
        minute_ms: 60_000,
    }
}

/// Counts events without keeping them (a listener that never slows the library down).
#[derive(Debug, Default)]
pub struct CountingListener {
    pub received: AtomicU64,
    pub updated: AtomicU64,
    pub other: AtomicU64,
}

impl EventListener for CountingListener {
    fn on_event(&self, event: PasserelleEvent) {
        let counter = match event {
            PasserelleEvent::OrderReceived { .. } => &self.received,
            PasserelleEvent::OrderUpdated { .. } => &self.updated,
            _ => &self.other,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Every secret of an in-memory store (to hand them to a child process).
pub fn dump_secrets(store: &InMemorySecretStore) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for key in store.keys() {
        let value = store
            .get(key.clone())
            .map_err(|e| BenchError(format!("secret store: {e}")))?;
        if let Some(value) = value {
            out.insert(key, value);
        }
    }
    Ok(out)
}

/// A store holding `secrets`.
pub fn load_secrets(secrets: &BTreeMap<String, String>) -> Result<Arc<InMemorySecretStore>> {
    let store = Arc::new(InMemorySecretStore::new());
    for (key, value) in secrets {
        store
            .set(key.clone(), value.clone())
            .map_err(|e| BenchError(format!("secret store: {e}")))?;
    }
    Ok(store)
}

/// The JSON of an order the sync engine stored (the template of the bulk rows).
pub fn stored_order_json(db: &Path) -> Result<Value> {
    let conn = Connection::open(db)?;
    let json: String = conn.query_row("SELECT json FROM orders LIMIT 1", [], |row| row.get(0))?;
    Ok(serde_json::from_str(&json)?)
}

/// An order's own columns, for [`copy_order_row`].
pub struct OrderRow<'a> {
    pub id: &'a str,
    pub location_id: &'a str,
    pub connection_id: &'a str,
    pub status: &'a str,
    pub service_type: Option<&'a str>,
    pub created_at: &'a str,
    pub created_ms: i64,
    pub total: Option<&'a str>,
    pub json: &'a str,
    /// Also its `updated_at`.
    pub received_at: i64,
}

/// Inserts a copy of the template order's row, which the engine wrote, with `order`'s own
/// columns: the others (the inbox's columns, whatever they are) are the engine's, and the
/// benchmarks do not list them. Not seen, not scrubbed.
pub fn copy_order_row(conn: &Connection, template_id: &str, order: &OrderRow<'_>) -> Result<()> {
    conn.prepare_cached(
        "CREATE TEMP TABLE IF NOT EXISTS bulk_order AS SELECT * FROM orders WHERE id = ?1",
    )?
    .execute([template_id])?;
    conn.prepare_cached(
        "UPDATE temp.bulk_order SET id = ?1, location_id = ?2, connection_id = ?3, status = ?4,
             service_type = ?5, created_at = ?6, created_at_ms = ?7, total = ?8, json = ?9,
             received_at = ?10, updated_at = ?10, seen_at = NULL, scrubbed_at = NULL",
    )?
    .execute(rusqlite::params![
        order.id,
        order.location_id,
        order.connection_id,
        order.status,
        order.service_type,
        order.created_at,
        order.created_ms,
        order.total,
        order.json,
        order.received_at,
    ])?;
    conn.prepare_cached("INSERT INTO orders SELECT * FROM temp.bulk_order")?
        .execute([])?;
    Ok(())
}

/// Where bulk orders go.
#[derive(Debug, Clone)]
pub struct OrderTarget {
    pub connection_id: String,
    pub location_id: String,
}

/// Writes `count` orders, one a minute going back from `newest_ms`, spread over `targets`,
/// each with its processed event and its finished `received` push, as the engine would have
/// left them. Mostly completed, some accepted, cancelled and rejected.
pub fn bulk_insert_orders(
    db: &Path,
    template: &Value,
    targets: &[OrderTarget],
    count: usize,
    newest_ms: i64,
) -> Result<()> {
    crate::ensure(!targets.is_empty(), || {
        "no connection to put orders on".into()
    })?;
    let mut conn = Connection::open(db)?;
    // Loading only: the measured opens use the core's own settings.
    conn.pragma_update(None, "synchronous", "OFF")?;
    let tx = conn.transaction()?;
    {
        let template_id = template["id"].as_str().unwrap_or_default().to_owned();
        let mut event = tx.prepare(
            "INSERT INTO processed_events (connection_id, event_id, processed_at) VALUES (?1, ?2, ?3)",
        )?;
        let mut push = tx.prepare(
            "INSERT INTO outbox (connection_id, order_id, kind, patch, created_at, attempts,
                 next_attempt_at, finished_at, outcome)
             VALUES (?1, ?2, 'received', '{\"status\":\"received\"}', ?3, 1, ?3, ?3, 'pushed')",
        )?;
        let service_type = template["service_type"].as_str().map(str::to_owned);
        let total = template["total"].as_str().map(str::to_owned);
        let offset =
            time::UtcOffset::from_hms(1, 0, 0).map_err(|e| BenchError(format!("offset: {e}")))?;
        for i in 0..count {
            let target = &targets[i % targets.len()];
            let index = i64::try_from(i).map_err(|e| BenchError(e.to_string()))?;
            let created_ms = newest_ms - index * 60_000;
            let created_at =
                time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(created_ms) * 1_000_000)
                    .map_err(|e| BenchError(format!("time: {e}")))?
                    .to_offset(offset)
                    .format(&time::format_description::well_known::Rfc3339)
                    .map_err(|e| BenchError(format!("time: {e}")))?;
            let status = match i % 20 {
                0 => "cancelled",
                1 => "rejected",
                2..=4 => "accepted",
                _ => "completed",
            };
            let id = format!("bk{i:06}");
            let mut json = template.clone();
            json["id"] = Value::String(id.clone());
            json["created_at"] = Value::String(created_at.clone());
            json["status"] = Value::String(status.into());
            copy_order_row(
                &tx,
                &template_id,
                &OrderRow {
                    id: &id,
                    location_id: &target.location_id,
                    connection_id: &target.connection_id,
                    status,
                    service_type: service_type.as_deref(),
                    created_at: &created_at,
                    created_ms,
                    total: total.as_deref(),
                    json: &json.to_string(),
                    received_at: created_ms + 2_000,
                },
            )?;
            event.execute(rusqlite::params![
                target.connection_id,
                format!("ev{i:06}"),
                created_ms + 2_000
            ])?;
            push.execute(rusqlite::params![
                target.connection_id,
                id,
                created_ms + 2_000
            ])?;
        }
    }
    tx.commit()?;
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
    Ok(())
}

/// The rows of a few tables, to put a database back in the same state before each run.
pub struct TableSnapshot {
    tables: Vec<(String, Vec<String>, Vec<Vec<SqlValue>>)>,
}

impl TableSnapshot {
    pub fn take(db: &Path, tables: &[&str]) -> Result<Self> {
        let conn = Connection::open(db)?;
        let mut out = Vec::new();
        for table in tables {
            let mut stmt = conn.prepare(&format!("SELECT * FROM {table}"))?;
            let columns: Vec<String> = stmt.column_names().iter().map(|c| c.to_string()).collect();
            let width = columns.len();
            let rows = stmt
                .query_map([], |row| {
                    (0..width)
                        .map(|i| row.get::<_, SqlValue>(i))
                        .collect::<rusqlite::Result<Vec<_>>>()
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            out.push(((*table).to_owned(), columns, rows));
        }
        Ok(Self { tables: out })
    }

    /// Replaces the tables' rows with the snapshot's, then closes (SQLite checkpoints the WAL
    /// and removes it when the last connection closes, as after the app quits).
    pub fn restore(&self, db: &Path) -> Result<()> {
        let mut conn = Connection::open(db)?;
        // Orders reference connections: rows are put back as they were, so skip the checks.
        conn.pragma_update(None, "foreign_keys", "OFF")?;
        let tx = conn.transaction()?;
        for (table, columns, rows) in &self.tables {
            tx.execute(&format!("DELETE FROM {table}"), [])?;
            let marks = vec!["?"; columns.len()].join(", ");
            let mut insert = tx.prepare(&format!(
                "INSERT INTO {table} ({}) VALUES ({marks})",
                columns.join(", ")
            ))?;
            for row in rows {
                insert.execute(rusqlite::params_from_iter(row.iter()))?;
            }
        }
        tx.commit()?;
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
        Ok(())
    }
}

/// Size of a file in MiB, one decimal.
pub fn file_mib(path: &Path) -> String {
    std::fs::metadata(path).map_or("?".into(), |m| {
        format!("{:.1}", m.len() as f64 / (1024.0 * 1024.0))
    })
}

pub use passerelle_sandbox::seed::sample_order;
