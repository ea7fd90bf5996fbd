//! Retention (design D24): each function prunes or scrubs one small batch, so a pass never holds
//! the write lock long; the caller runs one batch per transaction until a batch comes back short.

use rusqlite::{Connection, params};
use serde_json::Value;

use crate::error::Result;
use crate::time::now_ms;

/// HubRise's statuses after which nothing more happens to an order.
const FINISHED: &str = "('completed', 'rejected', 'cancelled', 'delivery_failed')";

/// When an order was due, in ms since the epoch: its expected time (RFC 3339 with an offset,
/// which SQLite's `julianday` reads), or when it was placed if it has none or an unreadable one.
const DUE_MS: &str = "COALESCE(
    CAST((julianday(o.expected_time) - 2440587.5) * 86400000 AS INTEGER),
    o.created_at_ms)";

/// Deletes up to `limit` orders placed before `before_ms` that are closed and have no change
/// still to push. Closed: finished at HubRise, or belonging to a removed connection (nothing
/// can finish them), or closed locally, i.e. due before `unfinished_due_before_ms` and never
/// given a final status. Many tills stop at `accepted`; without the last rule their orders
/// would stay forever (issue 27, scenario 10).
pub fn prune_orders(
    conn: &Connection,
    before_ms: i64,
    unfinished_due_before_ms: i64,
    limit: u32,
) -> Result<usize> {
    let sql = format!(
        "DELETE FROM orders WHERE rowid IN (
             SELECT o.rowid FROM orders o
             WHERE o.created_at_ms < ?1
               AND (o.status IN {FINISHED}
                    OR o.connection_id IN (SELECT id FROM connections WHERE state = 'removed')
                    OR {DUE_MS} < ?3)
               AND NOT EXISTS (SELECT 1 FROM outbox b
                               WHERE b.order_id = o.id AND b.finished_at IS NULL)
             ORDER BY o.created_at_ms LIMIT ?2)"
    );
    Ok(conn.execute(&sql, params![before_ms, limit, unfinished_due_before_ms])?)
}

/// Scrubs the customer's personal data from up to `limit` orders placed before `before_ms`.
pub fn scrub_orders(conn: &Connection, before_ms: i64, limit: u32) -> Result<usize> {
    scrub(
        conn,
        "SELECT rowid, json FROM orders
         WHERE scrubbed_at IS NULL AND created_at_ms < ?1
         ORDER BY created_at_ms LIMIT ?2",
        // The name shown in the inbox's rows is personal data too.
        "UPDATE orders SET json = ?2, scrubbed_at = ?3, customer_name = NULL WHERE rowid = ?1",
        before_ms,
        limit,
    )
}

/// Scrubs up to `limit` quarantined bodies set aside before `before_ms`.
pub fn scrub_quarantine(conn: &Connection, before_ms: i64, limit: u32) -> Result<usize> {
    scrub(
        conn,
        "SELECT id, raw FROM quarantine
         WHERE scrubbed_at IS NULL AND raw IS NOT NULL AND quarantined_at < ?1
         ORDER BY quarantined_at LIMIT ?2",
        "UPDATE quarantine SET raw = ?2, scrubbed_at = ?3 WHERE id = ?1",
        before_ms,
        limit,
    )
}

/// Reads `(key, text)` rows with `select` (?1 the cutoff, ?2 the limit) and writes each back
/// scrubbed with `update` (?1 the key, ?2 the text, ?3 when).
fn scrub(
    conn: &Connection,
    select: &str,
    update: &str,
    before_ms: i64,
    limit: u32,
) -> Result<usize> {
    let rows: Vec<(i64, String)> = {
        let mut statement = conn.prepare_cached(select)?;
        statement
            .query_map(params![before_ms, limit], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })?
            .collect::<rusqlite::Result<_>>()?
    };
    let now = now_ms();
    let mut update = conn.prepare_cached(update)?;
    for (key, text) in &rows {
        update.execute(params![key, scrub_text(text), now])?;
    }
    Ok(rows.len())
}

/// Deletes up to `limit` processed event ids recorded before `before_ms`.
pub fn prune_processed_events(conn: &Connection, before_ms: i64, limit: u32) -> Result<usize> {
    Ok(conn.execute(
        "DELETE FROM processed_events WHERE rowid IN (
             SELECT rowid FROM processed_events WHERE processed_at < ?1
             ORDER BY processed_at LIMIT ?2)",
        params![before_ms, limit],
    )?)
}

