//! The UniFFI surface of Passerelle: a thin adapter over `passerelle-core`.
//!
//! It only exports: records, enums and errors come from the core (derived behind its `uniffi`
//! feature), and every method here forwards to the core inside a panic guard, so that no panic
//! crosses into Swift (where it would crash the till) and every export throws a typed error.

use std::sync::Arc;

use std::time::SystemTime;

use passerelle_core::{
    BackendStatus, ConfigChange, DisconnectOutcome, ErasureReport, ErasureScope, EventListener,
    FailedChange, HubriseAuthorization, HubriseConnection, HubriseConnectionOptions, LogLevel,
    Logger, OpenUrlOutcome, Order, OrderFilter, OrderStatus, PasserelleConfig, PasserelleError,
    PosAccount, QuarantinedItem, RetentionReport, SecretStore, Settings, SignOutMode,
    SignOutOutcome, SyncHealth, SyncReport,
};

mod guard;

use guard::{guard, guard_async};

uniffi::setup_scaffolding!("passerelle");

type Result<T> = std::result::Result<T, PasserelleError>;

/// One Passerelle instance over a data directory. Hold one per app.
#[derive(uniffi::Object)]
pub struct Passerelle {
    core: passerelle_core::Passerelle,
}

#[uniffi::export(async_runtime = "tokio")]
impl Passerelle {
    /// Opens the data directory, applies the pending configuration and starts.
    #[uniffi::constructor]
    pub async fn open(
        config: PasserelleConfig,
        secrets: Arc<dyn SecretStore>,
        events: Arc<dyn EventListener>,
    ) -> Result<Arc<Self>> {
        let core = guard_async(passerelle_core::Passerelle::open(config, secrets, events)).await?;
        Ok(Arc::new(Self { core }))
    }

    /// The signed-in POS account, if any.
    pub fn account(&self) -> Result<Option<PosAccount>> {
        guard(|| self.core.account())
    }

    /// Signs in with the POS account's e-mail and password. The password is never stored.
    pub async fn sign_in(&self, email: String, password: String) -> Result<PosAccount> {
        guard_async(self.core.sign_in(&email, &password)).await
    }

    /// Adopts the POS session of a host app that is already signed in.
    pub async fn sign_in_with_pos_session(&self, access_token: String) -> Result<PosAccount> {
        guard_async(self.core.sign_in_with_pos_session(&access_token)).await
    }

    /// Signs out: the POS session leaves the secret store; `mode` keeps the account's HubRise
    /// connections for its return or disconnects and revokes them.
    pub async fn sign_out(&self, mode: SignOutMode) -> Result<SignOutOutcome> {
        guard_async(self.core.sign_out(mode)).await
    }

    /// Erases an account's data from the device (orders, customers, connections, secrets).
    pub async fn erase_account_data(&self, scope: ErasureScope) -> Result<ErasureReport> {
        guard_async(self.core.erase_account_data(scope)).await
    }

    /// Starts connecting a HubRise location; open `authorize_url` in ASWebAuthenticationSession.
    pub fn begin_hubrise_connection(
        &self,
        options: HubriseConnectionOptions,
    ) -> Result<HubriseAuthorization> {
        guard(|| self.core.begin_hubrise_connection(options))
    }

    /// Completes a connection from the callback URL; it waits for a restart to go active.
    pub async fn complete_hubrise_connection(
        &self,
        callback_url: String,
    ) -> Result<HubriseConnection> {
        guard_async(self.core.complete_hubrise_connection(&callback_url)).await
    }

    /// Completes an out-of-band attempt with the code pasted from HubRise's page.
    pub async fn complete_hubrise_connection_with_code(
        &self,
        code: String,
        state: String,
    ) -> Result<HubriseConnection> {
        guard_async(
            self.core
                .complete_hubrise_connection_with_code(&code, &state),
        )
        .await
    }

    /// Starts connecting a HubRise location with the POS backend's https redirect: open the
    /// URL with `ASWebAuthenticationSession(url:callback: .https(host:path:))` (iOS 17.4+) using
    /// `callbackHttpsHost`/`callbackHttpsPath`, or show it as a QR code for a phone.
    pub async fn begin_hubrise_connection_via_pos_backend(
        &self,
        options: HubriseConnectionOptions,
    ) -> Result<HubriseAuthorization> {
        guard_async(self.core.begin_hubrise_connection_via_pos_backend(options)).await
    }

