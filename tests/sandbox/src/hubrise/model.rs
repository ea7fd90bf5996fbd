//! The fake HubRise's data: what HubRise stores about clients, users, locations, connections,
//! orders and callback events.

use std::collections::BTreeMap;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::scope::Scope;
use crate::seed::{Seed, SeedAccount, SeedClient, SeedUser};
use crate::timefmt;

/// The state of a connection (one access token) as HubRise's back office sees it.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionState {
    Active,
    /// Blocked in the back office: 401 "The connection has been blocked"; reconnecting unblocks.
    Blocked,
    /// Disconnected in the back office: 401 "...invalid or the connection has been revoked".
    Disconnected,
    /// Revoked by the app (`POST /oauth2/v1/revoke`): same 401 as a disconnect.
    Revoked,
}

impl ConnectionState {
    /// A dead token never comes back: re-authorising issues a new one.
    pub(crate) fn is_dead(self) -> bool {
        matches!(self, Self::Disconnected | Self::Revoked)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Location {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub address: String,
    pub postal_code: String,
    pub city: String,
    pub country: String,
    /// Suspended for non payment: every connection of the location gets the documented 401.
    pub suspended: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Account {
    pub id: String,
    pub name: String,
    pub currency: String,
}

/// A catalog or a customer list (both are picked the same way on the consent page).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Resource {
    pub id: String,
    pub account_id: String,
    pub location_id: Option<String>,
    pub name: String,
    pub created_at: String,
    /// Catalog data, or the customers of a customer list.
    pub content: Value,
}

/// A passive (url null) or active callback of one connection.
#[derive(Clone, Debug, Serialize, Deserialize, Default)]
pub(crate) struct Callback {
    pub url: Option<String>,
    pub events: BTreeMap<String, Vec<String>>,
}

impl Callback {
    pub fn listens_to(&self, resource_type: &str, event_type: &str) -> bool {
        self.events
            .get(resource_type)
            .is_some_and(|types| types.iter().any(|t| t == event_type))
    }
}

/// A callback event waiting in a connection's queue until the client deletes it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Event {
    /// Global creation order; cursors of `GET /callback/events` are built on it.
    pub seq: u64,
    pub id: String,
    pub resource_type: String,
    pub event_type: String,
    pub created_at: String,
    pub order_id: String,
    pub location_id: String,
    pub previous_state: Option<Value>,
    pub new_state: Option<Value>,
    /// An entry placed as is by the admin API (odd shapes: both id fields, another resource
    /// type, no id); listed and fetched exactly like this.
    #[serde(default)]
    pub raw: Option<Value>,
    /// Its delivery to the connection's active callback, when the callback had a URL as the
    /// event was made; `None` for a passive callback's event (only polling reads it).
    #[serde(default)]
    pub delivery: Option<Delivery>,
}

/// Where an event's delivery to an active callback stands.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Delivery {
    /// Attempts that failed so far.
    pub failed: u32,
    /// When the next attempt is due, ms since the Unix epoch.
    pub due_ms: u64,
    /// An attempt is under way (not picked again until it ends).
    pub in_flight: bool,
}

impl Event {
    /// The event as `GET /callback/events/:id` shows it; `with_states` is false in listings.
    pub fn to_json(&self, with_states: bool, legacy_resource_id: bool) -> Value {
        if let Some(raw) = &self.raw {
            return raw.clone();
        }
        let mut v = json!({
            "id": self.id,
            "resource_type": self.resource_type,
            "event_type": self.event_type,
            "created_at": self.created_at,
            "order_id": self.order_id,
            "location_id": self.location_id,
        });
        if legacy_resource_id {
            v["resource_id"] = json!(self.order_id);
        }
        if with_states {
            if let Some(prev) = &self.previous_state {
                v["previous_state"] = prev.clone();
            }
            if let Some(new) = &self.new_state {
                v["new_state"] = new.clone();
            }
        }
        v
    }
}

/// One connection = one access token, bound to a client and a location (or an account).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Connection {
    /// A short id for listings and admin calls (never the token).
    pub id: String,
    pub token: String,
    pub client_id: String,
    pub account_id: Option<String>,
    pub location_id: Option<String>,
    pub device_id: Option<String>,
    pub catalog_id: Option<String>,
    pub customer_list_id: Option<String>,
    pub app_instance_id: String,
    pub user_id: String,
    pub scope: Scope,
    pub state: ConnectionState,
    pub callback: Option<Callback>,
    pub events: Vec<Event>,
    pub created_at: String,
}

