//! What the bridge keeps, as queries over [`Database`]: written once for SQLite and Postgres.

use std::sync::Arc;

use serde_json::{Value as Json, json};

use crate::clock::now_ms;
use crate::crypto::{Keyring, OpenError};
use crate::db::{Database, DbError, Row, Value};
use crate::secret::{Secret, digest, random_token};

/// A storage failure, or a sealed value that does not open (a key missing after a rotation).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("sealed value: {0}")]
    Sealed(#[from] OpenError),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Where a connection was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    Device,
    Web,
    HubriseBackOffice,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Device => "device",
            Origin::Web => "web",
            Origin::HubriseBackOffice => "hubrise_back_office",
        }
    }
}

/// HubRise's token answer fields the bridge records (the names shown to the restaurant).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Names {
    pub account_id: Option<String>,
    pub account_name: Option<String>,
    pub location_id: Option<String>,
    pub location_name: Option<String>,
    pub catalog_id: Option<String>,
    pub catalog_name: Option<String>,
    pub customer_list_id: Option<String>,
    pub customer_list_name: Option<String>,
    pub app_instance_id: Option<String>,
}

const NAME_KEYS: [&str; 9] = [
    "account_id",
    "account_name",
    "location_id",
    "location_name",
    "catalog_id",
    "catalog_name",
    "customer_list_id",
    "customer_list_name",
    "app_instance_id",
];

impl Names {
    /// From HubRise's token JSON (absent or null fields stay `None`).
    pub fn from_token(token: &Json) -> Self {
        let text = |key: &str| token.get(key).and_then(Json::as_str).map(str::to_owned);
        Names {
            account_id: text("account_id"),
            account_name: text("account_name"),
            location_id: text("location_id"),
            location_name: text("location_name"),
            catalog_id: text("catalog_id"),
            catalog_name: text("catalog_name"),
            customer_list_id: text("customer_list_id"),
            customer_list_name: text("customer_list_name"),
            app_instance_id: text("app_instance_id"),
        }
    }

    fn values(&self) -> [&Option<String>; 9] {
        [
            &self.account_id,
            &self.account_name,
            &self.location_id,
            &self.location_name,
            &self.catalog_id,
            &self.catalog_name,
            &self.customer_list_id,
            &self.customer_list_name,
            &self.app_instance_id,
        ]
    }

    fn from_values(v: &[Value]) -> Self {
        let t = |i: usize| v.get(i).and_then(Value::as_text).map(str::to_owned);
        Names {
            account_id: t(0),
            account_name: t(1),
            location_id: t(2),
            location_name: t(3),
            catalog_id: t(4),
            catalog_name: t(5),
            customer_list_id: t(6),
            customer_list_name: t(7),
            app_instance_id: t(8),
        }
    }
}

/// A connection as recorded (never with its token).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connection {
    pub names: Names,
    pub device_id: Option<String>,
    pub origin: String,
    pub removed: bool,
    pub created_at: String,
    pub connected_at: Option<String>,
}

impl Connection {
    /// The configuration entry a device sees (the contract's shape).
    pub fn to_json(&self) -> Json {
        let mut entry = serde_json::Map::new();
        for (key, value) in NAME_KEYS.iter().zip(self.names.values()) {
            entry.insert((*key).to_owned(), json!(value));
        }
        entry.insert("origin".into(), json!(self.origin));
        entry.insert(
            "state".into(),
            json!(if self.removed { "removed" } else { "active" }),
        );
        entry.insert("created_at".into(), json!(self.created_at));
        entry.insert("connected_at".into(), json!(self.connected_at));
        Json::Object(entry)
    }
}

/// The columns a [`Connection`] is read from, in [`connection_from`]'s order.
const CONNECTION_COLUMNS: &str = "account_id, account_name, location_id, location_name, catalog_id, \
catalog_name, customer_list_id, customer_list_name, app_instance_id, device_id, origin, removed, \
created_at, connected_at, token_sealed, pos_account_id, token_digest";

fn connection_from(row: &Row) -> Connection {
    let t = |i: usize| row.get(i).and_then(Value::as_text).map(str::to_owned);
    Connection {
        names: Names::from_values(row),
        device_id: t(9),
        origin: t(10).unwrap_or_default(),
        removed: row.get(11).and_then(Value::as_int) == Some(1),
        created_at: t(12).unwrap_or_default(),
        connected_at: t(13),
    }
}

