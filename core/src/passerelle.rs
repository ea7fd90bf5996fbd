//! The facade: the one object the host holds. `open()` builds the shared parts and the services
//! once; every public operation delegates to them and converts the internal error to the public
//! one (the `?` on each call). No module imports this one.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::config::{PasserelleConfig, Settings};
use crate::context::Context;
use crate::error::PublicResult as Result;
use crate::events::{EventBus, EventListener};
use crate::model::account::PosAccount;
use crate::model::account::{ErasureReport, ErasureScope, SignOutMode, SignOutOutcome};
use crate::model::authorization::{HubriseAuthorization, HubriseConnectionOptions};
use crate::model::connection::HubriseConnection;
use crate::model::connection::{DisconnectOutcome, OpenUrlOutcome};
use crate::model::health::BackendStatus;
use crate::model::health::{FailedChange, QuarantinedItem, SyncHealth};
use crate::model::order::{Order, OrderFilter, OrderStatus, OrderSummary};
use crate::model::retention::RetentionReport;
use crate::model::snapshot::ConfigChange;
use crate::model::sync_report::SyncReport;
use crate::secrets::{Secret, SecretStore};
use crate::services::account::AccountLifecycle;
use crate::services::connect::Connect;
use crate::services::health::Health;
use crate::services::inbox::Inbox;
use crate::services::off_device::OffDevice;
use crate::services::push::PushNotifications;
use crate::services::restart::RestartToApply;
use crate::services::retention::RetentionService;
use crate::services::sign_in::SignIn;
use crate::services::sync::SyncEngine;
use crate::store::Store;

/// A Passerelle instance over one data directory.
pub struct Passerelle {
    store: Arc<Store>,
    events: EventBus,
    device_id: Arc<str>,
    sign_in: SignIn,
    connect: Connect,
    off_device: Arc<OffDevice>,
    push: PushNotifications,
    sync: Arc<SyncEngine>,
    restart: Arc<RestartToApply>,
    account: AccountLifecycle,
    inbox: Inbox,
    health: Health,
    retention: Arc<RetentionService>,
}

impl std::fmt::Debug for Passerelle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passerelle")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

/// Dropping an instance releases its data directory at once, as `close()` does, without waiting
/// for its workers (they are aborted) to let go of the database.
impl Drop for Passerelle {
    fn drop(&mut self) {
        self.retention.stop();
        self.store.close();
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
        let ctx = Context::open(config, secrets, events)?;
        let health = Health::new(&ctx);
        // `open` is async: the runtime it runs on (the library's, over the FFI) hosts the workers.
        let runtime = tokio::runtime::Handle::current();
        let sync = Arc::new(SyncEngine::new(&ctx, health.clone(), runtime.clone()));
        let off_device = Arc::new(OffDevice::new(&ctx));
        let retention = RetentionService::new(&ctx);
        let restart = Arc::new(RestartToApply::new(
            &ctx,
            health.clone(),
            sync.clone(),
            off_device.clone(),
        ));
        let passerelle = Self {
            store: ctx.store.clone(),
            events: ctx.events.clone(),
            device_id: ctx.device_id.clone(),
            sign_in: SignIn::new(&ctx),
            connect: Connect::new(&ctx, health.clone()),
            account: AccountLifecycle::new(&ctx, health.clone(), sync.clone(), restart.clone()),
            restart,
            inbox: Inbox::new(&ctx),
            health,
            off_device,
            push: PushNotifications::new(&ctx),
            sync,
            retention,
        };
        passerelle.restart.open().await?;
        passerelle.inbox.announce_unseen()?;
        // Its own low-priority task, off the sync path (design D24).
        passerelle.retention.start(&runtime);
        Ok(passerelle)
    }

    /// Waits until the listener has been handed every event emitted so far, at most `limit`
    /// (then `false`): after `open`, the events it announced (unseen orders, a database
    /// recovered). The host's events hub calls it after `open` so that every subscription made
    /// afterwards can replay them (issue 25.1); `open` itself never waits for the listener.
    pub async fn events_delivered(&self, limit: Duration) -> bool {
        self.events.delivered(limit).await
    }