    /// Asks the POS backend for HubRise's answer to such an attempt: `nil` while the restaurant
    /// is still on HubRise's page, else the connection (pending until a restart).
    pub async fn complete_hubrise_connection_via_pos_backend(
        &self,
        state: String,
    ) -> Result<Option<HubriseConnection>> {
        guard_async(
            self.core
                .complete_hubrise_connection_via_pos_backend(&state),
        )
        .await
    }

    /// Abandons a connection attempt (the user closed the browser).
    pub fn cancel_hubrise_connection(&self, state: String) -> Result<()> {
        guard(|| self.core.cancel_hubrise_connection(&state))
    }

    /// Routes a URL the app was opened with: its OAuth redirect, or HubRise's Open URL.
    pub async fn handle_open_url(&self, url: String) -> Result<OpenUrlOutcome> {
        guard_async(self.core.handle_open_url(&url)).await
    }

    /// Live check of a connection at HubRise; refreshes its names or records a refusal.
    pub async fn check_connection(&self, connection_id: String) -> Result<HubriseConnection> {
        guard_async(self.core.check_connection(&connection_id)).await
    }

    /// Disconnects a connection now; it leaves the list at the next restart.
    pub async fn disconnect(&self, connection_id: String) -> Result<DisconnectOutcome> {
        guard_async(self.core.disconnect(&connection_id)).await
    }

    /// The current account's HubRise connections.
    pub fn connections(&self) -> Result<Vec<HubriseConnection>> {
        guard(|| self.core.connections())
    }

    /// The settings the engine runs on.
    pub fn settings(&self) -> Result<Settings> {
        guard(|| self.core.settings())
    }

    /// Version of the active configuration.
    pub fn configuration_version(&self) -> Result<u64> {
        guard(|| self.core.configuration_version())
    }

    /// The per-install device id sent to HubRise.
    pub fn device_id(&self) -> Result<String> {
        guard(|| self.core.device_id())
    }

    /// Changes waiting for a restart or a confirmation.
    pub fn pending_changes(&self) -> Result<Vec<ConfigChange>> {
        guard(|| self.core.pending_changes())
    }

    /// Whether `restart()` would apply something now.
    pub fn restart_required(&self) -> Result<bool> {
        guard(|| self.core.restart_required())
    }

    /// Records new settings, applied at the next restart (or at once in immediate mode).
    pub async fn update_settings(&self, settings: Settings) -> Result<()> {
        guard_async(self.core.update_settings(settings)).await
    }

    /// Applies the pending configuration without the app being killed: stops sync, applies,
    /// starts sync again.
    pub async fn restart(&self) -> Result<()> {
        guard_async(self.core.restart()).await
    }

    /// Whether the POS backend answered at the last open, restart or `sync_now`.
    pub fn backend_status(&self) -> Result<BackendStatus> {
        guard(|| self.core.backend_status())
    }

    /// Confirms a connection made off the device (the POS back office or HubRise's): its token
    /// is fetched from the POS backend and it goes active at once.
    pub async fn confirm_connection(&self, connection_id: String) -> Result<HubriseConnection> {
        guard_async(self.core.confirm_connection(&connection_id)).await
    }

    /// Refuses a connection made off the device: revoked through the backend, never active.
    pub async fn refuse_connection(&self, connection_id: String) -> Result<HubriseConnection> {
        guard_async(self.core.refuse_connection(&connection_id)).await
    }

    /// Syncs every active connection now (app foregrounded, network back).
    pub async fn sync_now(&self) -> Result<SyncReport> {
        guard_async(self.core.sync_now()).await
    }

    /// Starts the sync engine (it starts by itself when the instance opens).
    pub fn start_sync(&self) -> Result<()> {
        guard(|| self.core.start_sync())
    }

    /// Stops the sync engine until `start_sync` or `restart`.
    pub async fn stop_sync(&self) -> Result<()> {
        guard_async(self.core.stop_sync()).await
    }

