//! Orders and the HubRise events already applied. An event is recorded in the same transaction
//! as the order it brought, so a replayed or redelivered event changes nothing.

use std::borrow::Cow;
use std::sync::LazyLock;

use rusqlite::{Connection, OptionalExtension, Row, ToSql, params, params_from_iter};
use serde_json::Value;

use crate::error::{Error, Result, Service};
use crate::model::order::{
    self, Order, OrderFilter, OrderHead, OrderStatus, OrderSummary, StoredOrder, SummaryColumns,
    SummaryRow,
};
use crate::store::retention;
use crate::time::{now_ms, parse_iso8601_ms, to_system_time};

/// What storing an order did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// A new order.
    Inserted,
    /// Its JSON changed.
    Changed,
    /// Same JSON as stored.
    Unchanged,
    /// The event was already applied: nothing was written.
    AlreadyProcessed,
    /// It could not be identified: set aside with its body.
    Quarantined,
}

/// Whether an event of this connection was already applied.
pub fn is_processed(conn: &Connection, connection_id: &str, event_id: &str) -> Result<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM processed_events WHERE connection_id = ?1 AND event_id = ?2",
            [connection_id, event_id],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// Records an event as applied; `false` when it already was (nothing written then).
pub fn record_event(conn: &Connection, connection_id: &str, event_id: &str) -> Result<bool> {
    let inserted = conn.execute(
        "INSERT OR IGNORE INTO processed_events (connection_id, event_id, processed_at)
         VALUES (?1, ?2, ?3)",
        params![connection_id, event_id, now_ms()],
    )?;
    Ok(inserted == 1)
}

/// The inbox's columns beside an order's JSON (schema 5), in the order of [`summary_values`]:
/// the one list of them, for `upsert`, the backfill and the summaries' `SELECT`. A new column
/// goes here, in `summary_values` and in `summary_columns_of` (the compiler holds the three
/// together), in `SummaryColumns` and in a migration.
const SUMMARY_COLUMNS: [&str; SUMMARY_LEN] =
    ["ref", "customer_name", "expected_time", "item_count"];
const SUMMARY_LEN: usize = 4;

/// The values of [`SUMMARY_COLUMNS`], in their order.
fn summary_values(columns: &SummaryColumns) -> [&dyn ToSql; SUMMARY_LEN] {
    [
        &columns.reference,
        &columns.customer_name,
        &columns.expected_time,
        &columns.item_count,
    ]
}

/// The summary columns of a row read with [`SUMMARY_COLUMNS`], by name.
fn summary_columns_of(row: &Row<'_>) -> rusqlite::Result<SummaryColumns> {
    Ok(SummaryColumns {
        reference: row.get("ref")?,
        customer_name: row.get("customer_name")?,
        expected_time: row.get("expected_time")?,
        item_count: row.get("item_count")?,
    })
}

/// `first = ?n, second = ?n+1, ...` for the summary columns, from parameter `n`.
fn summary_assignments(first_param: usize) -> String {
    SUMMARY_COLUMNS
        .iter()
        .enumerate()
        .map(|(i, column)| format!("{column} = ?{}", first_param + i))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `?n, ?n+1, ...` for the summary columns.
fn summary_marks(first_param: usize) -> String {
    (0..SUMMARY_LEN)
        .map(|i| format!("?{}", first_param + i))
        .collect::<Vec<_>>()
        .join(", ")
}

static INSERT_ORDER: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO orders (id, location_id, connection_id, status, service_type, created_at,
             created_at_ms, total, json, received_at, updated_at, {})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, {})",
        SUMMARY_COLUMNS.join(", "),
        summary_marks(11)
    )
});

static UPDATE_ORDER: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE orders SET status = ?3, service_type = ?4, total = ?5, json = ?6, updated_at = ?7,
             connection_id = ?8, {}
         WHERE location_id = ?1 AND id = ?2",
        summary_assignments(9)
    )
});