    /// The signed-in POS account, if any.
    pub fn account(&self) -> Result<Option<PosAccount>> {
        Ok(self.sign_in.account()?)
    }

    /// Signs in with the POS account's e-mail and password (never stored). Wrong credentials,
    /// lockout and network failures are distinct errors; nothing is retried automatically.
    pub async fn sign_in(&self, email: &str, password: &str) -> Result<PosAccount> {
        let account = self.sign_in.sign_in(email, Secret::new(password)).await?;
        self.restart.account_changed().await?;
        Ok(account)
    }

    /// Adopts the POS session of a host app that is already signed in.
    pub async fn sign_in_with_pos_session(&self, access_token: &str) -> Result<PosAccount> {
        let account = self
            .sign_in
            .sign_in_with_pos_session(Secret::new(access_token))
            .await?;
        self.restart.account_changed().await?;
        Ok(account)
    }

    /// Signs out: sync stops and the POS session leaves the secret store. `mode` says what
    /// becomes of the account's HubRise connections: kept (with their tokens) for when the
    /// account signs in again, or disconnected and revoked. The account's orders stay on the
    /// device, scoped to it, until retention or `erase_account_data`.
    pub async fn sign_out(&self, mode: SignOutMode) -> Result<SignOutOutcome> {
        Ok(self.account.sign_out(mode).await?)
    }

    /// Erases an account's data from the device (orders and their customers, connections,
    /// queues, secrets), for a device handed over or a restaurant's request; the signed-in
    /// account is signed out first, its connections disconnected and revoked.
    pub async fn erase_account_data(&self, scope: ErasureScope) -> Result<ErasureReport> {
        Ok(self.account.erase(scope).await?)
    }

    /// Starts connecting a HubRise location: open the returned URL in the system browser.
    pub fn begin_hubrise_connection(
        &self,
        options: HubriseConnectionOptions,
    ) -> Result<HubriseAuthorization> {
        Ok(self.connect.begin(&options)?)
    }

    /// Completes a connection from the callback URL; the connection waits for a restart.
    pub async fn complete_hubrise_connection(
        &self,
        callback_url: &str,
    ) -> Result<HubriseConnection> {
        let connection = self.connect.complete_callback(callback_url).await?;
        self.restart.connected().await?;
        Ok(connection)
    }

    /// Completes an out-of-band attempt with the code pasted from HubRise's page.
    pub async fn complete_hubrise_connection_with_code(
        &self,
        code: &str,
        state: &str,
    ) -> Result<HubriseConnection> {
        let connection = self
            .connect
            .complete_with_code(Secret::new(code), state)
            .await?;
        self.restart.connected().await?;
        Ok(connection)
    }

    /// Starts connecting a HubRise location with the POS backend's https redirect (HubRise
    /// documents https redirect URIs, not custom schemes): open the returned URL in the system
    /// browser (`ASWebAuthenticationSession` with `callback: .https(host:path:)` on iOS 17.4+),
    /// or show it as a QR code for a phone. The backend keeps HubRise's answer for this device:
    /// the app gets it from the backend's universal link (`handle_open_url`) or by asking
    /// (`complete_hubrise_connection_via_pos_backend`).
    pub async fn begin_hubrise_connection_via_pos_backend(
        &self,
        options: HubriseConnectionOptions,
    ) -> Result<HubriseAuthorization> {
        Ok(self.connect.begin_via_backend(&options).await?)
    }

    /// Asks the POS backend whether HubRise answered an attempt started with
    /// `begin_hubrise_connection_via_pos_backend`: `None` while the restaurant is still on
    /// HubRise's page (ask again later), else the connection (pending until a restart).
    pub async fn complete_hubrise_connection_via_pos_backend(
        &self,
        state: &str,
    ) -> Result<Option<HubriseConnection>> {
        let connection = self.connect.complete_via_backend(state).await?;
        if connection.is_some() {
            self.restart.connected().await?;
        }
        Ok(connection)
    }

    /// Abandons a connection attempt.
    pub fn cancel_hubrise_connection(&self, state: &str) -> Result<()> {
        Ok(self.connect.cancel(state)?)
    }

