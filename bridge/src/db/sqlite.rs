//! The embedded default: one SQLite file (WAL), one connection behind a mutex, used from
//! tokio's blocking pool so a slow disk never stalls the async workers.

use std::path::Path;
use std::sync::{Arc, Mutex};

use futures_util::future::BoxFuture;
use rusqlite::types::{ToSqlOutput, ValueRef};

use super::{Database, DbError, Row, Value};

pub struct Sqlite {
    connection: Arc<Mutex<rusqlite::Connection>>,
}

fn query_error(e: rusqlite::Error) -> DbError {
    DbError::Query(e.to_string())
}

impl Sqlite {
    /// Opens (creating) the file; its folder must exist.
    pub fn open(path: &Path) -> Result<Self, DbError> {
        let connection = rusqlite::Connection::open(path)
            .map_err(|e| DbError::Unavailable(format!("{}: {e}", path.display())))?;
        connection
            .execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;")
            .map_err(query_error)?;
        Ok(Sqlite {
            connection: Arc::new(Mutex::new(connection)),
        })
    }

    /// Runs `work` on the connection, off the async workers.
    fn with<'a, T: Send + 'static>(
        &'a self,
        work: impl FnOnce(&mut rusqlite::Connection) -> Result<T, DbError> + Send + 'static,
    ) -> BoxFuture<'a, Result<T, DbError>> {
        let connection = self.connection.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let mut guard = connection
                    .lock()
                    .map_err(|_| DbError::Unavailable("SQLite connection poisoned".into()))?;
                work(&mut guard)
            })
            .await
            .map_err(|e| DbError::Unavailable(e.to_string()))?
        })
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Text(Some(s)) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::Int(Some(i)) => ToSqlOutput::Owned(rusqlite::types::Value::Integer(*i)),
            Value::Text(None) | Value::Int(None) => {
                ToSqlOutput::Owned(rusqlite::types::Value::Null)
            }
        })
    }
}

fn read_row(row: &rusqlite::Row<'_>, columns: usize) -> rusqlite::Result<Row> {
    (0..columns)
        .map(|i| {
            Ok(match row.get_ref(i)? {
                ValueRef::Integer(n) => Value::Int(Some(n)),
                ValueRef::Text(t) | ValueRef::Blob(t) => {
                    Value::Text(Some(String::from_utf8_lossy(t).into_owned()))
                }
                ValueRef::Real(f) => Value::Text(Some(f.to_string())),
                ValueRef::Null => Value::Text(None),
            })
        })
        .collect()
}

impl Database for Sqlite {
    fn execute<'a>(
        &'a self,
        sql: &'a str,
        params: Vec<Value>,
    ) -> BoxFuture<'a, Result<u64, DbError>> {
        let sql = sql.to_owned();
        self.with(move |c| {
            c.execute(&sql, rusqlite::params_from_iter(params.iter()))
                .map(|n| n as u64)
                .map_err(query_error)
        })
    }

    fn query<'a>(
        &'a self,
        sql: &'a str,
        params: Vec<Value>,
    ) -> BoxFuture<'a, Result<Vec<Row>, DbError>> {
        let sql = sql.to_owned();
        self.with(move |c| {
            let mut statement = c.prepare_cached(&sql).map_err(query_error)?;
            let columns = statement.column_count();
            let rows = statement
                .query_map(rusqlite::params_from_iter(params.iter()), |row| {
                    read_row(row, columns)
                })
                .map_err(query_error)?;
            rows.collect::<rusqlite::Result<Vec<Row>>>()
                .map_err(query_error)
        })
    }

    fn batch<'a>(&'a self, sql: &'a str) -> BoxFuture<'a, Result<(), DbError>> {
        let sql = sql.to_owned();
        self.with(move |c| c.execute_batch(&sql).map_err(query_error))
    }

    fn kind(&self) -> &'static str {
        "sqlite"
    }
}
