//! The facade: the one object the host holds. Every public operation starts here and flows one
//! way, to the services (POS sign-in, HubRise connections, sync) and below them the store and HTTP.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use crate::account::PosAccount;
use crate::config::{PasserelleConfig, Settings, ValidatedEndpoints, validate_settings};
use crate::configuration::{self, ConfigChange, ConfigurationSnapshot};
use crate::connection::HubriseConnection;
use crate::error::{PasserelleError, Result};
use crate::events::{EventBus, EventListener, PasserelleEvent};
use crate::hubrise::api::HubriseApi;
use crate::hubrise::connect::{self, DisconnectOutcome, OpenUrlOutcome};
use crate::hubrise::oauth::{HubriseAuthorization, HubriseConnectionOptions};
use crate::inbox;
use crate::order::{Order, OrderFilter, OrderStatus};
use crate::pos::auth;
use crate::pos::client::PosClient;
use crate::pos::configuration::{self as backend, BackendStatus, StatusCell};
use crate::secrets::{Secret, SecretStore, Secrets};
use crate::store::{self, Store, accounts, connections, meta};
use crate::sync::ConnectionRuntime;
use crate::sync::Engine;

/// State shared by the facade and the services.
pub(crate) struct Shared {
    pub config: PasserelleConfig,
    pub endpoints: ValidatedEndpoints,
    pub store: Store,
    pub secrets: Secrets,
    pub events: EventBus,
    pub device_id: String,
    pub pos: PosClient,
    pub hubrise: HubriseApi,
    /// Whether the last reload of the POS backend's configuration succeeded.
    pub backend_status: StatusCell,
    /// Serialises POS session refreshes (refresh tokens rotate).
    pub session_lock: tokio::sync::Mutex<()>,
    /// Each connection's rate windows and cycle lock. Kept here, not in a worker, so a restarted
    /// worker still knows what this window has already spent, and no two cycles of a connection
    /// ever overlap, whoever started them.
    connection_runtimes: std::sync::Mutex<HashMap<String, Arc<ConnectionRuntime>>>,
    /// The configuration the engine runs on; replaced only by an apply.
    active: RwLock<ConfigurationSnapshot>,
    /// Serialises applies (restart, immediate mode) so two never interleave.
    apply_lock: tokio::sync::Mutex<()>,
}

/// What `sync_now` did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SyncReport {
    pub orders_received: u32,
    pub orders_updated: u32,
    pub changes_pushed: u32,
}

/// A Passerelle instance over one data directory.
pub struct Passerelle {
    shared: Arc<Shared>,
    engine: Engine,
}

impl std::fmt::Debug for Passerelle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passerelle")
            .field("store", &self.shared.store)
            .finish_non_exhaustive()
    }
}

impl Passerelle {
    /// Opens the data directory, applies the pending configuration and starts.
    ///
    /// `secrets` is the host's secret store (Keychain), `events` its listener.
    pub async fn open(
        config: PasserelleConfig,
        secrets: Arc<dyn SecretStore>,
        events: Arc<dyn EventListener>,
    ) -> Result<Self> {
        let endpoints = config.validate()?;
        let store = Store::open(Path::new(&config.data_dir))?;
        let device_id =
            store.write(|tx| load_or_create_device_id(tx, config.device_id.as_deref()))?;
        let active =
            store.write(|tx| configuration::load_or_init_active(tx, &config.initial_settings))?;
        // No HTTP client is built here: the first request builds the process's one client.
        let pos = PosClient::new(endpoints.pos.clone(), &config.pos_client_id)?;
        let hubrise = HubriseApi::new(&endpoints.hubrise_api.base, config.rate_limits.minute_ms);
        let events = EventBus::start(events).map_err(|e| {
            PasserelleError::internal(format!("cannot start the event thread: {e}"))
        })?;
        let shared = Arc::new(Shared {
            config,
            endpoints,
            store,
            secrets: Secrets::new(secrets),
            events,
            device_id,
            pos,
            hubrise,
            backend_status: StatusCell::default(),
            session_lock: tokio::sync::Mutex::new(()),
            connection_runtimes: std::sync::Mutex::default(),
            active: RwLock::new(active),
            apply_lock: tokio::sync::Mutex::new(()),
        });
        let passerelle = Self {
            shared,
            // `open` is async: the runtime it runs on (the library's, over the FFI) hosts the workers.
            engine: Engine::new(tokio::runtime::Handle::current()),
        };
        backend::reload(&passerelle.shared).await;
        passerelle.apply_pending().await?;
        passerelle.engine.start(&passerelle.shared)?;
        Ok(passerelle)
    }