/// A web back office session.
#[derive(Clone, Debug, Default)]
pub struct WebSession {
    pub account_id: Option<String>,
    pub csrf: String,
    pub connect_state: Option<String>,
    /// A back-office connect's code waiting for sign-in, and when it arrived (ms).
    pub pending_code: Option<(Secret, i64)>,
}

/// What a device flow holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlowOutcome {
    Code(Secret),
    Error(String),
}

/// A device flow's claim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    Unknown,
    Pending,
    Done(FlowOutcome),
}

#[derive(Clone)]
pub struct Store {
    db: Arc<dyn Database>,
    keys: Keyring,
}

fn text_of(rows: &[Row], column: usize) -> Option<String> {
    rows.first()?.get(column)?.as_text().map(str::to_owned)
}

fn int_of(rows: &[Row], column: usize) -> Option<i64> {
    rows.first()?.get(column)?.as_int()
}

impl Store {
    pub fn new(db: Arc<dyn Database>, keys: Keyring) -> Self {
        Store { db, keys }
    }

    pub fn database(&self) -> &dyn Database {
        self.db.as_ref()
    }

    // ---- The built-in identity's tokens (kept as digests) ----

    pub async fn insert_pos_token(
        &self,
        token: &Secret,
        kind: &str,
        account_id: &str,
        expires_ms: i64,
    ) -> StoreResult<()> {
        self.db
            .execute(
                "INSERT INTO pos_tokens (token_digest, kind, account_id, expires_at) VALUES ($1, $2, $3, $4)",
                vec![Value::text(digest(token.expose())), Value::text(kind), Value::text(account_id), Value::int(expires_ms)],
            )
            .await?;
        Ok(())
    }

    /// The account of a live access token.
    pub async fn access_token_account(&self, token: &str) -> StoreResult<Option<String>> {
        let rows = self
            .db
            .query(
                "SELECT account_id FROM pos_tokens WHERE token_digest = $1 AND kind = 'access' AND expires_at > $2",
                vec![Value::text(digest(token)), Value::int(now_ms())],
            )
            .await?;
        Ok(text_of(&rows, 0))
    }

    /// Uses a refresh token up (rotation: once only, even when two replicas race).
    pub async fn take_refresh_token(&self, token: &str) -> StoreResult<Option<String>> {
        let rows = self
            .db
            .query(
                "DELETE FROM pos_tokens WHERE token_digest = $1 AND kind = 'refresh' AND expires_at > $2 RETURNING account_id",
                vec![Value::text(digest(token)), Value::int(now_ms())],
            )
            .await?;
        Ok(text_of(&rows, 0))
    }

    /// Drops expired tokens, sessions and flows.
    pub async fn purge_expired(&self, flow_lifetime_ms: i64) -> StoreResult<()> {
        let now = now_ms();
        self.db
            .execute(
                "DELETE FROM pos_tokens WHERE expires_at <= $1",
                vec![Value::int(now)],
            )
            .await?;
        self.db
            .execute(
                "DELETE FROM web_sessions WHERE expires_ms <= $1",
                vec![Value::int(now)],
            )
            .await?;
        self.db
            .execute(
                "DELETE FROM device_flows WHERE created_ms <= $1",
                vec![Value::int(now - flow_lifetime_ms)],
            )
            .await?;
        Ok(())
    }

    // ---- Sign-in failures ----

    /// `(consecutive failures, locked until ms)` of an email.
    pub async fn failures(&self, email: &str) -> StoreResult<(i64, i64)> {
        let rows = self
            .db
            .query(
                "SELECT consecutive, locked_until_ms FROM sign_in_failures WHERE email = $1",
                vec![Value::text(email)],
            )
            .await?;
        Ok((
            int_of(&rows, 0).unwrap_or(0),
            rows.first()
                .and_then(|r| r.get(1))
                .and_then(Value::as_int)
                .unwrap_or(0),
        ))
    }

    pub async fn set_failures(
        &self,
        email: &str,
        consecutive: i64,
        locked_until_ms: i64,
    ) -> StoreResult<()> {
        self.db
            .execute(
                "INSERT INTO sign_in_failures (email, consecutive, locked_until_ms) VALUES ($1, $2, $3) \
                 ON CONFLICT (email) DO UPDATE SET consecutive = excluded.consecutive, locked_until_ms = excluded.locked_until_ms",
                vec![Value::text(email), Value::int(consecutive), Value::int(locked_until_ms)],
            )
            .await?;
        Ok(())
    }

