//! In-process control of a running sandbox: what HubRise's back office, another app and a test
//! harness can do. Every method has an HTTP twin under `/_sandbox` (see `admin_http.rs`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::faults::Fault;
use crate::hubrise::callbacks::{create_and_notify, create_raw_and_notify, patch_and_notify};
use crate::hubrise::model::{CodeGrant, Connection, ConnectionState, HubriseData};
use crate::hubrise::oauth::{end_connection, with_query};
use crate::hubrise::orders::{self, Writer};
use crate::hubrise::scope::Scope;
use crate::ids;
use crate::pos::model::TokenHandOver;
use crate::rate_limit::RateLimits;
use crate::request_log::RequestRecord;
use crate::sandbox::{SandboxError, SandboxOptions};
use crate::state::Shared;

/// A HubRise connection as the back office lists it (never with its token).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ConnectionInfo {
    /// Short id, usable wherever a connection key is expected.
    pub id: String,
    pub client_id: String,
    pub account_id: Option<String>,
    pub location_id: Option<String>,
    pub device_id: Option<String>,
    pub catalog_id: Option<String>,
    pub customer_list_id: Option<String>,
    pub app_instance_id: String,
    /// The token's last characters, to tell tokens apart.
    pub token_fingerprint: String,
    pub state: ConnectionState,
    /// Whether a callback is registered and for what (`{"order": ["create", "update"]}`).
    pub callback_events: Option<Value>,
    pub pending_events: usize,
    pub created_at: String,
}

impl ConnectionInfo {
    fn of(c: &Connection) -> Self {
        ConnectionInfo {
            id: c.id.clone(),
            client_id: c.client_id.clone(),
            account_id: c.account_id.clone(),
            location_id: c.location_id.clone(),
            device_id: c.device_id.clone(),
            catalog_id: c.catalog_id.clone(),
            customer_list_id: c.customer_list_id.clone(),
            app_instance_id: c.app_instance_id.clone(),
            token_fingerprint: c.token_fingerprint(),
            state: c.state,
            callback_events: c
                .callback
                .as_ref()
                .and_then(|cb| serde_json::to_value(&cb.events).ok()),
            pending_events: c.events.len(),
            created_at: c.created_at.clone(),
        }
    }
}

/// Cheap, clonable handle on a running sandbox.
#[derive(Clone)]
pub struct Admin {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Admin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admin")
            .field("admin_url", &self.shared.urls.admin())
            .finish()
    }
}

impl Admin {
    pub(crate) fn new(shared: Arc<Shared>) -> Admin {
        Admin { shared }
    }

    fn other_app(&self) -> Writer {
        let other = &self.shared.seed.other_client;
        Writer {
            client_id: other.id.clone(),
            client_name: other.name.clone(),
            connection_id: None,
        }
    }

    fn rejected(e: crate::errors::ApiError) -> SandboxError {
        SandboxError::Rejected {
            status: e.status.as_u16(),
            body: e.body(),
        }
    }

    fn check_location(data: &HubriseData, location_id: &str) -> Result<(), SandboxError> {
        match data.location(location_id) {
            Some(_) => Ok(()),
            None => Err(SandboxError::NotFound(format!("location {location_id}"))),
        }
    }

    // -- Orders from another app ---------------------------------------------------------------

    /// Creates an order as the "other app" (a marketplace): every connection on the location
    /// with an order callback gets an `order.create` event. Returns the order id.
    pub async fn place_order(
        &self,
        location_id: &str,
        order: Value,
    ) -> Result<String, SandboxError> {
        let options = self.shared.options();
        let writer = self.other_app();
        let mut world = self.shared.world();
        Self::check_location(&world.hubrise, location_id)?;
        let id = create_and_notify(&mut world.hubrise, &options, location_id, &writer, &order)
            .map_err(Self::rejected)?;
        Ok(id)
    }

    /// Places a valid `order` as the "other app", then sets the top-level fields of `raw` (a
    /// JSON object) in its JSON exactly as given, before the `order.create` events go out:
    /// `{"status": null, "total": 12, "customer": null}` gives an order HubRise's validation
    /// would never produce but a client must survive. `{"id": null}` too: the sandbox still
    /// serves it at its URL. Returns the order id.
    pub async fn place_order_with_raw_fields(
        &self,
        location_id: &str,
        order: Value,
        raw: Value,
    ) -> Result<String, SandboxError> {
        let Value::Object(raw) = raw else {
            return Err(SandboxError::State(
                "the raw fields must be a JSON object".into(),
            ));
        };
        let options = self.shared.options();
        let writer = self.other_app();
        let mut world = self.shared.world();
        Self::check_location(&world.hubrise, location_id)?;
        create_raw_and_notify(
            &mut world.hubrise,
            &options,
            location_id,
            &writer,
            &order,
            &raw,
        )
        .map_err(Self::rejected)
    }

