//! The POS backend's data: accounts, tokens, lockouts, web sessions, and each account's HubRise
//! configuration (the connections made on the device, in the web back office, or from HubRise).

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::seed::{Seed, SeedPosAccount};

/// Where a connection was made.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// On the iPad, through the broker.
    Device,
    /// In the POS vendor's web back office.
    Web,
    /// From HubRise's back office (Connect URL).
    HubriseBackOffice,
}

/// A HubRise connection recorded on a POS account.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct PosConnection {
    pub pos_account_id: String,
    /// The HubRise access token; handed out only to a device of the same account.
    pub token: String,
    pub device_id: Option<String>,
    pub account_id: Option<String>,
    pub account_name: Option<String>,
    pub location_id: Option<String>,
    pub location_name: Option<String>,
    pub catalog_id: Option<String>,
    pub catalog_name: Option<String>,
    pub customer_list_id: Option<String>,
    pub customer_list_name: Option<String>,
    pub app_instance_id: Option<String>,
    pub origin: Origin,
    /// `true` once disconnected (state "removed").
    pub removed: bool,
    /// When the backend first recorded the connection.
    pub created_at: String,
    /// When HubRise made the connection (its token), RFC 3339: a device confirming the
    /// connection later catches up on the orders placed since (decision 19).
    #[serde(default)]
    pub connected_at: Option<String>,
}

impl PosConnection {
    /// From HubRise's token JSON.
    pub fn from_token(
        pos_account_id: &str,
        token: &Value,
        origin: Origin,
        device_id: Option<String>,
        now: String,
    ) -> Self {
        let text = |key: &str| token.get(key).and_then(Value::as_str).map(str::to_owned);
        PosConnection {
            pos_account_id: pos_account_id.into(),
            token: text("access_token").unwrap_or_default(),
            device_id,
            account_id: text("account_id"),
            account_name: text("account_name"),
            location_id: text("location_id"),
            location_name: text("location_name"),
            catalog_id: text("catalog_id"),
            catalog_name: text("catalog_name"),
            customer_list_id: text("customer_list_id"),
            customer_list_name: text("customer_list_name"),
            app_instance_id: text("app_instance_id"),
            origin,
            removed: false,
            created_at: now,
            connected_at: None,
        }
    }

    /// The configuration entry a device sees (never the token).
    pub fn to_json(&self) -> Value {
        json!({
            "location_id": self.location_id,
            "account_id": self.account_id,
            "account_name": self.account_name,
            "location_name": self.location_name,
            "catalog_id": self.catalog_id,
            "catalog_name": self.catalog_name,
            "customer_list_id": self.customer_list_id,
            "customer_list_name": self.customer_list_name,
            "app_instance_id": self.app_instance_id,
            "origin": self.origin,
            "state": if self.removed { "removed" } else { "active" },
            "created_at": self.created_at,
            "connected_at": self.connected_at,
        })
    }
}

/// What the POS backend keeps across restarts (with `--state`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct PosData {
    pub accounts: Vec<SeedPosAccount>,
    /// refresh token → account id.
    pub refresh_tokens: BTreeMap<String, String>,
    pub connections: Vec<PosConnection>,
    /// account id → configuration version (bumped on every change).
    pub versions: BTreeMap<String, u64>,
}

impl PosData {
    pub fn from_seed(seed: &Seed) -> Self {
        PosData {
            accounts: seed.pos_accounts.clone(),
            refresh_tokens: BTreeMap::new(),
            connections: Vec::new(),
            versions: BTreeMap::new(),
        }
    }

    pub fn account(&self, id: &str) -> Option<&SeedPosAccount> {
        self.accounts.iter().find(|a| a.account_id == id)
    }

    pub fn version(&self, account_id: &str) -> u64 {
        self.versions.get(account_id).copied().unwrap_or(1)
    }

    pub fn bump(&mut self, account_id: &str) {
        let next = self.version(account_id) + 1;
        self.versions.insert(account_id.into(), next);
    }

    /// Records (or refreshes) a connection; the same HubRise token is one entry.
    pub fn record(&mut self, connection: PosConnection) {
        let account_id = connection.pos_account_id.clone();
        match self
            .connections
            .iter_mut()
            .find(|c| c.pos_account_id == account_id && c.token == connection.token)
        {
            Some(existing) => {
                let created_at = existing.created_at.clone();
                *existing = PosConnection {
                    created_at,
                    ..connection
                };
            }
            None => self.connections.push(connection),
        }
        self.bump(&account_id);
    }

    /// Marks the account's connections matching `pick` removed; returns their tokens.
    pub fn remove_where(
        &mut self,
        account_id: &str,
        pick: impl Fn(&PosConnection) -> bool,
    ) -> Vec<String> {
        let mut tokens = Vec::new();
        for c in self.connections.iter_mut() {
            if c.pos_account_id == account_id && !c.removed && pick(c) {
                c.removed = true;
                tokens.push(c.token.clone());
            }
        }
        if !tokens.is_empty() {
            self.bump(account_id);
        }
        tokens
    }
}

/// A POS access token.
#[derive(Clone, Debug)]
pub(crate) struct AccessToken {
    pub account_id: String,
    pub expires: Instant,
}

/// Consecutive wrong passwords of one email.
#[derive(Clone, Debug, Default)]
pub(crate) struct Failures {
    pub consecutive: u32,
    pub locked_until: Option<Instant>,
}

/// A signed-in (or signing-in) browser of the web back office.
#[derive(Clone, Debug, Default)]
pub(crate) struct WebSession {
    pub account_id: Option<String>,
    /// The `state` of a Connect started from the back office.
    pub connect_state: Option<String>,
    /// A back-office connect's code waiting for the user to sign in (at most 10 minutes).
    pub pending_code: Option<(String, Instant)>,
}

/// What HubRise answered for a device flow.
#[derive(Clone, Debug)]
pub(crate) enum DeviceFlowOutcome {
    Code(String),
    Error(String),
}

/// A connection a device started with the backend's https redirect: kept by the state's digest.
#[derive(Clone, Debug)]
pub(crate) struct DeviceFlow {
    pub account_id: String,
    pub created: Instant,
    pub outcome: Option<DeviceFlowOutcome>,
}

/// What the POS backend keeps only in memory.
#[derive(Default)]
pub(crate) struct PosLive {
    pub access_tokens: HashMap<String, AccessToken>,
    pub failures: HashMap<String, Failures>,
    pub sessions: HashMap<String, WebSession>,
    /// Device flows by the hex SHA-256 of their state.
    pub device_flows: HashMap<String, DeviceFlow>,
    /// How the token of an off-device connection is handed over, by its location id (a faulty
    /// or careless backend, set with `Admin::pos_token_hand_over`).
    pub token_hand_overs: HashMap<String, TokenHandOver>,
    /// JWT access tokens are signed with the second key (`Admin::rotate_pos_signing_key`).
    pub signing_key_rotated: bool,
}

/// A switch for `GET /hubrise/connections/:location_id/token`: what a backend that does less
/// than it should hands over, so a device's own location check can be tested.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenHandOver {
    /// Leave `location_id` (and the account and names) out of the answer, as a backend that
    /// passes on only `access_token` does.
    #[serde(default)]
    pub omit_location_id: bool,
    /// Hand over the token of this other location's connection of the same POS account instead.
    #[serde(default)]
    pub token_of_location: Option<String>,
}