    /// Routes a URL the app was opened with (its redirect, or HubRise's Open URL).
    pub async fn handle_open_url(&self, url: &str) -> Result<OpenUrlOutcome> {
        let outcome = self.connect.handle_open_url(url).await?;
        if matches!(outcome, OpenUrlOutcome::Connected { .. }) {
            self.restart.connected().await?;
        }
        Ok(outcome)
    }

    /// Live check of a connection (`GET /location`): refreshes names, or records a refusal.
    pub async fn check_connection(&self, connection_id: &str) -> Result<HubriseConnection> {
        let connection = self.connect.check(connection_id).await?;
        // HubRise unblocked the connection: its sync resumes.
        self.sync.start()?;
        Ok(connection)
    }

    /// As `disconnect`, unless `cancelled` completes first (the caller gave up while HubRise or
    /// the POS backend is slow to answer the revoke): then the connection is put back as it
    /// was, its token kept, its sync running, and this returns `None`. A revoke HubRise received
    /// meanwhile shows at the next cycle as a refusal (reconnect needed).
    pub async fn disconnect_unless(
        &self,
        connection_id: &str,
        cancelled: impl Future<Output = ()>,
    ) -> Result<Option<DisconnectOutcome>> {
        let before = self
            .connect
            .connections()?
            .into_iter()
            .find(|connection| connection.id == connection_id)
            .map(|connection| connection.state);
        tokio::select! {
            outcome = self.disconnect(connection_id) => outcome.map(Some),
            () = cancelled => {
                if let Some(state) = before {
                    self.connect.undo_disconnect(connection_id, state)?;
                }
                self.sync.start()?;
                Ok(None)
            }
        }
    }

    /// Disconnects now (revoke, token deleted); the connection leaves the list at restart.
    pub async fn disconnect(&self, connection_id: &str) -> Result<DisconnectOutcome> {
        // HubRise blocks the token at once: stop its sync before anything else.
        self.sync.stop_connection(connection_id).await;
        let outcome = self.connect.disconnect(connection_id).await?;
        self.restart.changed().await?;
        Ok(outcome)
    }

    /// The current account's connections (pending, active, removing), oldest first.
    pub fn connections(&self) -> Result<Vec<HubriseConnection>> {
        Ok(self.connect.connections()?)
    }

    /// The settings the engine runs on.
    pub fn settings(&self) -> Result<Settings> {
        Ok(self.restart.settings())
    }

    /// Version of the active configuration; grows by one at every apply.
    pub fn configuration_version(&self) -> Result<u64> {
        Ok(self.restart.version())
    }

    /// The per-install device id sent to HubRise.
    pub fn device_id(&self) -> Result<String> {
        Ok(self.device_id.to_string())
    }

    /// Changes waiting for a restart or for the host's confirmation.
    pub fn pending_changes(&self) -> Result<Vec<ConfigChange>> {
        Ok(self.restart.pending_changes()?)
    }

    /// Whether `restart()` would apply something now.
    pub fn restart_required(&self) -> Result<bool> {
        Ok(self.restart.restart_required()?)
    }

    /// Records new settings; they apply at the next restart (or at once in immediate mode).
    pub async fn update_settings(&self, settings: Settings) -> Result<()> {
        Ok(self.restart.update_settings(&settings).await?)
    }

    /// Soft restart: stops sync, applies the pending configuration (the Popina step "restart
    /// the app to apply the changes") and starts sync again, without the app being killed.
    pub async fn restart(&self) -> Result<()> {
        Ok(self.restart.restart().await?)
    }

    /// Syncs every active connection now (the app came to the foreground, the network is back).
    /// Returns how many orders arrived, changed and how many changes were pushed.
    pub async fn sync_now(&self) -> Result<SyncReport> {
        self.restart.reload_if_unreachable().await?;
        self.sync.start()?;
        Ok(self.sync.sync_now().await?)
    }

    /// Whether the POS backend answered at the last open, restart or `sync_now`.
    pub fn backend_status(&self) -> Result<BackendStatus> {
        Ok(self.off_device.status())
    }