    /// Patches an order as the "other app" (e.g. `{"status": "cancelled"}` for a customer
    /// cancellation). Returns the order as Passerelle's client sees it.
    pub async fn update_order_as_other_app(
        &self,
        location_id: &str,
        order_id: &str,
        patch: Value,
    ) -> Result<Value, SandboxError> {
        let options = self.shared.options();
        let writer = self.other_app();
        let mut world = self.shared.world();
        Self::check_location(&world.hubrise, location_id)?;
        patch_and_notify(
            &mut world.hubrise,
            &options,
            location_id,
            order_id,
            &writer,
            &patch,
        )
        .map_err(Self::rejected)?;
        let order = world
            .hubrise
            .orders
            .iter()
            .find(|o| o.id == order_id && o.location_id == location_id);
        order
            .map(|o| orders::render(o, &self.shared.seed.client_id))
            .ok_or_else(|| SandboxError::NotFound(format!("order {order_id}")))
    }

    /// The order as HubRise stores it, seen by Passerelle's client (its private refs only).
    pub async fn order(&self, location_id: &str, order_id: &str) -> Option<Value> {
        let world = self.shared.world();
        world
            .hubrise
            .orders
            .iter()
            .find(|o| o.id == order_id && o.location_id == location_id)
            .map(|o| orders::render(o, &self.shared.seed.client_id))
    }

    /// Moves an order's creation `by` into the past (`created_at` and what listings filter on):
    /// an order placed while a till was away.
    pub async fn backdate_order(&self, order_id: &str, by: Duration) -> Result<(), SandboxError> {
        let mut world = self.shared.world();
        let order = world
            .hubrise
            .orders
            .iter_mut()
            .find(|o| o.id == order_id)
            .ok_or_else(|| SandboxError::NotFound(format!("order {order_id}")))?;
        order.created_unix -= i64::try_from(by.as_secs()).unwrap_or(i64::MAX);
        let created = time::OffsetDateTime::from_unix_timestamp(order.created_unix)
            .map_err(|e| SandboxError::State(e.to_string()))?;
        order.body["created_at"] =
            serde_json::json!(crate::timefmt::format(crate::timefmt::to_paris(created)));
        Ok(())
    }

    /// Moves the making of `location_id`'s connections `by` into the past: HubRise's
    /// `created_at` and the `connected_at` the fake POS backend recorded from it. A connection
    /// made off the device long before a till confirms it (decision 19).
    pub async fn backdate_connections(
        &self,
        location_id: &str,
        by: Duration,
    ) -> Result<(), SandboxError> {
        let earlier = |at: &str| -> Result<String, SandboxError> {
            let at = crate::timefmt::parse(at)
                .ok_or_else(|| SandboxError::State(format!("unreadable time {at}")))?;
            let by =
                time::Duration::try_from(by).map_err(|e| SandboxError::State(e.to_string()))?;
            Ok(crate::timefmt::format(crate::timefmt::to_paris(at - by)))
        };
        let mut world = self.shared.world();
        let mut found = false;
        for c in world.hubrise.connections.iter_mut() {
            if c.location_id.as_deref() == Some(location_id) {
                c.created_at = earlier(&c.created_at)?;
                found = true;
            }
        }
        for c in world.pos.connections.iter_mut() {
            if c.location_id.as_deref() == Some(location_id)
                && let Some(at) = c.connected_at.as_deref()
            {
                c.connected_at = Some(earlier(at)?);
            }
        }
        if !found {
            return Err(SandboxError::NotFound(format!(
                "connection of {location_id}"
            )));
        }
        Ok(())
    }

    /// All orders of a location, oldest first, as Passerelle's client sees them.
    pub async fn orders(&self, location_id: &str) -> Vec<Value> {
        let world = self.shared.world();
        world
            .hubrise
            .orders
            .iter()
            .filter(|o| o.location_id == location_id)
            .map(|o| orders::render(o, &self.shared.seed.client_id))
            .collect()
    }

