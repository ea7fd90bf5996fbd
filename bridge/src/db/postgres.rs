//! Postgres for several replicas: one tokio-postgres client (it pipelines concurrent queries),
//! connected again by the next query after the server went away, so a Postgres restart costs
//! the requests in flight (503, `Retry-After`) and never a restart of the bridge.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use tokio::sync::Mutex;
use tokio_postgres::types::{ToSql, Type};

use super::{Database, DbError, Heard, Row, Value};
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

    fn notify<'a>(
        &'a self,
        channel: &'a str,
        payload: &'a str,
    ) -> BoxFuture<'a, Result<(), DbError>> {
        Box::pin(async move {
            self.client()
                .await?
                .execute("SELECT pg_notify($1, $2)", &[&channel, &payload])
                .await
                .map_err(classify)?;
            Ok(())
        })
    }

    fn listen(&self, channel: &str) -> Option<tokio::sync::mpsc::Receiver<Heard>> {
        let (heard, receiver) = tokio::sync::mpsc::channel(1024);
        tokio::spawn(follow(self.config.clone(), channel.to_owned(), heard));
        Some(receiver)
    }
}

/// Keeps a `LISTEN` connection while someone hears it, connecting again (with a growing pause,
/// at most 5 s) whenever it drops, as after a Postgres restart.
async fn follow(
    config: tokio_postgres::Config,
    channel: String,
    heard: tokio::sync::mpsc::Sender<Heard>,
) {
    let mut pause = std::time::Duration::from_millis(100);
    while !heard.is_closed() {
        match listen_once(&config, &channel, &heard).await {
            Ok(()) => pause = std::time::Duration::from_millis(100),
            Err(e) => tracing::warn!(error = %e, "postgres LISTEN connection failed"),
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(std::time::Duration::from_secs(5));
    }
}

/// One `LISTEN` connection, until it ends: its notifications are passed on.
async fn listen_once(
    config: &tokio_postgres::Config,
    channel: &str,
    heard: &tokio::sync::mpsc::Sender<Heard>,
) -> Result<(), tokio_postgres::Error> {
    let (client, mut connection) = config.connect(tokio_postgres::NoTls).await?;
    let (payloads, mut received) = tokio::sync::mpsc::unbounded_channel();
    // The connection must be polled for the LISTEN below to be answered, and to hear anything.
    let driver = tokio::spawn(async move {
        while let Some(Ok(message)) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
            if let tokio_postgres::AsyncMessage::Notification(n) = message
                && payloads.send(n.payload().to_owned()).is_err()
            {
                break;
            }
        }
    });
    // The channel is the bridge's own constant, an identifier: nothing to quote.
    client.batch_execute(&format!("LISTEN {channel}")).await?;
    let _ = heard.send(Heard::Reconnected).await;
    loop {
        tokio::select! {
            payload = received.recv() => {
                let Some(payload) = payload else { break };
                if heard.send(Heard::Payload(payload)).await.is_err() {
                    break;
                }
            }
            // Nobody hears any more (the bridge stopped): close the connection.
            _ = heard.closed() => break,
        }
    }
    driver.abort();
    Ok(())
}