    /// Confirms a connection made off the device (shown pending with its names): its token is
    /// fetched from the POS backend and it goes active at once.
    pub async fn confirm_connection(&self, connection_id: &str) -> Result<HubriseConnection> {
        Ok(self.restart.confirm(connection_id).await?)
    }

    /// Refuses a connection made off the device: revoked through the backend, never active.
    pub async fn refuse_connection(&self, connection_id: &str) -> Result<HubriseConnection> {
        Ok(self.off_device.refuse(connection_id).await?)
    }

    /// Starts the sync engine (it starts by itself at `open`).
    pub fn start_sync(&self) -> Result<()> {
        self.sync.enable(true);
        Ok(self.sync.start()?)
    }

    /// Starts again the workers a call stopped before its network exchange and never restarted
    /// because its caller cancelled it (a restart, a disconnection, a sign-out): each active,
    /// runnable connection gets its worker back, unless sync is off (`stop_sync`).
    pub fn resume_sync(&self) -> Result<()> {
        Ok(self.sync.start()?)
    }

    /// Stops the sync engine until `start_sync` or `restart`.
    pub async fn stop_sync(&self) -> Result<()> {
        self.sync.enable(false);
        self.sync.stop().await;
        Ok(())
    }

    /// The app went to the background: iOS will not run timers, so sync pauses, and the POS
    /// backend's event stream closes at once (the backend then wakes the app with a background
    /// notification when an order arrives, if the app registered its push token).
    pub fn app_did_enter_background(&self) -> Result<()> {
        self.sync.set_paused(true);
        Ok(())
    }

    /// The app is back: sync resumes at once and the event stream opens again from the last
    /// message read (what arrived meanwhile comes first). Nothing was read in the background, so
    /// that first cycle also reads the open orders' status again (other tills may have changed
    /// them).
    pub fn app_will_enter_foreground(&self) -> Result<()> {
        self.sync.set_paused(false);
        Ok(())
    }

    /// Registers this device's push token (the `Data` iOS gives to
    /// `application(_:didRegisterForRemoteNotificationsWithDeviceToken:)`) with the POS backend,
    /// which then wakes the app in the background when an order arrives while it has no event
    /// stream open (design D37). `true` when the backend keeps it; `false` when the backend has
    /// no such route, which is no error: the app is then not woken, and syncs back in front.
    /// Needs a signed-in account; call it at each launch (iOS may change the token).
    pub async fn register_push_token(&self, token: Vec<u8>) -> Result<bool> {
        Ok(self.push.register(&token).await?)
    }

    /// The app was woken by the POS backend's background notification
    /// (`application(_:didReceiveRemoteNotification:fetchCompletionHandler:)`): one cycle of
    /// every active connection, as `sync_now`, with a catch-up from HubRise's order list since
    /// each connection's last successful cycle first (the backend took the order's event from
    /// HubRise's queue, so a poll alone would not see it). Returns what arrived: call the
    /// completion handler with `.newData` when `ordersReceived + ordersUpdated > 0`, `.noData`
    /// otherwise, `.failed` on an error. iOS gives about 30 s: the cycle is cancellable.
    /// Orders it brings are announced as usual; the stream, reopened in the foreground, does not
    /// announce them again.
    pub async fn handle_push_notification(&self) -> Result<SyncReport> {
        self.push.prepare_wake()?;
        self.sync_now().await
    }

    /// Connections whose sync is running now.
    pub fn syncing_connections(&self) -> Result<Vec<String>> {
        Ok(self.sync.running())
    }

    /// Orders of the signed-in account, newest first.
    pub fn orders(&self, filter: OrderFilter) -> Result<Vec<Order>> {
        Ok(self.inbox.list(&filter)?)
    }

    /// A page of order summaries (what a row of the inbox shows), newest first: `filter.limit`
    /// at a time (100 when 0) from `filter.offset`. The detail screen reads `order(id)`.
    pub fn order_summaries(&self, filter: OrderFilter) -> Result<Vec<OrderSummary>> {
        Ok(self.inbox.summaries(&filter)?)
    }

    /// One order with its items, options, charges, discounts, payments and customer.
    pub fn order(&self, order_id: &str) -> Result<Option<Order>> {
        Ok(self.inbox.get(order_id)?)
    }