    /// The app went to the background: sync pauses (iOS would not run its timer).
    pub fn app_did_enter_background(&self) -> Result<()> {
        guard(|| self.core.app_did_enter_background())
    }

    /// The app is in the foreground again: sync resumes at once.
    pub fn app_will_enter_foreground(&self) -> Result<()> {
        guard(|| self.core.app_will_enter_foreground())
    }

    /// Orders of the signed-in account, newest first.
    pub fn orders(&self, filter: OrderFilter) -> Result<Vec<Order>> {
        guard(|| self.core.orders(filter))
    }

    /// One order with its items, options, charges, discounts, payments and customer.
    pub fn order(&self, order_id: String) -> Result<Option<Order>> {
        guard(|| self.core.order(&order_id))
    }

    /// Accepts an order; `confirmed_time` is when it will be ready.
    pub async fn accept(&self, order_id: String, confirmed_time: Option<SystemTime>) -> Result<()> {
        guard_async(self.core.accept(&order_id, confirmed_time)).await
    }

    /// Rejects an order; the reason stays on the device (HubRise has no field for it).
    pub async fn reject(&self, order_id: String, reason: Option<String>) -> Result<()> {
        guard_async(self.core.reject(&order_id, reason)).await
    }

    /// Sets another status (in preparation, awaiting collection, completed, ...).
    pub async fn update_status(&self, order_id: String, status: OrderStatus) -> Result<()> {
        guard_async(self.core.update_status(&order_id, status)).await
    }

    /// Orders received but not yet marked seen, oldest first; announced again at every open.
    pub async fn unseen_orders(&self) -> Result<Vec<Order>> {
        guard_async(async { self.core.unseen_orders() }).await
    }

    /// The staff saw these orders; returns how many were unseen.
    pub async fn mark_orders_seen(&self, order_ids: Vec<String>) -> Result<u32> {
        guard_async(async { self.core.mark_orders_seen(order_ids) }).await
    }

    /// Whether orders flow, for each active connection (`SyncHealthChanged` announces changes).
    pub async fn sync_health(&self) -> Result<SyncHealth> {
        guard_async(async { self.core.sync_health() }).await
    }

    /// Events and orders set aside after failing past their budget, newest first.
    pub async fn quarantined_items(&self) -> Result<Vec<QuarantinedItem>> {
        guard_async(async { self.core.quarantined_items() }).await
    }

    /// Changes from the till that could not be pushed within their budget.
    pub async fn failed_changes(&self) -> Result<Vec<FailedChange>> {
        guard_async(async { self.core.failed_changes() }).await
    }

    /// Sends an order's failed changes again with a fresh budget; returns how many.
    pub async fn retry_failed_changes(&self, order_id: String) -> Result<u32> {
        guard_async(self.core.retry_failed_changes(&order_id)).await
    }

    /// Runs a retention pass now (it also runs by itself shortly after open and every
    /// `Retention.intervalSecs`): prunes finished orders and old records, scrubs customers'
    /// personal data past its delay, in small batches.
    pub async fn apply_retention(&self) -> Result<RetentionReport> {
        guard_async(self.core.apply_retention()).await
    }

    /// The network is back (wire `NWPathMonitor` to it): every connection syncs now.
    pub fn network_available(&self) -> Result<()> {
        guard(|| self.core.network_available())
    }

    /// Stops sync, closes the database and releases the data directory; later calls throw
    /// `PasserelleError.Closed`.
    pub async fn close(&self) -> Result<()> {
        guard_async(self.core.close()).await
    }
}

/// Routes Passerelle's logs at `level` and above to the host's `logger` (for `os_log`), redacted.
/// Call it again to change the logger or the level.
#[uniffi::export]
pub fn set_logger(logger: Arc<dyn Logger>, level: LogLevel) -> Result<()> {
    guard(|| passerelle_core::set_logger(logger, level))
}

/// The stable code of an error, for the host to localise (`"invalid_credentials"`, ...).
#[uniffi::export]
pub fn passerelle_error_code(error: &PasserelleError) -> String {
    error.code().to_owned()
}

/// Whether retrying later may succeed without the user doing anything.
#[uniffi::export]
pub fn passerelle_error_is_retryable(error: &PasserelleError) -> bool {
    error.is_retryable()
}