    pub async fn clear_failures(&self, email: &str) -> StoreResult<()> {
        self.db
            .execute(
                "DELETE FROM sign_in_failures WHERE email = $1",
                vec![Value::text(email)],
            )
            .await?;
        Ok(())
    }

    // ---- Connections and the configuration's version ----

    /// Records (or refreshes) a connection: the same HubRise token on the same account is one
    /// entry, whose first `created_at` and `connected_at` are kept; a reconnect makes it active.
    pub async fn record_connection(
        &self,
        pos_account_id: &str,
        token: &Secret,
        names: &Names,
        origin: Origin,
        device_id: Option<&str>,
        connected_at: &str,
    ) -> StoreResult<()> {
        let token_digest = digest(token.expose());
        let sealed = self
            .keys
            .seal(token, &seal_context(pos_account_id, &token_digest));
        let mut params = vec![
            Value::text(random_token(16)),
            Value::text(pos_account_id),
            Value::text(token_digest),
            Value::text(sealed),
            Value::opt_text(device_id),
        ];
        params.extend(
            names
                .values()
                .into_iter()
                .map(|v| Value::opt_text(v.clone())),
        );
        params.extend([
            Value::text(origin.as_str()),
            Value::text(crate::clock::now_rfc3339()),
            Value::text(connected_at),
            Value::int(now_ms()),
        ]);
        self.db
            .execute(
                "INSERT INTO connections (id, pos_account_id, token_digest, token_sealed, device_id, \
                 account_id, account_name, location_id, location_name, catalog_id, catalog_name, \
                 customer_list_id, customer_list_name, app_instance_id, origin, removed, created_at, \
                 connected_at, recorded_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
                 $13, $14, $15, 0, $16, $17, $18) ON CONFLICT (pos_account_id, token_digest) DO UPDATE SET \
                 token_sealed = excluded.token_sealed, device_id = excluded.device_id, \
                 account_id = excluded.account_id, account_name = excluded.account_name, \
                 location_id = excluded.location_id, location_name = excluded.location_name, \
                 catalog_id = excluded.catalog_id, catalog_name = excluded.catalog_name, \
                 customer_list_id = excluded.customer_list_id, customer_list_name = excluded.customer_list_name, \
                 app_instance_id = excluded.app_instance_id, origin = excluded.origin, removed = 0, \
                 connected_at = COALESCE(connections.connected_at, excluded.connected_at), \
                 recorded_ms = excluded.recorded_ms",
                params,
            )
            .await?;
        self.bump_version(pos_account_id).await
    }

    async fn bump_version(&self, pos_account_id: &str) -> StoreResult<()> {
        self.db
            .execute(
                "INSERT INTO config_versions (pos_account_id, version) VALUES ($1, 2) \
                 ON CONFLICT (pos_account_id) DO UPDATE SET version = config_versions.version + 1",
                vec![Value::text(pos_account_id)],
            )
            .await?;
        Ok(())
    }

    /// The account's configuration version (1 before any change).
    pub async fn version(&self, pos_account_id: &str) -> StoreResult<i64> {
        let rows = self
            .db
            .query(
                "SELECT version FROM config_versions WHERE pos_account_id = $1",
                vec![Value::text(pos_account_id)],
            )
            .await?;
        Ok(int_of(&rows, 0).unwrap_or(1))
    }

    /// The account's connections, in the order they were recorded.
    pub async fn connections(&self, pos_account_id: &str) -> StoreResult<Vec<Connection>> {
        let sql = format!(
            "SELECT {CONNECTION_COLUMNS} FROM connections WHERE pos_account_id = $1 ORDER BY recorded_ms, id"
        );
        let rows = self
            .db
            .query(&sql, vec![Value::text(pos_account_id)])
            .await?;
        Ok(rows.iter().map(connection_from).collect())
    }

    /// The newest active connection of `location_id` made off the device, with its token.
    pub async fn off_device_token(
        &self,
        pos_account_id: &str,
        location_id: &str,
    ) -> StoreResult<Option<(Connection, Secret)>> {
        let sql = format!(
            "SELECT {CONNECTION_COLUMNS} FROM connections WHERE pos_account_id = $1 AND location_id = $2 \
             AND removed = 0 AND origin <> 'device' ORDER BY recorded_ms DESC, id DESC LIMIT 1"
        );
        let rows = self
            .db
            .query(
                &sql,
                vec![Value::text(pos_account_id), Value::text(location_id)],
            )
            .await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        Ok(Some((connection_from(row), self.open_token(row)?)))
    }

    /// The account's active connections with their tokens (the active callback is checked on
    /// each when a till opens its stream).
    pub async fn active_connections(
        &self,
        pos_account_id: &str,
    ) -> StoreResult<Vec<(Connection, Secret)>> {
        let sql = format!(
            "SELECT {CONNECTION_COLUMNS} FROM connections WHERE pos_account_id = $1 AND removed = 0 \
             ORDER BY recorded_ms, id"
        );
        let rows = self
            .db
            .query(&sql, vec![Value::text(pos_account_id)])
            .await?;
        rows.iter()
            .map(|row| Ok((connection_from(row), self.open_token(row)?)))
            .collect()
    }

    fn open_token(&self, row: &Row) -> StoreResult<Secret> {
        let t = |i: usize| row.get(i).and_then(Value::as_text).unwrap_or_default();
        Ok(self.keys.open(t(14), &seal_context(t(15), t(16)))?)
    }

    /// Marks the account's active connections of a location (one device's only, with
    /// `device_id`) removed; their tokens, to revoke at HubRise.
    pub async fn remove_location(
        &self,
        pos_account_id: &str,
        location_id: &str,
        device_id: Option<&str>,
    ) -> StoreResult<Vec<Secret>> {
        let rows = self
            .db
            .query(
                "UPDATE connections SET removed = 1 WHERE pos_account_id = $1 AND location_id = $2 AND removed = 0 \
                 AND (CAST($3 AS TEXT) IS NULL OR device_id = $3) RETURNING token_sealed, pos_account_id, token_digest",
                vec![Value::text(pos_account_id), Value::text(location_id), Value::opt_text(device_id)],
            )
            .await?;
        self.after_removal(pos_account_id, &rows).await
    }

    async fn after_removal(&self, pos_account_id: &str, rows: &[Row]) -> StoreResult<Vec<Secret>> {
        if !rows.is_empty() {
            self.bump_version(pos_account_id).await?;
        }
        rows.iter()
            .map(|r| {
                let t = |i: usize| r.get(i).and_then(Value::as_text).unwrap_or_default();
                Ok(self.keys.open(t(0), &seal_context(t(1), t(2)))?)
            })
            .collect()
    }

    /// HubRise's Disconnect callback: every connection with that `app_instance_id` is removed
    /// (HubRise has blocked its token already). The number removed.
    pub async fn remove_app_instance(&self, app_instance_id: &str) -> StoreResult<usize> {
        let rows = self
            .db
            .query(
                "UPDATE connections SET removed = 1 WHERE app_instance_id = $1 AND removed = 0 RETURNING pos_account_id",
                vec![Value::text(app_instance_id)],
            )
            .await?;
        let mut accounts: Vec<String> = rows
            .iter()
            .filter_map(|r| r.first()?.as_text().map(str::to_owned))
            .collect();
        accounts.dedup();
        for account in &accounts {
            self.bump_version(account).await?;
        }
        Ok(rows.len())
    }

    /// Seals every sealed value (tokens, codes waiting for a device or a sign-in) again with
    /// the current key, after a rotation; the number resealed.
    pub async fn reseal(&self) -> StoreResult<usize> {
        let mut count = 0;
        for sealed in &SEALED {
            for row in &self.sealed_values(sealed).await? {
                let t = |i: usize| row.get(i).and_then(Value::as_text).unwrap_or_default();
                if self.keys.is_current(t(1)) {
                    continue;
                }
                let plain = self.keys.open(t(1), t(2))?;
                // Only if nobody changed it meanwhile (another replica resealing, a reconnect).
                let sql = format!(
                    "UPDATE {} SET {} = $1 WHERE {} = $2 AND {} = $3",
                    sealed.table, sealed.column, sealed.key, sealed.column
                );
                let params = vec![
                    Value::text(self.keys.seal(&plain, t(2))),
                    Value::text(t(0)),
                    Value::text(t(1)),
                ];
                count += self.db.execute(&sql, params).await? as usize;
            }
        }
        Ok(count)
    }

    /// `(key, sealed value, context)` of every value sealed in one place.
    async fn sealed_values(&self, sealed: &Sealed) -> StoreResult<Vec<Row>> {
        let sql = format!(
            "SELECT {}, {}, {} FROM {} WHERE {}",
            sealed.key, sealed.column, sealed.context, sealed.table, sealed.filter
        );
        Ok(self.db.query(&sql, vec![]).await?)
    }

    /// How many stored values are sealed with a key other than the current one.
    pub async fn sealed_with_old_keys(&self) -> StoreResult<usize> {
        let mut count = 0;
        for sealed in &SEALED {
            count += self
                .sealed_values(sealed)
                .await?
                .iter()
                .filter_map(|r| r.get(1)?.as_text())
                .filter(|s| !self.keys.is_current(s))
                .count();
        }
        Ok(count)
    }

    // ---- Device flows ----

    /// Registers a flow for `account_id`, or starts its own flow again; `false` (nothing
    /// changed) when the state is another account's live flow, which is never taken over.
    pub async fn register_flow(&self, state_digest: &str, account_id: &str) -> StoreResult<bool> {
        let changed = self
            .db
            .execute(
                "INSERT INTO device_flows (state_digest, account_id, created_ms) VALUES ($1, $2, $3) \
                 ON CONFLICT (state_digest) DO UPDATE SET account_id = excluded.account_id, \
                 created_ms = excluded.created_ms, outcome = NULL, outcome_sealed = NULL \
                 WHERE device_flows.account_id = excluded.account_id",
                vec![Value::text(state_digest), Value::text(account_id), Value::int(now_ms())],
            )
            .await?;
        Ok(changed == 1)
    }

    /// Keeps HubRise's answer for a live flow still waiting for one; `false` when there is none.
    pub async fn settle_flow(
        &self,
        state_digest: &str,
        outcome: &FlowOutcome,
        not_before_ms: i64,
    ) -> StoreResult<bool> {
        let (kind, value) = match outcome {
            FlowOutcome::Code(code) => ("code", self.keys.seal(code, state_digest)),
            FlowOutcome::Error(error) => ("error", error.clone()),
        };
        let changed = self
            .db
            .execute(
                "UPDATE device_flows SET outcome = $1, outcome_sealed = $2 WHERE state_digest = $3 \
                 AND outcome IS NULL AND created_ms > $4",
                vec![
                    Value::text(kind),
                    Value::text(value),
                    Value::text(state_digest),
                    Value::int(not_before_ms),
                ],
            )
            .await?;
        Ok(changed == 1)
    }

    /// Hands a flow's outcome to its account once (deleted as it is read).
    pub async fn claim_flow(
        &self,
        state_digest: &str,
        account_id: &str,
        not_before_ms: i64,
    ) -> StoreResult<Claim> {
        let rows = self
            .db
            .query(
                "DELETE FROM device_flows WHERE state_digest = $1 AND account_id = $2 AND created_ms > $3 \
                 AND outcome IS NOT NULL RETURNING outcome, outcome_sealed",
                vec![Value::text(state_digest), Value::text(account_id), Value::int(not_before_ms)],
            )
            .await?;
        if let Some(kind) = text_of(&rows, 0) {
            let value = text_of(&rows, 1).unwrap_or_default();
            return Ok(Claim::Done(match kind.as_str() {
                "code" => FlowOutcome::Code(self.keys.open(&value, state_digest)?),
                _ => FlowOutcome::Error(value),
            }));
        }
        let pending = self
            .db
            .query(
                "SELECT 1 FROM device_flows WHERE state_digest = $1 AND account_id = $2 AND created_ms > $3",
                vec![Value::text(state_digest), Value::text(account_id), Value::int(not_before_ms)],
            )
            .await?;
        Ok(if pending.is_empty() {
            Claim::Unknown
        } else {
            Claim::Pending
        })
    }

    // ---- Web sessions (kept by the digest of the cookie) ----

    pub async fn create_session(
        &self,
        id: &Secret,
        session: &WebSession,
        expires_ms: i64,
    ) -> StoreResult<()> {
        let (code, at) = self.sealed_pending(id, session);
        self.db
            .execute(
                "INSERT INTO web_sessions (session_digest, account_id, csrf, connect_state, pending_code_sealed, \
                 pending_code_ms, expires_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                vec![
                    Value::text(digest(id.expose())),
                    Value::opt_text(session.account_id.clone()),
                    Value::text(session.csrf.clone()),
                    Value::opt_text(session.connect_state.clone()),
                    Value::Text(code),
                    Value::Int(at),
                    Value::int(expires_ms),
                ],
            )
            .await?;
        Ok(())
    }

    fn sealed_pending(&self, id: &Secret, session: &WebSession) -> (Option<String>, Option<i64>) {
        match &session.pending_code {
            Some((code, at)) => (Some(self.keys.seal(code, &digest(id.expose()))), Some(*at)),
            None => (None, None),
        }
    }

    pub async fn session(&self, id: &str) -> StoreResult<Option<WebSession>> {
        let key = digest(id);
        let rows = self
            .db
            .query(
                "SELECT account_id, csrf, connect_state, pending_code_sealed, pending_code_ms FROM web_sessions \
                 WHERE session_digest = $1 AND expires_ms > $2",
                vec![Value::text(key.clone()), Value::int(now_ms())],
            )
            .await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let t = |i: usize| row.get(i).and_then(Value::as_text).map(str::to_owned);
        let pending_code = match (t(3), row.get(4).and_then(Value::as_int)) {
            (Some(sealed), Some(at)) => Some((self.keys.open(&sealed, &key)?, at)),
            _ => None,
        };
        Ok(Some(WebSession {
            account_id: t(0),
            csrf: t(1).unwrap_or_default(),
            connect_state: t(2),
            pending_code,
        }))
    }

    pub async fn update_session(&self, id: &Secret, session: &WebSession) -> StoreResult<()> {
        let (code, at) = self.sealed_pending(id, session);
        self.db
            .execute(
                "UPDATE web_sessions SET account_id = $1, csrf = $2, connect_state = $3, pending_code_sealed = $4, \
                 pending_code_ms = $5 WHERE session_digest = $6",
                vec![
                    Value::opt_text(session.account_id.clone()),
                    Value::text(session.csrf.clone()),
                    Value::opt_text(session.connect_state.clone()),
                    Value::Text(code),
                    Value::Int(at),
                    Value::text(digest(id.expose())),
                ],
            )
            .await?;
        Ok(())
    }

    /// Takes a connect's `state` out of the session: used once, even by two requests at once.
    pub async fn take_connect_state(&self, id: &str) -> StoreResult<Option<String>> {
        let Some(state) = self.session(id).await?.and_then(|s| s.connect_state) else {
            return Ok(None);
        };
        let taken = self
            .db
            .execute(
                "UPDATE web_sessions SET connect_state = NULL WHERE session_digest = $1 AND connect_state = $2",
                vec![Value::text(digest(id)), Value::text(state.clone())],
            )
            .await?;
        Ok((taken == 1).then_some(state))
    }

    pub async fn delete_session(&self, id: &str) -> StoreResult<()> {
        self.db
            .execute(
                "DELETE FROM web_sessions WHERE session_digest = $1",
                vec![Value::text(digest(id))],
            )
            .await?;
        Ok(())
    }
}