impl Connection {
    /// Whether this connection may act on `location` (its own, or any of its account's).
    pub fn covers(&self, location: &Location) -> bool {
        match &self.location_id {
            Some(id) => *id == location.id,
            None => self.account_id.as_deref() == Some(location.account_id.as_str()),
        }
    }

    /// A copy without the (possibly long) event queue.
    pub fn without_events(&self) -> Connection {
        Connection {
            id: self.id.clone(),
            token: self.token.clone(),
            client_id: self.client_id.clone(),
            account_id: self.account_id.clone(),
            location_id: self.location_id.clone(),
            device_id: self.device_id.clone(),
            catalog_id: self.catalog_id.clone(),
            customer_list_id: self.customer_list_id.clone(),
            app_instance_id: self.app_instance_id.clone(),
            user_id: self.user_id.clone(),
            scope: self.scope.clone(),
            state: self.state,
            callback: self.callback.clone(),
            events: Vec::new(),
            created_at: self.created_at.clone(),
        }
    }

    /// Fingerprint of the token for listings: enough to tell tokens apart, useless to call with.
    pub fn token_fingerprint(&self) -> String {
        // Tokens are ASCII hex, so slicing on a byte index is safe.
        let start = self.token.len().saturating_sub(4);
        format!("…{}", self.token.get(start..).unwrap_or_default())
    }
}

/// An order as stored: the JSON HubRise shows, minus private refs, which depend on the viewer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct StoredOrder {
    pub id: String,
    pub location_id: String,
    pub created_by_client: String,
    pub created_unix: i64,
    /// The order JSON; elements carry their private refs under [`PRIVATE_REFS_KEY`].
    pub body: Value,
    /// client id → the order's private ref for that client.
    pub private_refs: BTreeMap<String, String>,
}

/// Where element-level private refs (client id → ref) are kept inside stored elements.
pub(crate) const PRIVATE_REFS_KEY: &str = "__private_refs";

/// An authorisation in progress on the consent pages.
#[derive(Clone, Debug)]
pub(crate) struct AuthFlow {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: Scope,
    pub state: Option<String>,
    pub device_id: Option<String>,
    /// `account_id` of the authorize request: restricts the choice to that account.
    pub account_hint: Option<String>,
    pub code_challenge: Option<(String, String)>,
    pub step: FlowStep,
    pub user_id: Option<String>,
    pub account_id: Option<String>,
    pub location_id: Option<String>,
    pub catalog_id: Option<String>,
    pub customer_list_id: Option<String>,
    pub started: Instant,
}

/// The page an authorisation flow is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FlowStep {
    SignIn,
    Location,
    Resources,
    Decision,
}

impl FlowStep {
    pub fn name(self) -> &'static str {
        match self {
            Self::SignIn => "sign_in",
            Self::Location => "location",
            Self::Resources => "resources",
            Self::Decision => "decision",
        }
    }
}

/// An authorisation code, kept after use so a replay answers "already used".
#[derive(Clone, Debug)]
pub(crate) struct CodeGrant {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: Scope,
    pub user_id: String,
    pub account_id: Option<String>,
    pub location_id: Option<String>,
    pub catalog_id: Option<String>,
    pub customer_list_id: Option<String>,
    pub device_id: Option<String>,
    pub code_challenge: Option<(String, String)>,
    pub issued: Instant,
    /// Added to the code's age (`Admin::age_codes`), so expiry is testable without waiting.
    pub aged: std::time::Duration,
    pub used: bool,
}

/// Everything HubRise keeps that a restart with `--state` should keep too.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct HubriseData {
    pub clients: Vec<SeedClient>,
    pub users: Vec<SeedUser>,
    pub accounts: Vec<Account>,
    pub locations: Vec<Location>,
    pub catalogs: Vec<Resource>,
    pub customer_lists: Vec<Resource>,
    pub connections: Vec<Connection>,
    pub orders: Vec<StoredOrder>,
    pub next_event_seq: u64,
    /// Wakes the active callbacks' deliverer when an event to send is queued.
    #[serde(skip)]
    pub deliveries: std::sync::Arc<tokio::sync::Notify>,
}

impl HubriseData {
    pub fn from_seed(seed: &Seed) -> Self {
        let now = timefmt::now_string();
        let mut data = HubriseData {
            clients: vec![seed.client(), seed.other_client.clone()],
            users: seed.users.clone(),
            accounts: Vec::new(),
            locations: Vec::new(),
            catalogs: Vec::new(),
            customer_lists: Vec::new(),
            connections: Vec::new(),
            orders: Vec::new(),
            next_event_seq: 1,
            deliveries: Default::default(),
        };
        for account in &seed.accounts {
            data.add_account(account, &now);
        }
        data
    }