    /// The signed-in POS account, if any.
    pub fn account(&self) -> Result<Option<PosAccount>> {
        self.shared.store.read(accounts::current)
    }

    /// Signs in with the POS account's e-mail and password (never stored). Wrong credentials,
    /// lockout and network failures are distinct errors; nothing is retried automatically.
    pub async fn sign_in(&self, email: &str, password: &str) -> Result<PosAccount> {
        let account = auth::sign_in(&self.shared, email, Secret::new(password)).await?;
        self.account_changed().await?;
        Ok(account)
    }

    /// Adopts the POS session of a host app that is already signed in.
    pub async fn sign_in_with_pos_session(&self, access_token: &str) -> Result<PosAccount> {
        let account =
            auth::sign_in_with_pos_session(&self.shared, Secret::new(access_token)).await?;
        self.account_changed().await?;
        Ok(account)
    }

    /// Signs out: sync stops, the account's secrets are removed from the secret store; its data
    /// stays.
    pub async fn sign_out(&self) -> Result<()> {
        self.engine.stop().await;
        auth::sign_out(&self.shared).await?;
        self.account_changed().await
    }

    /// Starts connecting a HubRise location: open the returned URL in the system browser.
    pub fn begin_hubrise_connection(
        &self,
        options: HubriseConnectionOptions,
    ) -> Result<HubriseAuthorization> {
        connect::begin(&self.shared, &options)
    }

    /// Completes a connection from the callback URL; the connection waits for a restart.
    pub async fn complete_hubrise_connection(
        &self,
        callback_url: &str,
    ) -> Result<HubriseConnection> {
        let connection = connect::complete_callback(&self.shared, callback_url).await?;
        self.connected().await?;
        Ok(connection)
    }

    /// Completes an out-of-band attempt with the code pasted from HubRise's page.
    pub async fn complete_hubrise_connection_with_code(
        &self,
        code: &str,
        state: &str,
    ) -> Result<HubriseConnection> {
        let connection =
            connect::complete_with_code(&self.shared, Secret::new(code), state).await?;
        self.connected().await?;
        Ok(connection)
    }

    /// Abandons a connection attempt.
    pub fn cancel_hubrise_connection(&self, state: &str) -> Result<()> {
        connect::cancel(&self.shared, state)
    }

    /// Routes a URL the app was opened with (its redirect, or HubRise's Open URL).
    pub async fn handle_open_url(&self, url: &str) -> Result<OpenUrlOutcome> {
        let outcome = connect::handle_open_url(&self.shared, url).await?;
        if matches!(outcome, OpenUrlOutcome::Connected { .. }) {
            self.connected().await?;
        }
        Ok(outcome)
    }

    /// Live check of a connection (`GET /location`): refreshes names, or records a refusal.
    pub async fn check_connection(&self, connection_id: &str) -> Result<HubriseConnection> {
        let connection = connect::check(&self.shared, connection_id).await?;
        // HubRise unblocked the connection: its sync resumes.
        self.engine.start(&self.shared)?;
        Ok(connection)
    }

    /// Disconnects now (revoke, token deleted); the connection leaves the list at restart.
    pub async fn disconnect(&self, connection_id: &str) -> Result<DisconnectOutcome> {
        // HubRise blocks the token at once: stop its sync before anything else (decision 4).
        self.engine.stop_connection(connection_id).await;
        let outcome = connect::disconnect(&self.shared, connection_id).await?;
        self.changed().await?;
        Ok(outcome)
    }

    /// The current account's connections (pending, active, removing), oldest first.
    pub fn connections(&self) -> Result<Vec<HubriseConnection>> {
        self.shared.store.read(|conn| {
            let Some(account) = accounts::current(conn)? else {
                return Ok(Vec::new());
            };
            let rows = connections::list_live(conn, &account.account_id)?;
            Ok(rows.into_iter().map(|row| row.public).collect())
        })
    }

    /// The settings the engine runs on.
    pub fn settings(&self) -> Result<Settings> {
        Ok(self.shared.active()?.settings)
    }

    /// Version of the active configuration; grows by one at every apply.
    pub fn configuration_version(&self) -> Result<u64> {
        Ok(self.shared.active()?.version)
    }

    /// The per-install device id sent to HubRise.
    pub fn device_id(&self) -> Result<String> {
        Ok(self.shared.device_id.clone())
    }

