//! HubRise's events as the bridge keeps them: per location, in the order received, each sealed
//! (they carry customers' personal data), and where each till stands. Written once for SQLite
//! and Postgres, like `store.rs`.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value as Json;

use crate::clock::now_ms;
use crate::crypto::Keyring;
use crate::db::{Database, DbError, Row, Value};
use crate::secret::Secret;
use crate::store::StoreResult;

/// An event HubRise sent, read enough to be filed: its id and location.
#[derive(Debug)]
pub struct Incoming {
    pub id: String,
    pub location_id: String,
    /// `resource_type.event_type`, e.g. `order.create`.
    pub kind: String,
    /// The body exactly as HubRise sent it (its signature was checked on these bytes).
    pub body: String,
    /// What makes it the same change as another connection's copy of it, when it says enough
    /// (see [`change_key`]).
    pub change_key: Option<String>,
}

impl Incoming {
    /// Reads an event's JSON; why it cannot be filed otherwise.
    pub fn parse(body: &[u8]) -> Result<Incoming, &'static str> {
        let text = std::str::from_utf8(body).map_err(|_| "The body is not UTF-8")?;
        let json: Json = serde_json::from_str(text).map_err(|_| "Invalid JSON")?;
        let field = |key: &str| {
            json.get(key)
                .and_then(Json::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        Ok(Incoming {
            id: field("id").ok_or("The event has no id")?,
            location_id: field("location_id").ok_or("The event names no location_id")?,
            kind: format!(
                "{}.{}",
                field("resource_type").unwrap_or_default(),
                field("event_type").unwrap_or_default()
            ),
            body: text.to_owned(),
            change_key: change_key(&json),
        })
    }
}

/// HubRise sends one change once per connection listening to it, and each till has its own
/// connection: the copies share the location, the kind, the order, the time of the change and
/// its new state (which HubRise renders for the app, the same client for every till). A digest
/// of those files them once. `None` when one is missing: such an event is never taken for
/// another (a copy is then filed twice, as before, which costs reads, never an event).
fn change_key(event: &Json) -> Option<String> {
    let field = |key: &str| event.get(key).filter(|v| !v.is_null());
    let parts = [
        field("location_id")?,
        field("resource_type")?,
        field("event_type")?,
        field("order_id")?,
        field("created_at")?,
        field("new_state")?,
    ];
    // serde_json's maps are sorted by key: equal states print equal.
    let text: Vec<String> = parts.iter().map(|v| v.to_string()).collect();
    Some(crate::secret::digest(&text.join("\n")))
}

/// An event as a till receives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub location_id: String,
    pub seq: i64,
    pub kind: String,
    /// `None` for a tombstone (past the retention).
    pub body: Option<Secret>,
}

/// Attempts at an insert that met another replica's insert for the same location.
const INSERT_ATTEMPTS: u32 = 8;

#[derive(Clone)]
pub struct Events {
    db: Arc<dyn Database>,
    keys: Keyring,
}

fn seal_context(event_id: &str) -> String {
    format!("event:{event_id}")
}

impl Events {
    pub fn new(db: Arc<dyn Database>, keys: Keyring) -> Self {
        Events { db, keys }
    }