/// What a sealed token is bound to: its row's key (account and token digest). [`SEALED`] says
/// the same in SQL.
fn seal_context(pos_account_id: &str, token_digest: &str) -> String {
    format!("connection:{pos_account_id}:{token_digest}")
}

/// A column holding sealed values, and the context each was sealed for (as SQL).
struct Sealed {
    table: &'static str,
    key: &'static str,
    column: &'static str,
    context: &'static str,
    filter: &'static str,
}

/// Every sealed column: what a rotation reseals.
const SEALED: [Sealed; 4] = [
    Sealed {
        table: "connections",
        key: "id",
        column: "token_sealed",
        context: "'connection:' || pos_account_id || ':' || token_digest",
        filter: "token_sealed IS NOT NULL",
    },
    Sealed {
        table: "device_flows",
        key: "state_digest",
        column: "outcome_sealed",
        context: "state_digest",
        filter: "outcome = 'code'",
    },
    Sealed {
        table: "web_sessions",
        key: "session_digest",
        column: "pending_code_sealed",
        context: "session_digest",
        filter: "pending_code_sealed IS NOT NULL",
    },
    Sealed {
        table: "callback_events",
        key: "event_id",
        column: "body_sealed",
        context: "'event:' || event_id",
        filter: "body_sealed IS NOT NULL",
    },
];