    // -- Connections (HubRise's back office) ---------------------------------------------------

    /// Every connection ever made, oldest first.
    pub async fn connections(&self) -> Vec<ConnectionInfo> {
        self.shared
            .world()
            .hubrise
            .connections
            .iter()
            .map(ConnectionInfo::of)
            .collect()
    }

    /// Indexes of the live connections `key` names: a connection id, a token, or a location id
    /// (then Passerelle's connections on that location, every device).
    fn select(&self, data: &HubriseData, key: &str) -> Vec<usize> {
        let main_client = &self.shared.seed.client_id;
        data.connections
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.state.is_dead())
            .filter(|(_, c)| {
                c.id == key
                    || c.token == key
                    || (c.location_id.as_deref() == Some(key) && c.client_id == *main_client)
            })
            .map(|(i, _)| i)
            .collect()
    }

    fn set_state(
        &self,
        key: &str,
        state: ConnectionState,
    ) -> Result<Vec<Connection>, SandboxError> {
        let mut world = self.shared.world();
        let chosen = self.select(&world.hubrise, key);
        if chosen.is_empty() {
            return Err(SandboxError::NotFound(format!("live connection {key}")));
        }
        let mut changed = Vec::new();
        for i in chosen {
            let c = &mut world.hubrise.connections[i];
            if state.is_dead() {
                end_connection(c, state);
            } else {
                c.state = state;
            }
            changed.push(c.without_events());
        }
        Ok(changed)
    }

    /// Blocks connections (401 "The connection has been blocked"). Returns how many.
    pub async fn block_connection(&self, key: &str) -> Result<usize, SandboxError> {
        Ok(self.set_state(key, ConnectionState::Blocked)?.len())
    }

    /// Lifts a block.
    pub async fn unblock_connection(&self, key: &str) -> Result<usize, SandboxError> {
        Ok(self.set_state(key, ConnectionState::Active)?.len())
    }

    /// Disconnects in HubRise's back office: the tokens stop at once (401 "...revoked") and
    /// the app's Disconnect callback URL is notified. Returns how many connections ended.
    pub async fn disconnect_connection(&self, key: &str) -> Result<usize, SandboxError> {
        let ended = self.set_state(key, ConnectionState::Disconnected)?;
        for c in &ended {
            crate::hubrise::disconnect_notice::notify_disconnect(&self.shared, c).await;
        }
        Ok(ended.len())
    }

    /// Puts `event` as is in the event queue of every live connection `key` names (odd entries
    /// HubRise's pages show or imply: both `order_id` and `resource_id`, another resource type,
    /// no `id`). Returns how many queues got it.
    pub async fn inject_event(&self, key: &str, event: Value) -> Result<usize, SandboxError> {
        let mut world = self.shared.world();
        let chosen = self.select(&world.hubrise, key);
        if chosen.is_empty() {
            return Err(SandboxError::NotFound(format!("live connection {key}")));
        }
        for &i in &chosen {
            crate::hubrise::callbacks::queue_raw_event(&mut world.hubrise, i, event.clone());
        }
        Ok(chosen.len())
    }

    /// Renames a location, a catalog or a customer list, as its owner would in HubRise's back
    /// office (`kind`: `location`, `catalog` or `customer_list`).
    pub async fn rename(&self, kind: &str, id: &str, name: &str) -> Result<(), SandboxError> {
        let mut world = self.shared.world();
        let data = &mut world.hubrise;
        let slot = match kind {
            "location" => data
                .locations
                .iter_mut()
                .find(|l| l.id == id)
                .map(|l| &mut l.name),
            "catalog" => data
                .catalogs
                .iter_mut()
                .find(|c| c.id == id)
                .map(|c| &mut c.name),
            "customer_list" => data
                .customer_lists
                .iter_mut()
                .find(|c| c.id == id)
                .map(|c| &mut c.name),
            other => return Err(SandboxError::NotFound(format!("resource kind {other}"))),
        };
        let slot = slot.ok_or_else(|| SandboxError::NotFound(format!("{kind} {id}")))?;
        *slot = name.to_owned();
        Ok(())
    }

    /// Suspends a location for non payment (401 with HubRise's message) or lifts it.
    pub async fn suspend_location(
        &self,
        location_id: &str,
        suspended: bool,
    ) -> Result<(), SandboxError> {
        let mut world = self.shared.world();
        let location = world
            .hubrise
            .locations
            .iter_mut()
            .find(|l| l.id == location_id)
            .ok_or_else(|| SandboxError::NotFound(format!("location {location_id}")))?;
        location.suspended = suspended;
        Ok(())
    }

    /// HubRise back office → Connect: approves the app's configured scope for `location_id` as
    /// the user `email` (picking the first catalog and customer list offered) and returns the
    /// URL HubRise sends the browser to: the app's Connect URL with `?code=...`, no `state`.
    pub async fn back_office_connect(
        &self,
        client_id: &str,
        location_id: &str,
        email: &str,
    ) -> Result<String, SandboxError> {
        let mut world = self.shared.world();
        let data = &world.hubrise;
        let client = data
            .client(client_id)
            .ok_or_else(|| SandboxError::NotFound(format!("client {client_id}")))?;
        let connect_url = client
            .connect_url
            .clone()
            .ok_or_else(|| SandboxError::NotFound(format!("Connect URL of {client_id}")))?;
        let scope = Scope::parse(&client.scope).map_err(SandboxError::State)?;
        let location = data
            .location(location_id)
            .ok_or_else(|| SandboxError::NotFound(format!("location {location_id}")))?;
        let user = data
            .users
            .iter()
            .find(|u| {
                u.email.eq_ignore_ascii_case(email) && u.account_ids.contains(&location.account_id)
            })
            .ok_or_else(|| {
                SandboxError::NotFound(format!("user {email} managing {location_id}"))
            })?;
        let first = |pool: &[crate::hubrise::model::Resource]| {
            HubriseData::selectable(pool, &location.account_id, Some(location_id))
                .first()
                .map(|r| r.id.clone())
        };
        let grant = CodeGrant {
            client_id: client_id.into(),
            redirect_uri: connect_url.clone(),
            user_id: user.id.clone(),
            account_id: Some(location.account_id.clone()),
            location_id: Some(location.id.clone()),
            catalog_id: scope
                .picks_catalog()
                .then(|| first(&data.catalogs))
                .flatten(),
            customer_list_id: scope
                .picks_customer_list()
                .then(|| first(&data.customer_lists))
                .flatten(),
            scope,
            device_id: None,
            code_challenge: None,
            issued: Instant::now(),
            aged: Duration::ZERO,
            used: false,
        };
        let code = ids::hex_secret(32);
        world.codes.insert(code.clone(), grant);
        Ok(with_query(&connect_url, &[("code", &code)], None))
    }

    /// The authorize URL HubRise's back-office Connect opens (the app's scope, its Connect URL
    /// as redirect URI, no state), for a person or a browser test to click through.
    pub async fn back_office_authorize_url(&self, client_id: &str) -> Result<String, SandboxError> {
        let world = self.shared.world();
        let client = world
            .hubrise
            .client(client_id)
            .ok_or_else(|| SandboxError::NotFound(format!("client {client_id}")))?;
        let connect_url = client
            .connect_url
            .clone()
            .ok_or_else(|| SandboxError::NotFound(format!("Connect URL of {client_id}")))?;
        let base = format!("{}/authorize", self.shared.urls.oauth());
        let pairs = [
            ("client_id", client_id),
            ("redirect_uri", connect_url.as_str()),
            ("scope", client.scope.as_str()),
        ];
        Ok(with_query(&base, &pairs, None))
    }

    /// HubRise back office → Open: the app's Open URL with `app_instance_id` appended.
    pub async fn open_url(&self, key: &str) -> Result<String, SandboxError> {
        let world = self.shared.world();
        let data = &world.hubrise;
        let c = data
            .connections
            .iter()
            .find(|c| c.id == key || c.token == key || c.location_id.as_deref() == Some(key))
            .ok_or_else(|| SandboxError::NotFound(format!("connection {key}")))?;
        let open = data
            .client(&c.client_id)
            .and_then(|cl| cl.open_url.clone())
            .ok_or_else(|| SandboxError::NotFound("Open URL".into()))?;
        Ok(with_query(
            &open,
            &[("app_instance_id", &c.app_instance_id)],
            None,
        ))
    }

    // -- Faults, logs, limits, switches --------------------------------------------------------

    pub async fn inject_fault(&self, fault: Fault) {
        self.shared.world().faults.push(fault);
    }

    pub async fn clear_faults(&self) {
        self.shared.world().faults.clear();
    }

    pub async fn faults(&self) -> Vec<Fault> {
        self.shared.world().faults.clone()
    }

    /// Cuts the network: HubRise's API and the POS backend refuse new connections, and every
    /// server drops requests on connections opened before (the admin API keeps working). See
    /// `network.rs`. Done when it returns.
    pub async fn cut_network(&self) {
        self.shared.set_network_cut(true);
        self.shared.network_settled().await;
    }

    /// Ends a network cut: the servers listen again on the same ports (done when it returns).
    pub async fn restore_network(&self) {
        self.shared.set_network_cut(false);
        self.shared.network_settled().await;
    }

    /// Whether the network is cut.
    pub async fn network_cut(&self) -> bool {
        self.shared.network_cut()
    }

    /// Every request to the three servers since the last reset (no secrets in it).
    pub async fn requests(&self) -> Vec<RequestRecord> {
        self.shared.world().log.clone()
    }

    pub async fn reset_requests(&self) {
        self.shared.world().log.clear();
    }

    /// How many logged requests have this method (any when empty) and a path starting with
    /// `path_prefix`.
    pub async fn count_requests(&self, method: &str, path_prefix: &str) -> usize {
        self.shared
            .world()
            .log
            .iter()
            .filter(|r| {
                (method.is_empty() || r.method.eq_ignore_ascii_case(method))
                    && r.path.starts_with(path_prefix)
            })
            .count()
    }

    pub async fn set_limits(&self, limits: RateLimits) {
        self.shared.update_options(|o| o.limits = limits);
        // New limits start from clean windows, as if the sandbox had just started.
        self.shared.world().usage.clear();
    }

    /// Changes switches at run time (the state file cannot change).
    pub async fn update_options(&self, change: impl FnOnce(&mut SandboxOptions)) {
        let state_file = self.shared.options().state_file;
        self.shared.update_options(|o| {
            change(o);
            o.state_file = state_file;
        });
    }

    pub async fn options(&self) -> SandboxOptions {
        self.shared.options()
    }

    /// Makes every outstanding authorisation code older (`601 s` expires them).
    pub async fn age_codes(&self, by: Duration) {
        for grant in self.shared.world().codes.values_mut() {
            grant.aged += by;
        }
    }

    // -- POS backend ---------------------------------------------------------------------------

    /// Expires every POS access token now (refresh tokens keep working).
    pub async fn expire_pos_access_tokens(&self) {
        let now = Instant::now();
        for token in self.shared.world().pos_live.access_tokens.values_mut() {
            token.expires = now;
        }
    }

    /// Ends every POS session: access and refresh tokens are all refused from now on (an
    /// account disabled, a password changed elsewhere).
    pub async fn end_pos_sessions(&self) {
        let mut world = self.shared.world();
        world.pos_live.access_tokens.clear();
        world.pos.refresh_tokens.clear();
    }

    /// The identity provider signs JWT access tokens with its second key from now on; its JWKS
    /// publishes both (a key rotation). Returns the new key's `kid`.
    pub async fn rotate_pos_signing_key(&self) -> &'static str {
        self.shared.world().pos_live.signing_key_rotated = true;
        crate::pos::identity_provider::current_kid(true)
    }

    /// Lifts the lockout of a POS email.
    pub async fn pos_lock_reset(&self, email: &str) {
        self.shared
            .world()
            .pos_live
            .failures
            .remove(&email.trim().to_ascii_lowercase());
    }

    /// How the POS backend hands over the token of the off-device connection of `location_id`
    /// from now on (`TokenHandOver::default()` for the faithful answer).
    pub async fn pos_token_hand_over(&self, location_id: &str, hand_over: TokenHandOver) {
        let mut world = self.shared.world();
        let switches = &mut world.pos_live.token_hand_overs;
        if hand_over == TokenHandOver::default() {
            switches.remove(location_id);
        } else {
            switches.insert(location_id.to_owned(), hand_over);
        }
    }

    /// The HubRise configuration the POS backend keeps for an account (as devices see it).
    pub async fn pos_connections(&self, pos_account_id: &str) -> Vec<Value> {
        self.shared
            .world()
            .pos
            .connections
            .iter()
            .filter(|c| c.pos_account_id == pos_account_id)
            .map(|c| c.to_json())
            .collect()
    }
}
