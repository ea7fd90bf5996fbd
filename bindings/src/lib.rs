//! The UniFFI surface of Passerelle: a thin adapter over `passerelle-core`.
//!
//! It only exports: records, enums and errors come from the core (derived behind its `uniffi`
//! feature), and every method here forwards to the core inside a panic guard, so that no panic
//! crosses into Swift (where it would crash the till) and every export throws a typed error.

use std::future::Future;
use std::sync::{Arc, OnceLock};

use std::time::SystemTime;

use passerelle_core::{
    BackendStatus, ConfigChange, DisconnectOutcome, ErasureReport, ErasureScope, EventListener,
    FailedChange, HubriseAuthorization, HubriseConnection, HubriseConnectionOptions, LogLevel,
    OpenUrlOutcome, Order, OrderFilter, OrderStatus, OrderSummary, PasserelleConfig,
    PasserelleError, PasserelleLogger, PosAccount, QuarantinedItem, RetentionReport, SecretStore,
    Settings, SignOutMode, SignOutOutcome, SyncHealth, SyncReport, WebUrl,
};

mod guard;

use guard::{guard, guard_async};

uniffi::setup_scaffolding!("passerelle");

type Result<T> = std::result::Result<T, PasserelleError>;

/// One Passerelle instance over a data directory. Hold one per app.
#[derive(uniffi::Object)]
pub struct Passerelle {
    core: Arc<passerelle_core::Passerelle>,
}

/// Where the work of an export runs: never on the caller's thread (decision 25). UniFFI polls
/// a Rust future on the thread that awaits it, a Swift cooperative thread, so SQLite, the secret
/// store and the HTTP exchanges run on the library's runtime instead, and the caller only waits.
impl Passerelle {
    /// Runs `work` (SQLite, the secret store) on the runtime's blocking pool.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&passerelle_core::Passerelle) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let core = self.core.clone();
        joined(
            runtime()?
                .spawn_blocking(move || guard(|| work(&core)))
                .await,
        )
    }

    /// Runs `work` as a task of the runtime.
    async fn task<T, Fut>(
        &self,
        work: impl FnOnce(Arc<passerelle_core::Passerelle>) -> Fut,
    ) -> Result<T>
    where
        T: Send + 'static,
        Fut: Future<Output = Result<T>> + Send + 'static,
    {
        spawned(work(self.core.clone())).await
    }

    /// As `task`, and `cancellation` stops the work: the task is aborted at its next await
    /// (an HTTP exchange dropped, no transaction left half done: each is synchronous).
    async fn cancellable<T, Fut>(
        &self,
        cancellation: Arc<Cancellation>,
        work: impl FnOnce(Arc<passerelle_core::Passerelle>) -> Fut,
    ) -> Result<T>
    where
        T: Send + 'static,
        Fut: Future<Output = Result<T>> + Send + 'static,
    {
        until_cancelled(
            &cancellation,
            runtime()?.spawn(guard_async(work(self.core.clone()))),
        )
        .await
    }
}

/// The library's own runtime, multi-threaded: one call blocked on a slow disk or Keychain never
/// holds up another location's sync or a timer (design D28). UniFFI's `async_runtime = "tokio"`
/// only lends the awaiting future a context, async-compat's single-threaded runtime; the work
/// itself runs here.
fn runtime() -> Result<&'static tokio::runtime::Runtime> {
    static RUNTIME: OnceLock<std::io::Result<tokio::runtime::Runtime>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .thread_name("passerelle")
                .build()
        })
        .as_ref()
        .map_err(|err| PasserelleError::Internal {
            reason: format!("the library's runtime did not start: {err}"),
        })
}

/// Runs `work` as a task of the library's runtime; the caller only waits for it.
async fn spawned<T: Send + 'static>(
    work: impl Future<Output = Result<T>> + Send + 'static,
) -> Result<T> {
    joined(runtime()?.spawn(guard_async(work)).await)
}

/// The task's result, or `Cancelled` (the task aborted) when `cancellation` fires first.
async fn until_cancelled<T>(
    cancellation: &Cancellation,
    mut task: tokio::task::JoinHandle<Result<T>>,
) -> Result<T> {
    tokio::select! {
        done = &mut task => joined(done),
        () = cancellation.cancelled() => {
            task.abort();
            Err(PasserelleError::Cancelled)
        }
    }
}