    /// Accepts an order; `confirmed_time` is when it will be ready. Written to the outbox
    /// first, then pushed to HubRise.
    pub async fn accept(&self, order_id: &str, confirmed_time: Option<SystemTime>) -> Result<()> {
        self.inbox.accept(order_id, confirmed_time)?;
        self.sync.push_soon();
        Ok(())
    }

    /// Rejects an order (the reason stays on this device: HubRise has no field for it).
    pub async fn reject(&self, order_id: &str, reason: Option<String>) -> Result<()> {
        self.inbox.reject(order_id, reason.as_deref())?;
        self.sync.push_soon();
        Ok(())
    }

    /// Sets another status (in preparation, awaiting collection, completed, ...).
    pub async fn update_status(&self, order_id: &str, status: OrderStatus) -> Result<()> {
        self.inbox.update_status(order_id, status)?;
        self.sync.push_soon();
        Ok(())
    }

    /// Orders received but not yet marked seen, oldest first. They are announced again
    /// (`OrderReceived`) at every open until marked seen.
    pub fn unseen_orders(&self) -> Result<Vec<Order>> {
        Ok(self.inbox.unseen()?)
    }

    /// The host showed these orders to the staff; returns how many were unseen.
    pub fn mark_orders_seen(&self, order_ids: Vec<String>) -> Result<u32> {
        Ok(self.inbox.mark_seen(&order_ids)?)
    }

    /// Whether orders flow, for each active connection, and the worst state among them.
    /// `SyncHealthChanged` announces every change.
    pub fn sync_health(&self) -> Result<SyncHealth> {
        Ok(self.health.snapshot()?)
    }

    /// Events and orders sync set aside after they failed past their budget, newest first.
    pub fn quarantined_items(&self) -> Result<Vec<QuarantinedItem>> {
        Ok(self.health.quarantined_items()?)
    }

    /// Fetches again, now, the order of an item sync set aside (`QuarantinedItem::id`). The
    /// library also retries by itself, with a growing wait, for at least a day. On success the
    /// order is stored and announced (`OrderReceived`) and the item is gone; an error says why
    /// it stays set aside.
    pub async fn retry_quarantined(&self, item_id: i64) -> Result<()> {
        Ok(self.sync.retry_quarantined(item_id).await?)
    }

    /// Changes from the till that could not be pushed within their budget.
    pub fn failed_changes(&self) -> Result<Vec<FailedChange>> {
        Ok(self.health.failed_changes()?)
    }

    /// Sends an order's failed changes again, with a fresh budget; returns how many.
    pub async fn retry_failed_changes(&self, order_id: &str) -> Result<u32> {
        let retried = self.health.retry_failed_changes(order_id)?;
        self.sync.push_soon();
        Ok(retried)
    }

    /// Runs a retention pass now (it also runs by itself shortly after open and then every
    /// `Retention::interval_secs`): prunes what is past its retention and scrubs customers'
    /// personal data past theirs, in small batches (design D24).
    pub async fn apply_retention(&self) -> Result<RetentionReport> {
        Ok(self.retention.run_pass(crate::time::now_ms()).await?)
    }

    /// A retention pass as if the clock read `now`: for benchmarks and tests that simulate
    /// months without waiting for them. Not exported to Swift.
    #[doc(hidden)]
    pub async fn apply_retention_as_of(&self, now: SystemTime) -> Result<RetentionReport> {
        Ok(self.retention.run_pass(crate::time::system_ms(now)).await?)
    }

    /// The host saw the network come back (`NWPathMonitor`): failures are forgotten and every
    /// connection syncs now.
    pub fn network_available(&self) -> Result<()> {
        self.sync.network_available();
        Ok(())
    }

    /// Stops sync (finishing what is in flight), closes the database and releases the data
    /// directory, so a new instance can open it at once. Every later call fails with `Closed`.
    pub async fn close(&self) -> Result<()> {
        self.retention.stop();
        self.sync.enable(false);
        self.sync.stop().await;
        self.store.close();
        Ok(())
    }
}