    /// Changes waiting for a restart or for the host's confirmation.
    pub fn pending_changes(&self) -> Result<Vec<ConfigChange>> {
        let active = self.shared.active()?;
        self.shared.store.read(|conn| {
            let account = accounts::current(conn)?;
            configuration::pending_changes(
                conn,
                &active,
                account.as_ref().map(|a| a.account_id.as_str()),
            )
        })
    }

    /// Whether `restart()` would apply something now.
    pub fn restart_required(&self) -> Result<bool> {
        Ok(self
            .pending_changes()?
            .iter()
            .any(ConfigChange::applies_on_restart))
    }

    /// Records new settings; they apply at the next restart (or at once in immediate mode).
    pub async fn update_settings(&self, settings: Settings) -> Result<()> {
        validate_settings(&settings, self.shared.endpoints.hubrise_api.is_loopback)?;
        let active = self.shared.active()?;
        self.shared
            .store
            .write(|tx| configuration::record_settings(tx, &active, &settings))?;
        self.changed().await
    }

    /// Soft restart: stops sync, applies the pending configuration (the Popina step "restart
    /// the app to apply the changes") and starts sync again, without the app being killed.
    pub async fn restart(&self) -> Result<()> {
        self.engine.stop().await;
        self.engine.enable(true);
        backend::reload(&self.shared).await;
        let applied = self.apply_pending().await;
        self.engine.start(&self.shared)?;
        applied.map(|_| ())
    }

    /// Syncs every active connection now (the app came to the foreground, the network is back).
    /// Returns how many orders arrived, changed and how many changes were pushed.
    pub async fn sync_now(&self) -> Result<SyncReport> {
        if !self.shared.backend_status.get().reachable {
            // Retry the reload that failed at open or restart; what it finds waits for a restart.
            backend::reload(&self.shared).await;
            self.changed().await?;
        }
        self.engine.start(&self.shared)?;
        let report = self.engine.sync_now(&self.shared).await?;
        Ok(SyncReport {
            orders_received: report.received,
            orders_updated: report.updated,
            changes_pushed: report.pushed,
        })
    }

    /// Whether the POS backend answered at the last open, restart or `sync_now`.
    pub fn backend_status(&self) -> Result<BackendStatus> {
        Ok(self.shared.backend_status.get())
    }

    /// Confirms a connection made off the device (shown pending with its names): its token is
    /// fetched from the POS backend and it goes active at once.
    pub async fn confirm_connection(&self, connection_id: &str) -> Result<HubriseConnection> {
        backend::confirm(&self.shared, connection_id).await?;
        {
            let _guard = self.shared.apply_lock.lock().await;
            let active = self.shared.active()?;
            let next = self
                .shared
                .store
                .write(|tx| configuration::activate(tx, &active, connection_id))?;
            self.shared.set_active(next);
        }
        self.engine.start(&self.shared)?;
        let connection = self
            .shared
            .store
            .read(|c| connections::get(c, connection_id))?
            .public;
        self.shared.events.emit(PasserelleEvent::ConnectionChanged {
            connection: connection.clone(),
        });
        Ok(connection)
    }

    /// Refuses a connection made off the device: revoked through the backend, never active.
    pub async fn refuse_connection(&self, connection_id: &str) -> Result<HubriseConnection> {
        let connection = backend::refuse(&self.shared, connection_id).await?;
        self.shared.events.emit(PasserelleEvent::ConnectionChanged {
            connection: connection.clone(),
        });
        Ok(connection)
    }

    /// Starts the sync engine (it starts by itself at `open`).
    pub fn start_sync(&self) -> Result<()> {
        self.engine.enable(true);
        self.engine.start(&self.shared)
    }

    /// Stops the sync engine until `start_sync` or `restart`.
    pub async fn stop_sync(&self) -> Result<()> {
        self.engine.enable(false);
        self.engine.stop().await;
        Ok(())
    }

    /// The app went to the background: iOS will not run timers, so sync pauses.
    pub fn app_did_enter_background(&self) -> Result<()> {
        self.engine.set_paused(true);
        Ok(())
    }

    /// The app is back: sync resumes at once.
    pub fn app_will_enter_foreground(&self) -> Result<()> {
        self.engine.set_paused(false);
        Ok(())
    }

    /// Connections whose sync is running now.
    pub fn syncing_connections(&self) -> Result<Vec<String>> {
        Ok(self.engine.running())
    }

    /// Orders of the signed-in account, newest first.
    pub fn orders(&self, filter: OrderFilter) -> Result<Vec<Order>> {
        inbox::list(&self.shared, &filter)
    }

    /// One order with its items, options, charges, discounts, payments and customer.
    pub fn order(&self, order_id: &str) -> Result<Option<Order>> {
        inbox::get(&self.shared, order_id)
    }