    fn add_account(&mut self, account: &SeedAccount, now: &str) {
        self.accounts.push(Account {
            id: account.id.clone(),
            name: account.name.clone(),
            currency: account.currency.clone(),
        });
        for l in &account.locations {
            self.locations.push(Location {
                id: l.id.clone(),
                account_id: account.id.clone(),
                name: l.name.clone(),
                address: l.address.clone(),
                postal_code: l.postal_code.clone(),
                city: l.city.clone(),
                country: l.country.clone(),
                suspended: false,
            });
        }
        for c in &account.catalogs {
            self.catalogs.push(Resource {
                id: c.id.clone(),
                account_id: account.id.clone(),
                location_id: c.location_id.clone(),
                name: c.name.clone(),
                created_at: now.to_owned(),
                content: super::catalog_data::sample_catalog(&account.currency),
            });
        }
        for c in &account.customer_lists {
            self.customer_lists.push(Resource {
                id: c.id.clone(),
                account_id: account.id.clone(),
                location_id: c.location_id.clone(),
                name: c.name.clone(),
                created_at: now.to_owned(),
                content: super::catalog_data::sample_customers(&c.id),
            });
        }
    }

    pub fn client(&self, id: &str) -> Option<&SeedClient> {
        self.clients.iter().find(|c| c.id == id)
    }
    pub fn user(&self, id: &str) -> Option<&SeedUser> {
        self.users.iter().find(|u| u.id == id)
    }
    pub fn account(&self, id: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.id == id)
    }
    pub fn location(&self, id: &str) -> Option<&Location> {
        self.locations.iter().find(|l| l.id == id)
    }
    pub fn catalog(&self, id: &str) -> Option<&Resource> {
        self.catalogs.iter().find(|c| c.id == id)
    }
    pub fn customer_list(&self, id: &str) -> Option<&Resource> {
        self.customer_lists.iter().find(|c| c.id == id)
    }
    pub fn connection_by_token(&self, token: &str) -> Option<&Connection> {
        self.connections.iter().find(|c| c.token == token)
    }
    pub fn connection_mut(&mut self, id: &str) -> Option<&mut Connection> {
        self.connections.iter_mut().find(|c| c.id == id)
    }
    pub fn order_mut(&mut self, location_id: &str, order_id: &str) -> Option<&mut StoredOrder> {
        self.orders
            .iter_mut()
            .find(|o| o.id == order_id && o.location_id == location_id)
    }

    /// Locations of `account_id`.
    pub fn locations_of(&self, account_id: &str) -> Vec<&Location> {
        self.locations
            .iter()
            .filter(|l| l.account_id == account_id)
            .collect()
    }

    /// Catalogs (or customer lists) selectable for a location: the account's and the location's.
    pub fn selectable<'a>(
        resources: &'a [Resource],
        account_id: &str,
        location_id: Option<&str>,
    ) -> Vec<&'a Resource> {
        resources
            .iter()
            .filter(|r| r.account_id == account_id)
            .filter(|r| match (&r.location_id, location_id) {
                (None, _) | (_, None) => true,
                (Some(own), Some(loc)) => own == loc,
            })
            .collect()
    }

    /// The `{id, name, currency}` of an account, as embedded in a location.
    pub fn account_json(&self, account_id: &str) -> Value {
        match self.account(account_id) {
            Some(a) => json!({ "id": a.id, "name": a.name, "currency": a.currency }),
            None => Value::Null,
        }
    }

    /// `GET /locations/:id`'s body.
    pub fn location_json(&self, location: &Location) -> Value {
        json!({
            "id": location.id,
            "name": location.name,
            "account": self.account_json(&location.account_id),
            "address": location.address,
            "postal_code": location.postal_code,
            "city": location.city,
            "country": location.country,
            "timezone": { "name": "Europe/Paris" },
            "cutoff_time": "06:00",
            "opening_hours": super::catalog_data::opening_hours(),
            "preparation_time": 15,
            "order_acceptance": { "mode": "online" },
            "custom_fields": {},
        })
    }

    /// The currency of a location's account.
    pub fn currency_of(&self, location_id: &str) -> String {
        self.location(location_id)
            .and_then(|l| self.account(&l.account_id))
            .map(|a| a.currency.clone())
            .unwrap_or_else(|| "EUR".into())
    }
}