/// Deletes up to `limit` outbox rows finished (pushed or dropped) before `before_ms`.
pub fn prune_finished_outbox(conn: &Connection, before_ms: i64, limit: u32) -> Result<usize> {
    Ok(conn.execute(
        "DELETE FROM outbox WHERE seq IN (
             SELECT seq FROM outbox WHERE finished_at IS NOT NULL AND finished_at < ?1
             ORDER BY finished_at LIMIT ?2)",
        params![before_ms, limit],
    )?)
}

/// Deletes up to `limit` quarantined items set aside before `before_ms`.
pub fn prune_quarantine(conn: &Connection, before_ms: i64, limit: u32) -> Result<usize> {
    Ok(conn.execute(
        "DELETE FROM quarantine WHERE id IN (
             SELECT id FROM quarantine WHERE quarantined_at < ?1 ORDER BY id LIMIT ?2)",
        params![before_ms, limit],
    )?)
}

/// Removed connections: their event ids and failures go at once (their queue is gone); the
/// connection row itself goes when nothing refers to it any more. Returns the rows deleted.
pub fn clean_removed_connections(conn: &Connection, limit: u32) -> Result<usize> {
    let removed = "(SELECT id FROM connections WHERE state = 'removed')";
    let mut deleted = conn.execute(
        &format!(
            "DELETE FROM processed_events WHERE rowid IN (
                 SELECT rowid FROM processed_events WHERE connection_id IN {removed} LIMIT ?1)"
        ),
        [limit],
    )?;
    for table in ["event_failures", "connection_reads"] {
        deleted += conn.execute(
            &format!("DELETE FROM {table} WHERE connection_id IN {removed}"),
            [],
        )?;
    }
    deleted += conn.execute(
        "DELETE FROM connections WHERE id IN (
             SELECT c.id FROM connections c WHERE c.state = 'removed'
               AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.connection_id = c.id)
               AND NOT EXISTS (SELECT 1 FROM outbox b WHERE b.connection_id = c.id)
               AND NOT EXISTS (SELECT 1 FROM quarantine q WHERE q.connection_id = c.id)
               AND NOT EXISTS (SELECT 1 FROM processed_events e WHERE e.connection_id = c.id)
             LIMIT ?1)",
        [limit],
    )?;
    Ok(deleted)
}

/// `text` without the customer's personal data; a body that is not JSON is dropped whole.
fn scrub_text(text: &str) -> String {
    match serde_json::from_str::<Value>(text) {
        Ok(mut value) => {
            scrub_value(&mut value);
            value.to_string()
        }
        Err(_) => r#"{"scrubbed":"body not JSON, dropped with its personal data"}"#.to_owned(),
    }
}

/// The fields of a HubRise customer that identify nobody: kept for the restaurant's reports.
const CUSTOMER_KEPT: [&str; 3] = ["id", "customer_list_id", "private_ref"];
/// Free text a customer wrote, anywhere in an order (the order's and each item's notes).
const FREE_TEXT: [&str; 2] = ["customer_notes", "delivery_notes"];

/// Removes, anywhere in `value`, a `customer` object's personal fields (name, phone, e-mail,
/// address, company, notes, coordinates...) and customers' free-text notes; ids, totals and items
/// stay.
pub fn scrub_value(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for key in FREE_TEXT {
                map.remove(key);
            }
            if let Some(Value::Object(customer)) = map.get_mut("customer") {
                customer.retain(|key, _| CUSTOMER_KEPT.contains(&key.as_str()));
            }
            for (key, child) in map.iter_mut() {
                if key != "customer" {
                    scrub_value(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(scrub_value),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_keeps_ids_totals_and_items() {
        let text = r#"{"id":"o1","total":"12.50 EUR","customer_id":"c9","customer_notes":"ring twice",
            "customer":{"id":"c9","first_name":"Marie","last_name":"Curie","email":"m@x.fr",
                        "phone":"+33612345678","address_1":"1 rue X","delivery_notes":"3rd floor"},
            "items":[{"product_name":"Pizza","price":"12.50 EUR","customer_notes":"for Marie"}]}"#;
        let out = scrub_text(text);
        for personal in [
            "Marie", "Curie", "m@x.fr", "+3361", "rue X", "ring", "floor",
        ] {
            assert!(!out.contains(personal), "{personal} left in {out}");
        }
        let value: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(value["id"], "o1");
        assert_eq!(value["total"], "12.50 EUR");
        assert_eq!(value["customer"]["id"], "c9");
        assert_eq!(value["items"][0]["product_name"], "Pizza");
    }

    #[test]
    fn a_body_that_is_not_json_is_dropped() {
        assert!(!scrub_text("Marie <m@x.fr>").contains("Marie"));
    }
}