    /// Files an event under its location's next number; `None` when it was filed already (a
    /// replay, or another connection's copy of the same change). When this returns, the event is
    /// committed.
    pub async fn store(&self, event: &Incoming) -> StoreResult<Option<i64>> {
        let sealed = self
            .keys
            .seal(&Secret::new(event.body.clone()), &seal_context(&event.id));
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.insert(event, &sealed).await {
                // Another replica took the same number first: take the next one.
                Err(DbError::Query(_)) if attempt < INSERT_ATTEMPTS => {
                    let jitter = rand::random::<u64>() % 10;
                    tokio::time::sleep(Duration::from_millis(2 + jitter)).await;
                }
                other => return Ok(other?),
            }
        }
    }

    async fn insert(&self, event: &Incoming, sealed: &str) -> Result<Option<i64>, DbError> {
        let rows = self
            .db
            .query(
                "INSERT INTO callback_events \
                 (event_id, location_id, seq, kind, body_sealed, received_ms, change_key) \
                 SELECT CAST($1 AS TEXT), CAST($2 AS TEXT), next.seq, CAST($3 AS TEXT), \
                 CAST($4 AS TEXT), CAST($5 AS BIGINT), CAST($6 AS TEXT) \
                 FROM (SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM callback_events \
                 WHERE location_id = $2) next \
                 WHERE NOT EXISTS (SELECT 1 FROM callback_events \
                 WHERE location_id = $2 AND change_key = CAST($6 AS TEXT)) \
                 ON CONFLICT (event_id) DO NOTHING RETURNING seq",
                vec![
                    Value::text(&event.id),
                    Value::text(&event.location_id),
                    Value::text(&event.kind),
                    Value::text(sealed),
                    Value::int(now_ms()),
                    Value::opt_text(event.change_key.as_deref()),
                ],
            )
            .await?;
        Ok(rows.first().and_then(|r| r.first()).and_then(Value::as_int))
    }

    /// The location's events after `seq`, oldest first, at most `limit`.
    pub async fn after(&self, location_id: &str, seq: i64, limit: i64) -> StoreResult<Vec<Stored>> {
        let rows = self
            .db
            .query(
                "SELECT event_id, seq, kind, body_sealed FROM callback_events \
                 WHERE location_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                vec![Value::text(location_id), Value::int(seq), Value::int(limit)],
            )
            .await?;
        rows.iter()
            .map(|row| self.stored(location_id, row))
            .collect()
    }

    fn stored(&self, location_id: &str, row: &Row) -> StoreResult<Stored> {
        let text = |i: usize| row.get(i).and_then(Value::as_text);
        let body = match text(3) {
            Some(sealed) => Some(
                self.keys
                    .open(sealed, &seal_context(text(0).unwrap_or_default()))?,
            ),
            None => None,
        };
        Ok(Stored {
            location_id: location_id.to_owned(),
            seq: row.get(1).and_then(Value::as_int).unwrap_or_default(),
            kind: text(2).unwrap_or_default().to_owned(),
            body,
        })
    }

    /// The location's newest number (0 before its first event).
    pub async fn head(&self, location_id: &str) -> StoreResult<i64> {
        let rows = self
            .db
            .query(
                "SELECT COALESCE(MAX(seq), 0) FROM callback_events WHERE location_id = $1",
                vec![Value::text(location_id)],
            )
            .await?;
        Ok(rows
            .first()
            .and_then(|r| r.first())
            .and_then(Value::as_int)
            .unwrap_or(0))
    }

    /// How many events are kept (all locations).
    pub async fn count(&self) -> StoreResult<i64> {
        let rows = self
            .db
            .query("SELECT COUNT(*) FROM callback_events", vec![])
            .await?;
        Ok(rows
            .first()
            .and_then(|r| r.first())
            .and_then(Value::as_int)
            .unwrap_or(0))
    }

    /// Where a till stands in a location's events, if it ever streamed them.
    pub async fn cursor(
        &self,
        pos_account_id: &str,
        device_id: &str,
        location_id: &str,
    ) -> StoreResult<Option<i64>> {
        let rows = self
            .db
            .query(
                "SELECT seq FROM till_cursors WHERE pos_account_id = $1 AND device_id = $2 AND location_id = $3",
                vec![Value::text(pos_account_id), Value::text(device_id), Value::text(location_id)],
            )
            .await?;
        Ok(rows.first().and_then(|r| r.first()).and_then(Value::as_int))
    }

    /// Records where a till stands (the last event sent to it).
    pub async fn set_cursor(
        &self,
        pos_account_id: &str,
        device_id: &str,
        location_id: &str,
        seq: i64,
    ) -> StoreResult<()> {
        self.db
            .execute(
                "INSERT INTO till_cursors (pos_account_id, device_id, location_id, seq, updated_ms) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (pos_account_id, device_id, location_id) \
                 DO UPDATE SET seq = excluded.seq, updated_ms = excluded.updated_ms",
                vec![
                    Value::text(pos_account_id),
                    Value::text(device_id),
                    Value::text(location_id),
                    Value::int(seq),
                    Value::int(now_ms()),
                ],
            )
            .await?;
        Ok(())
    }

    /// Deletes the events every till of their location has, and those older than `retention`
    /// (a location's newest is kept as a tombstone, so its numbers never go back); forgets the
    /// tills not seen for `retention`. The number of events deleted.
    pub async fn prune(&self, retention: Duration) -> StoreResult<u64> {
        let before = now_ms() - retention.as_millis() as i64;
        let deleted = self
            .db
            .execute(
                "DELETE FROM callback_events WHERE seq < (SELECT MAX(h.seq) FROM callback_events h \
                 WHERE h.location_id = callback_events.location_id) AND (received_ms < $1 OR seq <= \
                 (SELECT MIN(c.seq) FROM till_cursors c WHERE c.location_id = callback_events.location_id))",
                vec![Value::int(before)],
            )
            .await?;
        self.db
            .execute(
                "UPDATE callback_events SET body_sealed = NULL WHERE received_ms < $1 AND body_sealed IS NOT NULL",
                vec![Value::int(before)],
            )
            .await?;
        self.db
            .execute(
                "DELETE FROM till_cursors WHERE updated_ms < $1",
                vec![Value::int(before)],
            )
            .await?;
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::Key;

    async fn events() -> Result<(Events, tempfile::TempDir), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let db = Arc::new(crate::db::sqlite::Sqlite::open(&dir.path().join("t.db"))?);
        crate::db::migrate(db.as_ref()).await?;
        Ok((Events::new(db, Keyring::new(Key::generate(), vec![])), dir))
    }

    fn incoming(id: &str, location: &str) -> Incoming {
        let body = format!(
            r#"{{"id":"{id}","resource_type":"order","event_type":"create","location_id":"{location}","order_id":"o-{id}"}}"#
        );
        Incoming::parse(body.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
    }

    #[tokio::test]
    async fn events_are_numbered_per_location_stored_once_and_read_in_order()
    -> Result<(), Box<dyn std::error::Error>> {
        let (events, _dir) = events().await?;
        assert_eq!(events.store(&incoming("e1", "paris")).await?, Some(1));
        assert_eq!(events.store(&incoming("e2", "lyon")).await?, Some(1));
        assert_eq!(events.store(&incoming("e3", "paris")).await?, Some(2));
        assert_eq!(
            events.store(&incoming("e1", "paris")).await?,
            None,
            "a replay"
        );
        assert_eq!(events.count().await?, 3);
        let paris = events.after("paris", 0, 10).await?;
        assert_eq!(paris.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(paris[0].kind, "order.create");
        let body = paris[0].body.as_ref().map(|b| b.expose().to_owned());
        assert!(body.is_some_and(|b| b.contains("\"o-e1\"")));
        assert_eq!(events.after("paris", 1, 10).await?.len(), 1);
        assert_eq!(events.head("paris").await?, 2);
        assert_eq!(events.head("nice").await?, 0);
        Ok(())
    }

    /// HubRise's copy of one change for another connection (another till's).
    fn copy_of_change(id: &str, status: &str) -> Incoming {
        let body = format!(
            r#"{{"id":"{id}","resource_type":"order","event_type":"update","location_id":"paris","order_id":"o1","created_at":"2026-12-06T19:30:00+01:00","new_state":{{"status":"{status}","id":"o1"}}}}"#
        );
        Incoming::parse(body.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
    }

    #[tokio::test]
    async fn the_connections_copies_of_one_change_are_filed_once()
    -> Result<(), Box<dyn std::error::Error>> {
        let (events, _dir) = events().await?;
        assert_eq!(
            events.store(&copy_of_change("c1", "accepted")).await?,
            Some(1)
        );
        assert_eq!(
            events.store(&copy_of_change("c2", "accepted")).await?,
            None,
            "another till's connection's copy"
        );
        assert_eq!(
            events.store(&copy_of_change("c3", "cancelled")).await?,
            Some(2),
            "another change at the same second"
        );
        // Without the change's state nothing tells a copy from another change: both filed.
        assert_eq!(events.store(&incoming("e1", "paris")).await?, Some(3));
        assert_eq!(
            events.store(&incoming("e1", "paris")).await?,
            None,
            "a replay"
        );
        assert_eq!(events.count().await?, 3);
        Ok(())
    }

    #[tokio::test]
    async fn pruning_keeps_what_a_till_lacks_and_never_takes_a_location_back()
    -> Result<(), Box<dyn std::error::Error>> {
        let (events, _dir) = events().await?;
        for id in ["a", "b", "c"] {
            events.store(&incoming(id, "paris")).await?;
        }
        events.set_cursor("pos-1", "till-1", "paris", 3).await?;
        events.set_cursor("pos-1", "till-2", "paris", 1).await?;
        events.prune(Duration::from_secs(3600)).await?;
        // till-2 still lacks 2 and 3.
        let left: Vec<i64> = events
            .after("paris", 0, 10)
            .await?
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(left, [2, 3]);
        events.set_cursor("pos-1", "till-2", "paris", 3).await?;
        events.prune(Duration::from_secs(3600)).await?;
        let left: Vec<i64> = events
            .after("paris", 0, 10)
            .await?
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(left, [3], "the newest stays, so numbering goes on");
        // Past the retention: the newest is a tombstone, and the next event is number 4.
        events.prune(Duration::ZERO).await?;
        tokio::time::sleep(Duration::from_millis(5)).await;
        events.prune(Duration::ZERO).await?;
        assert_eq!(events.after("paris", 0, 10).await?[0].body, None);
        assert_eq!(events.store(&incoming("d", "paris")).await?, Some(4));
        Ok(())
    }

    #[test]
    fn an_event_without_id_or_location_cannot_be_filed() {
        assert!(Incoming::parse(br#"{"location_id":"x"}"#).is_err());
        assert!(Incoming::parse(br#"{"id":"x"}"#).is_err());
        assert!(Incoming::parse(b"not json").is_err());
    }
}