/// A finished task's result; a task that ended without one (aborted) is an internal error.
fn joined<T>(done: std::result::Result<Result<T>, tokio::task::JoinError>) -> Result<T> {
    done.unwrap_or_else(|err| {
        Err(PasserelleError::Internal {
            reason: format!("library task ended: {err}"),
        })
    })
}

/// Cancels a long call (sign-in, completing a connection, sync): pass one to the call, and call
/// `cancel()` when the caller gives up (Swift: from `withTaskCancellationHandler`, which the
/// package's `async` methods do for you). The call then fails with `PasserelleError.Cancelled`.
#[derive(uniffi::Object, Default)]
pub struct Cancellation {
    cancelled: std::sync::atomic::AtomicBool,
    notify: tokio::sync::Notify,
}

#[uniffi::export]
impl Cancellation {
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    /// Stops the call this was given to; calling it again, or after the call ended, does nothing.
    pub fn cancel(&self) {
        self.cancelled
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    /// Whether `cancel()` was called.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Cancellation {
    async fn cancelled(&self) {
        loop {
            // Registered before the flag is read, so a `cancel()` in between still wakes us.
            let notified = self.notify.notified();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }
}

/// The calls that stop sync before their network exchange (restart, disconnect, sign-out).
impl Passerelle {
    /// As `cancellable`, and once a cancelled task is aborted (awaited, so nothing of it still
    /// runs), the sync it stopped starts again: a cancelled restart or disconnection never leaves
    /// a location without orders. A task that finished before the abort gives its result.
    async fn restoring<T, Fut>(
        &self,
        cancellation: Arc<Cancellation>,
        work: impl FnOnce(Arc<passerelle_core::Passerelle>) -> Fut,
    ) -> Result<T>
    where
        T: Send + 'static,
        Fut: Future<Output = Result<T>> + Send + 'static,
    {
        let mut task = runtime()?.spawn(guard_async(work(self.core.clone())));
        tokio::select! {
            done = &mut task => joined(done),
            () = cancellation.cancelled() => {
                task.abort();
                match task.await {
                    Ok(finished) => finished,
                    Err(_aborted) => {
                        let core = self.core.clone();
                        spawned(async move { core.resume_sync() }).await?;
                        Err(PasserelleError::Cancelled)
                    }
                }
            }
        }
    }
}

/// How many decimals `currency`'s minor unit has (ISO 4217): 0 for JPY, 3 for KWD, 2 for most
/// (and for a code ISO 4217 does not list). `Money.exponent` carries it already.
#[uniffi::export]
pub fn currency_exponent(currency: String) -> u8 {
    passerelle_core::currency_exponent(&currency)
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
        let core = spawned(passerelle_core::Passerelle::open(config, secrets, events)).await?;
        Ok(Arc::new(Self {
            core: Arc::new(core),
        }))
    }

    /// The signed-in POS account, if any.
    pub async fn account(&self) -> Result<Option<PosAccount>> {
        self.blocking(|core| core.account()).await
    }

    /// Signs in with the POS account's e-mail and password. The password is never stored.
    pub async fn sign_in(
        &self,
        email: String,
        password: String,
        cancellation: Arc<Cancellation>,
    ) -> Result<PosAccount> {
        self.cancellable(cancellation, move |core| async move {
            core.sign_in(&email, &password).await
        })
        .await
    }

    /// Adopts the POS session of a host app that is already signed in.
    pub async fn sign_in_with_pos_session(
        &self,
        access_token: String,
        cancellation: Arc<Cancellation>,
    ) -> Result<PosAccount> {
        self.cancellable(cancellation, move |core| async move {
            core.sign_in_with_pos_session(&access_token).await
        })
        .await
    }

    /// Signs out: the POS session leaves the secret store; `mode` keeps the account's HubRise
    /// connections for its return or disconnects and revokes them.
    /// Cancellable while it disconnects (`DisconnectConnections`): the connections already
    /// revoked stay so, sync resumes for the others.
    pub async fn sign_out(
        &self,
        mode: SignOutMode,
        cancellation: Arc<Cancellation>,
    ) -> Result<SignOutOutcome> {
        self.restoring(cancellation, move |core| async move {
            core.sign_out(mode).await
        })
        .await
    }

    /// Erases an account's data from the device (orders, customers, connections, secrets).
    pub async fn erase_account_data(&self, scope: ErasureScope) -> Result<ErasureReport> {
        self.task(move |core| async move { core.erase_account_data(scope).await })
            .await
    }

    /// Starts connecting a HubRise location; open `authorize_url` in ASWebAuthenticationSession.
    pub async fn begin_hubrise_connection(
        &self,
        options: HubriseConnectionOptions,
    ) -> Result<HubriseAuthorization> {
        self.blocking(move |core| core.begin_hubrise_connection(options))
            .await
    }

    /// Completes a connection from the callback URL; it waits for a restart to go active.
    pub async fn complete_hubrise_connection(
        &self,
        callback_url: WebUrl,
        cancellation: Arc<Cancellation>,
    ) -> Result<HubriseConnection> {
        self.cancellable(cancellation, move |core| async move {
            core.complete_hubrise_connection(&callback_url).await
        })
        .await
    }

    /// Completes an out-of-band attempt with the code pasted from HubRise's page.
    pub async fn complete_hubrise_connection_with_code(
        &self,
        code: String,
        state: String,
        cancellation: Arc<Cancellation>,
    ) -> Result<HubriseConnection> {
        self.cancellable(cancellation, move |core| async move {
            core.complete_hubrise_connection_with_code(&code, &state)
                .await
        })
        .await
    }

    /// Starts connecting a HubRise location with the POS backend's https redirect: open the
    /// URL with `ASWebAuthenticationSession(url:callback: .https(host:path:))` (iOS 17.4+) using
    /// `callbackHttpsHost`/`callbackHttpsPath`, or show it as a QR code for a phone.
    pub async fn begin_hubrise_connection_via_pos_backend(
        &self,
        options: HubriseConnectionOptions,
    ) -> Result<HubriseAuthorization> {
        self.task(move |core| async move {
            core.begin_hubrise_connection_via_pos_backend(options).await
        })
        .await
    }

    /// Asks the POS backend for HubRise's answer to such an attempt: `nil` while the restaurant
    /// is still on HubRise's page, else the connection (pending until a restart).
    pub async fn complete_hubrise_connection_via_pos_backend(
        &self,
        state: String,
        cancellation: Arc<Cancellation>,
    ) -> Result<Option<HubriseConnection>> {
        self.cancellable(cancellation, move |core| async move {
            core.complete_hubrise_connection_via_pos_backend(&state)
                .await
        })
        .await
    }

    /// Abandons a connection attempt (the user closed the browser).
    pub async fn cancel_hubrise_connection(&self, state: String) -> Result<()> {
        self.blocking(move |core| core.cancel_hubrise_connection(&state))
            .await
    }

    /// Routes a URL the app was opened with: its OAuth redirect, or HubRise's Open URL.
    pub async fn handle_open_url(
        &self,
        url: WebUrl,
        cancellation: Arc<Cancellation>,
    ) -> Result<OpenUrlOutcome> {
        self.cancellable(cancellation, move |core| async move {
            core.handle_open_url(&url).await
        })
        .await
    }

    /// Live check of a connection at HubRise; refreshes its names or records a refusal.
    pub async fn check_connection(
        &self,
        connection_id: String,
        cancellation: Arc<Cancellation>,
    ) -> Result<HubriseConnection> {
        self.cancellable(cancellation, move |core| async move {
            core.check_connection(&connection_id).await
        })
        .await
    }

    /// Disconnects a connection now; it leaves the list at the next restart.
    /// Cancelled, the connection stays as it was (its token kept) and its sync resumes.
    pub async fn disconnect(
        &self,
        connection_id: String,
        cancellation: Arc<Cancellation>,
    ) -> Result<DisconnectOutcome> {
        self.task(move |core| async move {
            core.disconnect_unless(
                &connection_id,
                async move { cancellation.cancelled().await },
            )
            .await?
            .ok_or(PasserelleError::Cancelled)
        })
        .await
    }

    /// The current account's HubRise connections.
    pub async fn connections(&self) -> Result<Vec<HubriseConnection>> {
        self.blocking(|core| core.connections()).await
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
    pub async fn pending_changes(&self) -> Result<Vec<ConfigChange>> {
        self.blocking(|core| core.pending_changes()).await
    }

    /// Whether `restart()` would apply something now.
    pub async fn restart_required(&self) -> Result<bool> {
        self.blocking(|core| core.restart_required()).await
    }

    /// Records new settings, applied at the next restart (or at once in immediate mode).
    pub async fn update_settings(&self, settings: Settings) -> Result<()> {
        self.task(move |core| async move { core.update_settings(settings).await })
            .await
    }

    /// Applies the pending configuration without the app being killed: stops sync, applies,
    /// starts sync again.
    /// Cancelled, nothing is applied and sync starts again.
    pub async fn restart(&self, cancellation: Arc<Cancellation>) -> Result<()> {
        self.restoring(
            cancellation,
            move |core| async move { core.restart().await },
        )
        .await
    }

    /// Whether the POS backend answered at the last open, restart or `sync_now`.
    pub fn backend_status(&self) -> Result<BackendStatus> {
        guard(|| self.core.backend_status())
    }

    /// Confirms a connection made off the device (the POS back office or HubRise's): its token
    /// is fetched from the POS backend and it goes active at once.
    pub async fn confirm_connection(
        &self,
        connection_id: String,
        cancellation: Arc<Cancellation>,
    ) -> Result<HubriseConnection> {
        self.cancellable(cancellation, move |core| async move {
            core.confirm_connection(&connection_id).await
        })
        .await
    }

    /// Refuses a connection made off the device: revoked through the backend, never active.
    pub async fn refuse_connection(
        &self,
        connection_id: String,
        cancellation: Arc<Cancellation>,
    ) -> Result<HubriseConnection> {
        self.cancellable(cancellation, move |core| async move {
            core.refuse_connection(&connection_id).await
        })
        .await
    }

    /// Syncs every active connection now (app foregrounded, network back).
    pub async fn sync_now(&self, cancellation: Arc<Cancellation>) -> Result<SyncReport> {
        self.cancellable(
            cancellation,
            move |core| async move { core.sync_now().await },
        )
        .await
    }

    /// Registers the device's push token (the `Data` of
    /// `didRegisterForRemoteNotificationsWithDeviceToken`) with the POS backend, which wakes the
    /// app in the background when an order arrives: `true` when the backend keeps it, `false`
    /// when it has no such route (no error). Call it at each launch once signed in.
    pub async fn register_push_token(
        &self,
        token: Vec<u8>,
        cancellation: Arc<Cancellation>,
    ) -> Result<bool> {
        self.cancellable(cancellation, move |core| async move {
            core.register_push_token(token).await
        })
        .await
    }

    /// The app was woken by the POS backend's background notification: one cycle of every
    /// connection, catching up on what arrived since the last one. What it brought decides the
    /// fetch completion handler's result (`.newData` when anything arrived or changed).
    pub async fn handle_push_notification(
        &self,
        cancellation: Arc<Cancellation>,
    ) -> Result<SyncReport> {
        self.cancellable(cancellation, move |core| async move {
            core.handle_push_notification().await
        })
        .await
    }

    /// Waits (at most 5 s) until the event listener has been handed every event emitted so far:
    /// after `open`, the events it announced. `false` when the listener took longer. The Swift
    /// package's `openProtected` calls it, so every subscription made after it can replay them.
    pub async fn events_delivered(&self) -> Result<bool> {
        self.task(|core| async move {
            Ok(core
                .events_delivered(std::time::Duration::from_secs(5))
                .await)
        })
        .await
    }

    /// Starts the sync engine (it starts by itself when the instance opens).
    pub async fn start_sync(&self) -> Result<()> {
        self.blocking(|core| core.start_sync()).await
    }

    /// Stops the sync engine until `start_sync` or `restart`.
    pub async fn stop_sync(&self) -> Result<()> {
        self.task(move |core| async move { core.stop_sync().await })
            .await
    }

    /// The app went to the background: sync pauses (iOS would not run its timer) and the POS
    /// backend's event stream closes at once (the backend may then wake the app by a
    /// notification: `handle_push_notification`).
    pub fn app_did_enter_background(&self) -> Result<()> {
        guard(|| self.core.app_did_enter_background())
    }

    /// The app is in the foreground again: sync resumes at once and the event stream opens again.
    pub fn app_will_enter_foreground(&self) -> Result<()> {
        guard(|| self.core.app_will_enter_foreground())
    }

    /// Orders of the signed-in account, newest first.
    pub async fn orders(&self, filter: OrderFilter) -> Result<Vec<Order>> {
        self.blocking(move |core| core.orders(filter)).await
    }

    /// A page of order summaries, what a row of the inbox shows (newest first, `filter.limit`
    /// at a time from `filter.offset`); the detail screen reads `order(order_id)`.
    pub async fn order_summaries(&self, filter: OrderFilter) -> Result<Vec<OrderSummary>> {
        self.blocking(move |core| core.order_summaries(filter))
            .await
    }

    /// One order with its items, options, charges, discounts, payments and customer.
    pub async fn order(&self, order_id: String) -> Result<Option<Order>> {
        self.blocking(move |core| core.order(&order_id)).await
    }

    /// Accepts an order; `confirmed_time` is when it will be ready.
    pub async fn accept(&self, order_id: String, confirmed_time: Option<SystemTime>) -> Result<()> {
        self.task(move |core| async move { core.accept(&order_id, confirmed_time).await })
            .await
    }

    /// Rejects an order; the reason stays on the device (HubRise has no field for it).
    pub async fn reject(&self, order_id: String, reason: Option<String>) -> Result<()> {
        self.task(move |core| async move { core.reject(&order_id, reason).await })
            .await
    }

    /// Sets another status (in preparation, awaiting collection, completed, ...).
    pub async fn update_status(&self, order_id: String, status: OrderStatus) -> Result<()> {
        self.task(move |core| async move { core.update_status(&order_id, status).await })
            .await
    }

    /// Orders received but not yet marked seen, oldest first; announced again at every open.
    pub async fn unseen_orders(&self) -> Result<Vec<Order>> {
        self.blocking(|core| core.unseen_orders()).await
    }

    /// The staff saw these orders; returns how many were unseen.
    pub async fn mark_orders_seen(&self, order_ids: Vec<String>) -> Result<u32> {
        self.blocking(move |core| core.mark_orders_seen(order_ids))
            .await
    }

    /// Whether orders flow, for each active connection (`SyncHealthChanged` announces changes).
    pub async fn sync_health(&self) -> Result<SyncHealth> {
        self.blocking(|core| core.sync_health()).await
    }

    /// Events and orders set aside after failing past their budget, newest first.
    pub async fn quarantined_items(&self) -> Result<Vec<QuarantinedItem>> {
        self.blocking(|core| core.quarantined_items()).await
    }

    /// Fetches again, now, the order of an item set aside (`QuarantinedItem::id`); the library
    /// also retries by itself for at least a day. On success the order is stored and announced
    /// and the item is gone; an error says why it stays set aside.
    pub async fn retry_quarantined(&self, item_id: i64) -> Result<()> {
        self.task(move |core| async move { core.retry_quarantined(item_id).await })
            .await
    }

    /// Changes from the till that could not be pushed within their budget.
    pub async fn failed_changes(&self) -> Result<Vec<FailedChange>> {
        self.blocking(|core| core.failed_changes()).await
    }

    /// Sends an order's failed changes again with a fresh budget; returns how many.
    pub async fn retry_failed_changes(&self, order_id: String) -> Result<u32> {
        self.task(move |core| async move { core.retry_failed_changes(&order_id).await })
            .await
    }

    /// Runs a retention pass now (it also runs by itself shortly after open and every
    /// `Retention.intervalSecs`): prunes finished orders and old records, scrubs customers'
    /// personal data past its delay, in small batches.
    pub async fn apply_retention(&self) -> Result<RetentionReport> {
        self.task(move |core| async move { core.apply_retention().await })
            .await
    }

    /// The network is back (wire `NWPathMonitor` to it): every connection syncs now.
    pub fn network_available(&self) -> Result<()> {
        guard(|| self.core.network_available())
    }

    /// Stops sync, closes the database and releases the data directory; later calls throw
    /// `PasserelleError.Closed`.
    pub async fn close(&self) -> Result<()> {
        self.task(move |core| async move { core.close().await })
            .await
    }
}

/// Routes Passerelle's logs at `level` and above to the host's `logger` (for `os_log`), redacted.
/// Call it again to change the logger or the level.
#[uniffi::export]
pub fn set_logger(logger: Arc<dyn PasserelleLogger>, level: LogLevel) -> Result<()> {
    guard(|| passerelle_core::set_logger(logger, level))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use super::*;

    /// Sets its flag when dropped: the task holding it was stopped.
    struct Dropped(Arc<AtomicBool>);

    impl Drop for Dropped {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[tokio::test]
    async fn cancelling_stops_the_work_and_fails_with_cancelled() {
        let stopped = Arc::new(AtomicBool::new(false));
        let guard = Dropped(stopped.clone());
        let task = tokio::spawn(async move {
            let _held = guard;
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(())
        });
        let cancellation = Cancellation::new();
        let canceller = cancellation.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            canceller.cancel();
        });

        let result = until_cancelled(&cancellation, task).await;

        assert_eq!(result, Err(PasserelleError::Cancelled));
        tokio::task::yield_now().await;
        for _ in 0..100 {
            if stopped.load(Ordering::SeqCst) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(stopped.load(Ordering::SeqCst), "the task was aborted");
    }

    /// A secret store that records the threads it is called on.
    #[derive(Default)]
    struct ThreadRecordingStore {
        inner: passerelle_core::InMemorySecretStore,
        threads: std::sync::Mutex<Vec<std::thread::ThreadId>>,
    }

    impl SecretStore for ThreadRecordingStore {
        fn get(
            &self,
            key: String,
        ) -> std::result::Result<Option<String>, passerelle_core::SecretStoreError> {
            self.record();
            self.inner.get(key)
        }
        fn set(
            &self,
            key: String,
            value: String,
        ) -> std::result::Result<(), passerelle_core::SecretStoreError> {
            self.record();
            self.inner.set(key, value)
        }
        fn delete(
            &self,
            key: String,
        ) -> std::result::Result<(), passerelle_core::SecretStoreError> {
            self.record();
            self.inner.delete(key)
        }
    }

    impl ThreadRecordingStore {
        fn record(&self) {
            self.threads
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(std::thread::current().id());
        }
    }

    struct Silent;
    impl EventListener for Silent {
        fn on_event(&self, _event: passerelle_core::PasserelleEvent) {}
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_secret_store_and_sqlite_are_never_used_on_the_callers_thread() {
        let dir =
            std::env::temp_dir().join(format!("passerelle-ffi-threads-{}", std::process::id()));
        let closed = "http://127.0.0.1:9";
        let config = PasserelleConfig::new(
            dir.display().to_string(),
            closed.to_owned(),
            "client".to_owned(),
            "passerelle-demo://oauth/hubrise",
        );
        let store = Arc::new(ThreadRecordingStore::default());
        let caller = std::thread::current().id();

        let app = Passerelle::open(config, store.clone(), Arc::new(Silent)).await;
        let app = app.unwrap_or_else(|err| panic!("open: {err}"));
        let account = app.account().await;

        assert_eq!(account, Ok(None));
        let threads = store
            .threads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        assert!(!threads.is_empty(), "open reads the device's identity");
        assert!(
            threads.iter().all(|t| *t != caller),
            "a secret-store call ran on the caller's thread"
        );
        let _ = app.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }

    /// UniFFI awaits an export on async-compat's runtime, a single thread: the work must not
    /// run there, where one blocked call would hold up every location.
    #[tokio::test(flavor = "current_thread")]
    async fn the_work_of_an_export_runs_on_a_multi_threaded_runtime() {
        let flavor = spawned(async { Ok(tokio::runtime::Handle::current().runtime_flavor()) });
        assert_eq!(flavor.await, Ok(tokio::runtime::RuntimeFlavor::MultiThread));
    }

    #[tokio::test]
    async fn a_cancel_before_the_call_still_counts_and_a_finished_call_is_kept() {
        let early = Cancellation::new();
        early.cancel();
        let never = tokio::spawn(async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(1)
        });
        assert_eq!(
            until_cancelled(&early, never).await,
            Err(PasserelleError::Cancelled)
        );
        let fresh = Cancellation::new();
        let done = tokio::spawn(async { Ok(7) });
        assert_eq!(until_cancelled(&fresh, done).await, Ok(7));
    }
}