/// Stores HubRise's current state of an order. Idempotent: the same JSON twice changes nothing.
pub fn upsert(
    conn: &Connection,
    connection_id: &str,
    location_id: &str,
    json: &Value,
) -> Result<Stored> {
    let head = OrderHead::decode(json).ok_or_else(|| Error::MalformedBody {
        service: Service::HubriseApi,
        reason: "an order without an id".into(),
    })?;
    let existing: Option<(String, bool)> = conn
        .query_row(
            "SELECT json, scrubbed_at IS NOT NULL FROM orders WHERE location_id = ?1 AND id = ?2",
            [location_id, head.id.as_str()],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    // Once scrubbed, an order stays scrubbed: what HubRise sends again (an update, a read-back)
    // is stored without the customer's personal data.
    let scrubbed = existing.as_ref().is_some_and(|(_, scrubbed)| *scrubbed);
    let stored = if scrubbed {
        let mut copy = json.clone();
        retention::scrub_value(&mut copy);
        Cow::Owned(copy)
    } else {
        Cow::Borrowed(json)
    };
    let text = stored.to_string();
    let now = now_ms();
    if existing.as_ref().is_some_and(|(old, _)| *old == text) {
        return Ok(Stored::Unchanged);
    }
    let summary = order::summary_columns(&stored);
    match existing {
        Some(_) => {
            let head_values: [&dyn ToSql; 8] = [
                &location_id,
                &head.id,
                &head.status,
                &head.service_type,
                &head.total,
                &text,
                &now,
                &connection_id,
            ];
            conn.prepare_cached(&UPDATE_ORDER)?
                .execute(params_from_iter(
                    head_values.into_iter().chain(summary_values(&summary)),
                ))?;
            Ok(Stored::Changed)
        }
        None => {
            let created_at_ms = parse_iso8601_ms(&head.created_at).unwrap_or(now);
            let head_values: [&dyn ToSql; 10] = [
                &head.id,
                &location_id,
                &connection_id,
                &head.status,
                &head.service_type,
                &head.created_at,
                &created_at_ms,
                &head.total,
                &text,
                &now,
            ];
            conn.prepare_cached(&INSERT_ORDER)?
                .execute(params_from_iter(
                    head_values.into_iter().chain(summary_values(&summary)),
                ))?;
            Ok(Stored::Inserted)
        }
    }
}

/// Writes the summary columns of every stored order as `upsert` does (schema 5 added them).
pub(super) fn backfill_summary_columns(conn: &Connection) -> rusqlite::Result<()> {
    let mut select = conn.prepare("SELECT rowid, json FROM orders")?;
    let mut update = conn.prepare(&format!(
        "UPDATE orders SET {} WHERE rowid = ?1",
        summary_assignments(2)
    ))?;
    let rows = select.query_map([], |row| {
        Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
    })?;
    for row in rows {
        let (rowid, text) = row?;
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        let columns = order::summary_columns(&json);
        let rowid: &dyn ToSql = &rowid;
        update.execute(params_from_iter(
            std::iter::once(rowid).chain(summary_values(&columns)),
        ))?;
    }
    Ok(())
}

/// The status HubRise last reported for an order.
pub fn hubrise_status(
    conn: &Connection,
    location_id: &str,
    order_id: &str,
) -> Result<Option<OrderStatus>> {
    let status: Option<String> = conn
        .query_row(
            "SELECT status FROM orders WHERE location_id = ?1 AND id = ?2",
            [location_id, order_id],
            |row| row.get(0),
        )
        .optional()?;
    Ok(status.map(|s| OrderStatus::parse(&s)))
}

/// The status of the last change made at the till still on its way, for an order `o`.
macro_rules! pending_status {
    () => {
        "(SELECT json_extract(x.patch, '$.status') FROM outbox x
          WHERE x.order_id = o.id AND x.connection_id = o.connection_id AND x.kind = 'till'
            AND x.finished_at IS NULL ORDER BY x.seq DESC LIMIT 1)"
    };
}

/// A whole order; its columns are read by name in [`from_row`].
const SELECT: &str = concat!(
    "SELECT o.connection_id AS connection_id, o.location_id AS location_id, o.json AS json,
        o.received_at AS received_at, o.updated_at AS updated_at, ",
    pending_status!(),
    " AS pending_status, o.seen_at IS NOT NULL AS seen
     FROM orders o JOIN connections c ON c.id = o.connection_id"
);

