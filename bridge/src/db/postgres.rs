//! Postgres for several replicas: one tokio-postgres client (it pipelines concurrent queries),
//! connected again by the next query after the server went away, so a Postgres restart costs
//! the requests in flight (503, `Retry-After`) and never a restart of the bridge.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use tokio::sync::Mutex;
use tokio_postgres::types::{ToSql, Type};

use super::{Database, DbError, Row, Value};
use crate::secret::Secret;

pub struct Postgres {
    config: tokio_postgres::Config,
    client: Mutex<Option<Arc<tokio_postgres::Client>>>,
}

impl Postgres {
    /// Reads the URL (no connection yet: the first query connects, so a bridge can start while
    /// its database is still coming up, and `/readyz` says so).
    pub fn new(url: &Secret) -> Result<Self, DbError> {
        let config = url
            .expose()
            .parse()
            .map_err(|_| DbError::Unavailable("invalid postgres URL".into()))?;
        Ok(Postgres {
            config,
            client: Mutex::new(None),
        })
    }

    async fn client(&self) -> Result<Arc<tokio_postgres::Client>, DbError> {
        let mut slot = self.client.lock().await;
        if let Some(client) = slot.as_ref().filter(|c| !c.is_closed()) {
            return Ok(client.clone());
        }
        let (client, connection) = self
            .config
            .connect(tokio_postgres::NoTls)
            .await
            .map_err(|e| DbError::Unavailable(e.to_string()))?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!(error = %e, "postgres connection ended");
            }
        });
        let client = Arc::new(client);
        *slot = Some(client.clone());
        Ok(client)
    }
}

/// A closed connection or a server shutting down is an outage; anything else is the query's.
fn classify(e: tokio_postgres::Error) -> DbError {
    let outage = e.is_closed()
        || e.code()
            .is_some_and(|c| c.code().starts_with("57P") || c.code().starts_with("08"))
        || e.as_db_error().is_none();
    if outage {
        DbError::Unavailable(e.to_string())
    } else {
        DbError::Query(e.to_string())
    }
}

/// The parameters as tokio-postgres takes them (typed nulls included).
fn parameters(params: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|v| -> &(dyn ToSql + Sync) {
            match v {
                Value::Text(t) => t,
                Value::Int(i) => i,
            }
        })
        .collect()
}

fn read_row(row: &tokio_postgres::Row) -> Result<Row, DbError> {
    let get = |i: usize, ty: &Type| -> Result<Value, tokio_postgres::Error> {
        Ok(match *ty {
            Type::INT8 => Value::Int(row.try_get::<_, Option<i64>>(i)?),
            Type::INT4 => Value::Int(row.try_get::<_, Option<i32>>(i)?.map(i64::from)),
            _ => Value::Text(row.try_get::<_, Option<String>>(i)?),
        })
    };
    row.columns()
        .iter()
        .enumerate()
        .map(|(i, c)| get(i, c.type_()).map_err(classify))
        .collect()
}

impl Database for Postgres {
    fn execute<'a>(
        &'a self,
        sql: &'a str,
        params: Vec<Value>,
    ) -> BoxFuture<'a, Result<u64, DbError>> {
        Box::pin(async move {
            let client = self.client().await?;
            client
                .execute(sql, &parameters(&params))
                .await
                .map_err(classify)
        })
    }

    fn query<'a>(
        &'a self,
        sql: &'a str,
        params: Vec<Value>,
    ) -> BoxFuture<'a, Result<Vec<Row>, DbError>> {
        Box::pin(async move {
            let client = self.client().await?;
            let rows = client
                .query(sql, &parameters(&params))
                .await
                .map_err(classify)?;
            rows.iter().map(read_row).collect()
        })
    }

    fn batch<'a>(&'a self, sql: &'a str) -> BoxFuture<'a, Result<(), DbError>> {
        Box::pin(async move {
            self.client()
                .await?
                .batch_execute(sql)
                .await
                .map_err(classify)
        })
    }

    fn kind(&self) -> &'static str {
        "postgres"
    }
}