    /// Accepts an order; `confirmed_time` is when it will be ready. Written to the outbox
    /// first, then pushed to HubRise.
    pub async fn accept(&self, order_id: &str, confirmed_time: Option<SystemTime>) -> Result<()> {
        inbox::accept(&self.shared, order_id, confirmed_time)?;
        self.engine.wake();
        Ok(())
    }

    /// Rejects an order (the reason stays on this device: HubRise has no field for it).
    pub async fn reject(&self, order_id: &str, reason: Option<String>) -> Result<()> {
        inbox::reject(&self.shared, order_id, reason.as_deref())?;
        self.engine.wake();
        Ok(())
    }

    /// Sets another status (in preparation, awaiting collection, completed, ...).
    pub async fn update_status(&self, order_id: &str, status: OrderStatus) -> Result<()> {
        inbox::update_status(&self.shared, order_id, status)?;
        self.engine.wake();
        Ok(())
    }

    /// A connection was made or renewed: a renewed active one resumes syncing at once.
    async fn connected(&self) -> Result<()> {
        // After `changed`: in immediate mode it has just made the connection active.
        self.changed().await?;
        self.engine.start(&self.shared)
    }

    /// Another account's connections must not keep syncing, so a change of account is applied
    /// at once: its active connections run, the previous account's stop.
    async fn account_changed(&self) -> Result<()> {
        let current = self.account()?.map(|a| a.account_id);
        if self.shared.active()?.pos_account_id != current {
            self.engine.stop().await;
            self.apply_pending().await?;
            self.engine.start(&self.shared)?;
        }
        self.changed().await
    }

    /// After any change to the pending configuration: apply it at once in immediate mode,
    /// otherwise tell the host a restart is required.
    pub(crate) async fn changed(&self) -> Result<()> {
        if self.shared.active()?.settings.apply_mode == crate::config::ApplyMode::Immediately {
            return self.apply_pending().await.map(|_| ());
        }
        let changes = self.pending_changes()?;
        if changes.iter().any(ConfigChange::applies_on_restart) {
            self.shared
                .events
                .emit(PasserelleEvent::RestartRequired { changes });
        }
        Ok(())
    }

    /// Promotes pending to active in one transaction, when there is anything to promote.
    async fn apply_pending(&self) -> Result<ConfigurationSnapshot> {
        let _guard = self.shared.apply_lock.lock().await;
        let active = self.shared.active()?;
        let applied = self.shared.store.write(|tx| {
            let account = accounts::current(tx)?.map(|a| a.account_id);
            let changes = configuration::pending_changes(tx, &active, account.as_deref())?;
            let account_changed = active.pos_account_id != account;
            if !account_changed && !changes.iter().any(ConfigChange::applies_on_restart) {
                return Ok(None);
            }
            configuration::apply_pending(tx, &active, account.as_deref()).map(Some)
        })?;
        let Some(next) = applied else {
            return Ok(active);
        };
        self.shared.set_active(next.clone());
        tracing::info!(target: "passerelle::config", version = next.version, "configuration applied");
        self.shared
            .events
            .emit(PasserelleEvent::ConfigurationApplied {
                version: next.version,
            });
        Ok(next)
    }
}

impl Shared {
    pub fn active(&self) -> Result<ConfigurationSnapshot> {
        self.active
            .read()
            .map(|guard| guard.clone())
            .map_err(|_| PasserelleError::internal("active configuration lock poisoned"))
    }

    /// The rate windows and cycle lock of a connection.
    pub fn connection_runtime(&self, connection_id: &str) -> Arc<ConnectionRuntime> {
        let mut runtimes = self
            .connection_runtimes
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        runtimes
            .entry(connection_id.to_owned())
            .or_insert_with(|| Arc::new(ConnectionRuntime::new(&self.config.rate_limits)))
            .clone()
    }

    fn set_active(&self, snapshot: ConfigurationSnapshot) {
        let mut guard = self
            .active
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *guard = snapshot;
    }
}

/// The host's device id when given, else the one generated at first open (decision 5).
fn load_or_create_device_id(
    conn: &rusqlite::Connection,
    configured: Option<&str>,
) -> Result<String> {
    const KEY: &str = "device_id";
    if let Some(id) = configured {
        meta::set(conn, KEY, id)?;
        return Ok(id.to_owned());
    }
    if let Some(id) = meta::get(conn, KEY)? {
        return Ok(id);
    }
    let id = format!("passerelle-{}", store::new_id());
    meta::set(conn, KEY, &id)?;
    Ok(id)
}