/// A row of the inbox; its columns are read by name in [`summary_from_row`].
static SELECT_SUMMARY: LazyLock<String> = LazyLock::new(|| {
    let summary: Vec<String> = SUMMARY_COLUMNS
        .iter()
        .map(|column| format!("o.{column} AS {column}"))
        .collect();
    format!(
        "SELECT o.id AS id, o.status AS status, o.service_type AS service_type, o.total AS total,
            o.created_at_ms AS created_at_ms, {}, {} AS pending_status,
            o.seen_at IS NOT NULL AS seen
         FROM orders o JOIN connections c ON c.id = o.connection_id",
        summary.join(", "),
        pending_status!()
    )
});

fn summary_from_row(row: &Row<'_>) -> rusqlite::Result<OrderSummary> {
    let pending: Option<String> = row.get("pending_status")?;
    Ok(order::summarize(SummaryRow {
        id: row.get("id")?,
        status: row.get("status")?,
        service_type: row.get("service_type")?,
        total: row.get("total")?,
        columns: summary_columns_of(row)?,
        created_at_ms: row.get("created_at_ms")?,
        pending_status: pending.map(|s| OrderStatus::parse(&s)),
        seen: row.get("seen")?,
    }))
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<Order> {
    let connection_id: String = row.get("connection_id")?;
    let location_id: String = row.get("location_id")?;
    let json: String = row.get("json")?;
    let json: Value = serde_json::from_str(&json).unwrap_or(Value::Null);
    let pending: Option<String> = row.get("pending_status")?;
    Ok(order::decode(&StoredOrder {
        connection_id: &connection_id,
        location_id: &location_id,
        json: &json,
        pending_status: pending.map(|s| OrderStatus::parse(&s)),
        received_at: to_system_time(row.get("received_at")?),
        updated_at: to_system_time(row.get("updated_at")?),
        seen: row.get("seen")?,
    }))
}

/// Orders received but not yet marked seen, oldest first (announced again after a restart).
pub fn unseen(conn: &Connection, pos_account_id: &str) -> Result<Vec<Order>> {
    let sql = format!(
        "{SELECT} WHERE c.pos_account_id = ?1 AND o.seen_at IS NULL ORDER BY o.received_at, o.id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([pos_account_id], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Marks orders of a POS account as seen; returns how many changed.
pub fn mark_seen(conn: &Connection, pos_account_id: &str, order_ids: &[String]) -> Result<usize> {
    let mut stmt = conn.prepare_cached(
        "UPDATE orders SET seen_at = ?3 WHERE id = ?2 AND seen_at IS NULL
           AND connection_id IN (SELECT id FROM connections WHERE pos_account_id = ?1)",
    )?;
    let now = now_ms();
    let mut changed = 0;
    for id in order_ids {
        changed += stmt.execute(params![pos_account_id, id, now])?;
    }
    Ok(changed)
}

/// One order of a POS account.
pub fn get(conn: &Connection, pos_account_id: &str, order_id: &str) -> Result<Option<Order>> {
    let sql = format!("{SELECT} WHERE c.pos_account_id = ?1 AND o.id = ?2");
    Ok(conn
        .query_row(&sql, [pos_account_id, order_id], from_row)
        .optional()?)
}

/// Where the order lives: (connection id, location id).
pub fn locate(
    conn: &Connection,
    pos_account_id: &str,
    order_id: &str,
) -> Result<Option<(String, String)>> {
    Ok(conn
        .query_row(
            "SELECT o.connection_id, o.location_id FROM orders o JOIN connections c ON c.id = o.connection_id
             WHERE c.pos_account_id = ?1 AND o.id = ?2",
            [pos_account_id, order_id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?)
}

/// Orders of a POS account matching `filter`, newest first.
pub fn list(conn: &Connection, pos_account_id: &str, filter: &OrderFilter) -> Result<Vec<Order>> {
    filtered(conn, SELECT, pos_account_id, filter, from_row)
}

/// The summaries of the orders `list` would return, for the inbox's rows.
pub fn summaries(
    conn: &Connection,
    pos_account_id: &str,
    filter: &OrderFilter,
) -> Result<Vec<OrderSummary>> {
    filtered(
        conn,
        &SELECT_SUMMARY,
        pos_account_id,
        filter,
        summary_from_row,
    )
}

/// Runs `select` over the account's orders matching `filter`, newest first, a page at a time.
fn filtered<T>(
    conn: &Connection,
    select: &str,
    pos_account_id: &str,
    filter: &OrderFilter,
    map: fn(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    let ms = |t: Option<std::time::SystemTime>| {
        t.and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    };
    let sql = format!(
        "{select} WHERE c.pos_account_id = ?1
           AND (?2 IS NULL OR o.status = ?2) AND (?3 IS NULL OR o.connection_id = ?3)
           AND (?4 IS NULL OR o.created_at_ms >= ?4) AND (?5 IS NULL OR o.created_at_ms < ?5)
           AND (?8 IS NULL OR o.created_at_ms < ?8 OR (o.created_at_ms = ?8 AND o.id > ?9))
         ORDER BY o.created_at_ms DESC, o.id LIMIT ?6 OFFSET ?7"
    );
    let limit = if filter.limit == 0 { 100 } else { filter.limit };
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![
            pos_account_id,
            filter.status.and_then(OrderStatus::as_str),
            filter.connection_id,
            ms(filter.created_after),
            ms(filter.created_before),
            limit,
            filter.offset,
            ms(filter.after.as_ref().map(|after| after.created_at)),
            filter.after.as_ref().map(|after| after.id.as_str()),
        ],
        map,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::account::PosAccount;
    use crate::model::connection::{ConnectionNames, ConnectionOrigin, ConnectionState};
    use crate::store::connections::{self, NewConnection};
    use crate::store::{Store, accounts};
    use proptest::prelude::*;

    /// Order events (event id, order id, status) as HubRise would deliver them: one payload per
    /// event id.
    fn events() -> impl Strategy<Value = Vec<(u8, u8, u8)>> {
        proptest::collection::btree_map(0u8..30, (0u8..6, 0u8..4), 1..30)
            .prop_map(|m| m.into_iter().map(|(e, (o, s))| (e, o, s)).collect())
    }

    fn order_json(order: u8, status: u8) -> Value {
        let status = ["new", "received", "accepted", "cancelled"][usize::from(status)];
        serde_json::json!({"id": format!("o{order}"), "status": status, "created_at": "2026-11-23T12:00:00+01:00",
            "total": "10.00 EUR"})
    }

    fn store_with_connection() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .write(|tx| {
                let account = PosAccount {
                    account_id: "a".into(),
                    email: "e".into(),
                    business_name: "b".into(),
                };
                accounts::make_current(tx, &account)?;
                let names = ConnectionNames {
                    location_id: "l".into(),
                    ..Default::default()
                };
                connections::insert(
                    tx,
                    &NewConnection {
                        id: "c",
                        pos_account_id: "a",
                        names: &names,
                        origin: ConnectionOrigin::Device,
                        state: ConnectionState::Active,
                        needs_confirmation: false,
                        secret_key: "k",
                    },
                )
            })
            .unwrap();
        (dir, store)
    }

    fn apply(store: &Store, events: &[(u8, u8, u8)]) {
        for (event, order, status) in events {
            store
                .write(|tx| {
                    if record_event(tx, "c", &format!("e{event}"))? {
                        upsert(tx, "c", "l", &order_json(*order, *status))?;
                    }
                    Ok(())
                })
                .unwrap();
        }
    }

    fn contents(store: &Store) -> (Vec<(String, String)>, i64) {
        store
            .read(|c| {
                let mut stmt = c.prepare("SELECT id, json FROM orders ORDER BY id")?;
                let rows = stmt
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                let events: i64 =
                    c.query_row("SELECT count(*) FROM processed_events", [], |r| r.get(0))?;
                Ok((rows, events))
            })
            .unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn redelivered_and_replayed_events_change_nothing(events in events(), seed in any::<u64>()) {
            let (_dir, store) = store_with_connection();
            apply(&store, &events);
            let once = contents(&store);

            // Redeliver everything, in another order: nothing changes.
            let mut shuffled = events.clone();
            let len = shuffled.len();
            for i in 0..len {
                let j = usize::try_from((seed.wrapping_mul(6364136223846793005).wrapping_add(i as u64)) % len as u64).unwrap();
                shuffled.swap(i, j);
            }
            apply(&store, &shuffled);
            prop_assert_eq!(contents(&store), once.clone());

            // One row per order, one processed event per distinct event id.
            let orders: std::collections::BTreeSet<u8> = events.iter().map(|e| e.1).collect();
            let ids: std::collections::BTreeSet<u8> = events.iter().map(|e| e.0).collect();
            prop_assert_eq!(once.0.len(), orders.len());
            prop_assert_eq!(once.1, i64::try_from(ids.len()).unwrap());
        }

        #[test]
        fn the_same_state_twice_is_unchanged(order in 0u8..6, status in 0u8..4) {
            let (_dir, store) = store_with_connection();
            let json = order_json(order, status);
            let first = store.write(|tx| upsert(tx, "c", "l", &json)).unwrap();
            let second = store.write(|tx| upsert(tx, "c", "l", &json)).unwrap();
            prop_assert_eq!((first, second), (Stored::Inserted, Stored::Unchanged));
        }
    }

    #[test]
    fn migrating_to_schema_5_fills_the_summary_columns_as_upsert_writes_them() {
        let orders = [
            serde_json::json!({"id": "o1", "ref": "A-1", "expected_time": "2026-11-23T13:00:00+01:00",
                "customer": {"first_name": " Marie ", "last_name": "Curie"},
                "items": [{"deleted": false}, {"deleted": true}, {}]}),
            serde_json::json!({"id": "o2", "customer": {"company_name": "Acme"}, "items": []}),
            serde_json::json!({"id": "o3", "customer": {"last_name": "Seul"}, "items": "none"}),
            serde_json::json!({"id": "o4", "customer": null, "ref": null}),
            // Entries that are not objects count as items, as the full order reads them.
            serde_json::json!({"id": "o5", "ref": 7, "items": ["Pizza", 3, {"deleted": true}]}),
        ];
        type Columns = (Option<String>, Option<String>, Option<String>, i64);
        let read = |conn: &Connection| -> Vec<Columns> {
            let mut stmt = conn
                .prepare(
                    "SELECT ref, customer_name, expected_time, item_count FROM orders ORDER BY id",
                )
                .unwrap();
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .unwrap()
                .collect::<rusqlite::Result<Vec<_>>>()
                .unwrap()
        };
        // What `upsert` writes on a current database.
        let (_dir, store) = store_with_connection();
        for order in &orders {
            store.write(|tx| upsert(tx, "c", "l", order)).unwrap();
        }
        let written = store.read(|conn| Ok(read(conn))).unwrap();
        assert_eq!(written[0].1.as_deref(), Some("Marie Curie"));
        assert_eq!((written[0].3, written[2].3, written[4].3), (2, 0, 2));

        // The same orders in a database of schema 4, opened by this version.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(super::super::DATABASE_FILE);
        let conn = Connection::open(&path).unwrap();
        for sql in &super::super::open::MIGRATIONS[..4] {
            conn.execute_batch(sql).unwrap();
        }
        conn.execute_batch(
            "PRAGMA user_version = 4;
             INSERT INTO pos_accounts (id, email, business_name, signed_in_at, updated_at)
                 VALUES ('a', 'e', 'b', 0, 0);
             INSERT INTO connections (id, pos_account_id, location_id, origin, state, secret_key,
                 created_at, updated_at) VALUES ('c', 'a', 'l', 'device', 'active', 'k', 0, 0);",
        )
        .unwrap();
        for order in &orders {
            conn.execute(
                "INSERT INTO orders (id, location_id, connection_id, status, created_at,
                     created_at_ms, json, received_at, updated_at)
                 VALUES (?1, 'l', 'c', 'new', '', 0, ?2, 0, 0)",
                params![order["id"].as_str(), order.to_string()],
            )
            .unwrap();
        }
        drop(conn);
        let migrated = Store::open(dir.path()).unwrap();
        assert_eq!(migrated.read(|conn| Ok(read(conn))).unwrap(), written);
    }

    #[test]
    fn an_order_with_nulls_and_numbers_is_stored_as_sent_not_dropped() {
        let (_dir, store) = store_with_connection();
        let odd = serde_json::json!({"id": "o9", "status": null, "created_at": null, "total": 12,
            "customer": null, "items": null});
        let stored = store.write(|tx| upsert(tx, "c", "l", &odd)).unwrap();
        assert_eq!(stored, Stored::Inserted);
        let order = store.read(|c| get(c, "a", "o9")).unwrap().unwrap();
        assert_eq!(order.status, OrderStatus::Unknown);
        assert!(order.items.is_empty() && order.customer.is_none());
        let kept: String = store
            .read(|c| Ok(c.query_row("SELECT json FROM orders WHERE id = 'o9'", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&kept).unwrap(),
            odd,
            "kept as HubRise sent it"
        );
    }

    #[test]
    fn one_orders_waiting_change_never_holds_back_another_orders() {
        use crate::store::outbox::{self, Kind};
        let (_dir, store) = store_with_connection();
        let patch = serde_json::json!({"status": "accepted"});
        store
            .write(|tx| {
                outbox::enqueue(tx, "c", "o1", Kind::Till, &patch, None)?;
                outbox::enqueue(tx, "c", "o1", Kind::Till, &patch, None)?;
                outbox::enqueue(tx, "c", "o2", Kind::Till, &patch, None)
            })
            .unwrap();
        let due = |busy: &[&str]| {
            store
                .read(|c| outbox::due_heads(c, "c", 600_000, busy, 10))
                .unwrap()
        };
        let heads = due(&[]);
        assert_eq!(heads.len(), 2, "o1's first change and o2's");
        let first = heads[0].clone();
        assert_eq!(first.order_id, "o1");
        // An order being pushed is left out.
        assert_eq!(due(&["o1"])[0].order_id, "o2");
        // o1's first change waits for a retry: o1's second waits behind it, o2's goes.
        store
            .write(|tx| outbox::retry_later(tx, first.seq, now_ms() + 60_000, "503"))
            .unwrap();
        let next = due(&[]).remove(0);
        assert_eq!(next.order_id, "o2");
        store
            .write(|tx| outbox::finish(tx, next.seq, None))
            .unwrap();
        assert!(due(&[]).is_empty());
        // Failed past its budget: o1 stops until retried, then goes in order.
        store
            .write(|tx| outbox::fail(tx, first.seq, "503"))
            .unwrap();
        assert_eq!(store.read(|c| outbox::count_failed(c, "c")).unwrap(), 1);
        assert_eq!(store.write(|tx| outbox::retry_failed(tx, "o1")).unwrap(), 1);
        let again = due(&[]).remove(0);
        assert_eq!((again.seq, again.attempts), (first.seq, 0));
    }

    #[test]
    fn a_page_by_key_follows_the_last_row_whatever_arrives_above() {
        let (_dir, store) = store_with_connection();
        // Six orders of one millisecond (ties broken by id), then two newer ones between pages.
        apply(
            &store,
            &[
                (0, 0, 0),
                (1, 1, 0),
                (2, 2, 0),
                (3, 3, 0),
                (4, 4, 0),
                (5, 5, 0),
            ],
        );
        let page = |after: Option<&OrderSummary>| {
            let filter = OrderFilter {
                limit: 2,
                after: after.map(|row| crate::model::order::OrderCursor {
                    created_at: row.created_at,
                    id: row.id.clone(),
                }),
                ..Default::default()
            };
            store.read(|c| summaries(c, "a", &filter)).unwrap()
        };
        let mut seen = page(None);
        while let Some(last) = seen.last().cloned() {
            store
                .write(|tx| {
                    let id = format!("new-after-{}", last.id);
                    let json = serde_json::json!({"id": id, "status": "new",
                        "created_at": "2026-11-24T12:00:00+01:00", "total": "10.00 EUR"});
                    upsert(tx, "c", "l", &json).map(|_| ())
                })
                .unwrap();
            let next = page(Some(&last));
            if next.is_empty() {
                break;
            }
            seen.extend(next);
        }
        let ids: Vec<&str> = seen.iter().map(|row| row.id.as_str()).collect();
        assert_eq!(
            ids,
            ["o0", "o1", "o2", "o3", "o4", "o5"],
            "by offset: o0 and o1 again, o4 and o5 never"
        );
    }
}
