//! One storage interface over SQLite (the embedded default, rusqlite on tokio's blocking pool)
//! and Postgres (tokio-postgres, for replicas). Both run the same SQL: `$1`-style parameters
//! (SQLite reads them as named parameters numbered in order of first use, so every query names
//! them in increasing order), `ON CONFLICT` upserts, `RETURNING`, TEXT and BIGINT columns only.
//! Every operation that must be atomic is one statement, so no transaction spans two calls.
//!
//! Why not sqlx (decision 27 names it): the workspace links SQLite through rusqlite 0.37
//! (libsqlite3-sys 0.35, `links = "sqlite3"`), and sqlx's SQLite driver pins another
//! libsqlite3-sys, which Cargo refuses in one build; sqlx 0.9 also needs a newer Rust than the
//! workspace's. rusqlite plus tokio-postgres are two maintained drivers already at hand.

pub mod postgres;
pub mod sqlite;

use futures_util::future::BoxFuture;

/// A parameter or a column value. Typed nulls, because Postgres checks parameter types.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Text(Option<String>),
    Int(Option<i64>),
}

impl Value {
    pub fn text(v: impl Into<String>) -> Self {
        Value::Text(Some(v.into()))
    }
    pub fn opt_text(v: Option<impl Into<String>>) -> Self {
        Value::Text(v.map(Into::into))
    }
    pub fn int(v: i64) -> Self {
        Value::Int(Some(v))
    }
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(v) => v.as_deref(),
            Value::Int(_) => None,
        }
    }
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(v) => *v,
            Value::Text(_) => None,
        }
    }
}

pub type Row = Vec<Value>;

/// A storage failure. `Unavailable` (the database cannot be reached) is answered 503 with
/// `Retry-After`; the bridge reconnects by itself.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Query(String),
}

/// What both databases offer.
pub trait Database: Send + Sync {
    /// Runs one statement; the number of rows it changed.
    fn execute<'a>(
        &'a self,
        sql: &'a str,
        params: Vec<Value>,
    ) -> BoxFuture<'a, Result<u64, DbError>>;
    /// Runs one statement; its rows, columns in the statement's order.
    fn query<'a>(
        &'a self,
        sql: &'a str,
        params: Vec<Value>,
    ) -> BoxFuture<'a, Result<Vec<Row>, DbError>>;
    /// Runs several statements without parameters (migrations).
    fn batch<'a>(&'a self, sql: &'a str) -> BoxFuture<'a, Result<(), DbError>>;
    /// `sqlite` or `postgres`, for logs and health.
    fn kind(&self) -> &'static str;
    /// Tells the other replicas listening on `channel` (Postgres `NOTIFY`). SQLite serves one
    /// process, which learns in memory: nothing to send.
    fn notify<'a>(
        &'a self,
        _channel: &'a str,
        _payload: &'a str,
    ) -> BoxFuture<'a, Result<(), DbError>> {
        Box::pin(async { Ok(()) })
    }
    /// Follows `channel` (Postgres `LISTEN`, on a connection of its own, connected again when
    /// it drops): each payload, and [`Heard::Reconnected`] when notices may have been missed.
    /// `None` where there is nothing to follow (SQLite).
    fn listen(&self, _channel: &str) -> Option<tokio::sync::mpsc::Receiver<Heard>> {
        None
    }
}

/// What a listener hears.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Heard {
    Payload(String),
    /// The listening connection was (re)made: anything sent meanwhile was missed.
    Reconnected,
}

/// The schema's migrations, in order; the same SQL for both databases.
pub const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/0001_init.sql")),
    (2, include_str!("../../migrations/0002_callback_events.sql")),
    (3, include_str!("../../migrations/0003_push_devices.sql")),
    (4, include_str!("../../migrations/0004_event_changes.sql")),
];

/// The newest schema version this build knows.
pub fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |(v, _)| *v)
}

const VERSIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)";

/// The highest migration applied.
pub async fn schema_version(db: &dyn Database) -> Result<i64, DbError> {
    let rows = db
        .query(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            vec![],
        )
        .await?;
    Ok(rows
        .first()
        .and_then(|r| r.first())
        .and_then(Value::as_int)
        .unwrap_or(0))
}

/// Applies the migrations not applied yet, each in one transaction with its version row. Two
/// replicas starting together: the loser's statements fail on what the winner created (even
/// Postgres's `CREATE TABLE IF NOT EXISTS` can, on its catalogue), it rolls back and tries
/// again, and finds the migrations applied.
pub async fn migrate(db: &dyn Database) -> Result<i64, DbError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match migrate_once(db).await {
            Err(DbError::Query(_)) if attempt < 3 => {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            other => return other,
        }
    }
}

async fn migrate_once(db: &dyn Database) -> Result<i64, DbError> {
    db.batch(VERSIONS_TABLE).await?;
    for (version, sql) in MIGRATIONS {
        if schema_version(db).await? >= *version {
            continue;
        }
        let now = crate::clock::now_ms();
        let script = format!(
            "BEGIN;\n{sql}\nINSERT INTO schema_migrations (version, applied_at) VALUES ({version}, {now});\nCOMMIT;"
        );
        if let Err(error) = db.batch(&script).await {
            let _ = db.batch("ROLLBACK").await;
            if schema_version(db).await? < *version {
                return Err(error);
            }
        }
        tracing::info!(version, database = db.kind(), "migration applied");
    }
    schema_version(db).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn migrations_apply_once_and_the_version_reads_back()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let db = sqlite::Sqlite::open(&dir.path().join("t.db"))?;
        assert_eq!(migrate(&db).await?, latest_version());
        assert_eq!(migrate(&db).await?, latest_version());
        let rows = db
            .query("SELECT COUNT(*) FROM schema_migrations", vec![])
            .await?;
        assert_eq!(rows[0][0].as_int(), Some(MIGRATIONS.len() as i64));
        Ok(())
    }
}
