//! Host callbacks that call back into the library (issue 28): a listener that reads the order it
//! was told about, a secret store that reads or writes through the library from its `get`,
//! `set` and `delete`, a logger that calls the library or `set_logger` from inside `log`. None
//! may freeze or fail: no lock of the library is held across a call to the host
//! (docs/locks.md). Each scenario runs under a watchdog ([`within`]) that turns a freeze into a
//! failure in seconds. (The logger tests each in their own process: the bridge is the process's
//! one `tracing` subscriber.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use passerelle_core::{
    EventListener, HubriseConnectionOptions, InMemorySecretStore, LogLevel, LogRecord, OrderFilter,
    Passerelle, PasserelleError, PasserelleEvent, PasserelleLogger, SecretStore, SecretStoreError,
    SignOutMode, set_logger,
};
use passerelle_e2e::alone::in_own_process;
use passerelle_e2e::watchdog::{FREEZE_LIMIT, within};
use passerelle_test_support::{EVENT_TIMEOUT, EventRecorder, World, order_received};

// -- What the host callbacks share -----------------------------------------------------------

/// Where a callback finds the instance once `open` has returned it (a callback made during
/// `open` finds nothing, as a host's would).
#[derive(Default)]
struct Slot(OnceLock<Weak<Passerelle>>);

impl Slot {
    fn fill(&self, app: &Arc<Passerelle>) {
        let _ = self.0.set(Arc::downgrade(app));
    }

    fn app(&self) -> Option<Arc<Passerelle>> {
        self.0.get()?.upgrade()
    }
}

/// What went wrong inside callbacks, where a panic would not reach the test.
#[derive(Default)]
struct Failures(Mutex<Vec<String>>);

impl Failures {
    /// Keeps `result`'s error unless it is one the moment allows (`Closed` after `close()`,
    /// `NotSignedIn` before the sign-in is recorded).
    fn check<T>(&self, what: &str, result: Result<T, PasserelleError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(PasserelleError::Closed | PasserelleError::NotSignedIn) => None,
            Err(err) => {
                self.0.lock().unwrap().push(format!("{what}: {err:?}"));
                None
            }
        }
    }

    fn push(&self, failure: String) {
        self.0.lock().unwrap().push(failure);
    }

    fn assert_none(&self) {
        let failures = self.0.lock().unwrap();
        assert!(
            failures.is_empty(),
            "failed inside callbacks: {failures:#?}"
        );
    }
}

/// The synchronous reads a host may make from a callback, each checked.
fn read_everything(app: &Passerelle, failures: &Failures) {
    failures.check("connections", app.connections());
    failures.check("sync_health", app.sync_health());
    failures.check("account", app.account());
    failures.check("settings", app.settings());
    failures.check("pending_changes", app.pending_changes());
    failures.check("restart_required", app.restart_required());
    failures.check("syncing_connections", app.syncing_connections());
    failures.check("backend_status", app.backend_status());
    failures.check("unseen_orders", app.unseen_orders());
    failures.check("quarantined_items", app.quarantined_items());
    failures.check("failed_changes", app.failed_changes());
    if let Some(orders) = failures.check("orders", app.orders(OrderFilter::default()))
        && let Some(order) = orders.first()
    {
        failures.check("order", app.order(&order.id));
    }
}

/// Waits, up to `limit`, until `done` holds.
async fn until(limit: Duration, what: &str, done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// -- The listener ----------------------------------------------------------------------------

/// A listener that, on every event, reads the library: the order it was told about
/// (`order(id)`), which it also marks seen, and everything else a screen shows. An event that
/// comes before `open` returned waits for the instance (the listener thread blocks meanwhile:
/// `open` must not wait for it).
struct ReadingListener {
    slot: Arc<Slot>,
    recorder: Arc<EventRecorder>,
    failures: Failures,
    /// The orders read back from inside `on_event`.
    read_back: Mutex<Vec<String>>,
}

impl ReadingListener {
    fn new(slot: Arc<Slot>) -> Self {
        Self {
            slot,
            recorder: Arc::new(EventRecorder::new()),
            failures: Failures::default(),
            read_back: Mutex::default(),
        }
    }

    fn app(&self) -> Option<Arc<Passerelle>> {
        let started = Instant::now();
        loop {
            if let Some(app) = self.slot.app() {
                return Some(app);
            }
            if self.slot.0.get().is_some() || started.elapsed() > Duration::from_secs(3) {
                // Dropped already, or never opened.
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl EventListener for ReadingListener {
    fn on_event(&self, event: PasserelleEvent) {
        if let Some(app) = self.app() {
            read_everything(&app, &self.failures);
            if let PasserelleEvent::OrderReceived { order }
            | PasserelleEvent::OrderUpdated { order } = &event
            {
                match app.order(&order.id) {
                    Ok(Some(read)) if read.id == order.id => {
                        self.read_back.lock().unwrap().push(order.id.clone());
                    }
                    Err(PasserelleError::Closed) => {}
                    other => self
                        .failures
                        .push(format!("order {} read back as {other:?}", order.id)),
                }
                if matches!(event, PasserelleEvent::OrderReceived { .. }) {
                    self.failures.check(
                        "mark_orders_seen",
                        app.mark_orders_seen(vec![order.id.clone()]),
                    );
                }
            }
        }
        self.recorder.on_event(event);
    }
}

#[test]
fn a_listener_that_reads_the_order_it_was_told_about_neither_freezes_nor_fails() {
    within(
        FREEZE_LIMIT,
        "an order intake with a listener reading the library",
        || async {
            let world = World::start().await;
            let slot = Arc::new(Slot::default());
            let listener = Arc::new(ReadingListener::new(slot.clone()));
            let app = Passerelle::open(world.config(), world.secrets.clone(), listener.clone())
                .await
                .unwrap();
            let app = Arc::new(app);
            slot.fill(&app);
            world.sign_in(&app).await;
            let location = world.location_ids()[0].clone();
            // Events flow while `restart()` applies the connection.
            world.connect_active(&app, &location).await;

            let marie = world.place_order(&location, "Marie").await;
            let paul = world.place_order(&location, "Paul").await;
            let events = listener.recorder.clone();
            for id in [&marie, &paul] {
                events
                    .wait_for(order_received(id), EVENT_TIMEOUT)
                    .await
                    .unwrap();
            }
            app.accept(&marie, None).await.unwrap();
            let mark = events.mark();
            world
                .sandbox
                .admin()
                .update_order_as_other_app(
                    &location,
                    &paul,
                    serde_json::json!({"status": "cancelled"}),
                )
                .await
                .unwrap();
            events
                .wait_for_after(
                    mark,
                    |e| matches!(e, PasserelleEvent::OrderUpdated { order } if order.id == paul),
                    EVENT_TIMEOUT,
                )
                .await
                .unwrap();
            // Events again while a restart stops and starts sync, then while the instance closes.
            app.restart().await.unwrap();
            app.sync_now().await.unwrap();
            app.close().await.unwrap();
            drop(app);

            listener.failures.assert_none();
            let read_back = listener.read_back.lock().unwrap().clone();
            assert!(
                read_back.contains(&marie) && read_back.contains(&paul),
                "{read_back:?}"
            );
            assert_eq!(
                events.count(|e| matches!(e, PasserelleEvent::OrderReceived { .. })),
                2
            );
        },
    );
}

/// Shared between a test and the listener that owns the instance's last reference.
#[derive(Default)]
struct Handover {
    app: Mutex<Option<Arc<Passerelle>>>,
    /// The listener let go of the instance, from its own thread.
    dropped: AtomicBool,
    /// The listener itself was dropped: the event thread ended.
    listener_gone: AtomicBool,
    failures: Failures,
}

/// A listener that holds the only reference to the instance, and drops it, on its own thread,
/// from inside `on_event` of the first order: the facade's drop must not wait for the event
/// thread (it is that thread).
struct OwningListener(Arc<Handover>);

impl EventListener for OwningListener {
    fn on_event(&self, event: PasserelleEvent) {
        let PasserelleEvent::OrderReceived { order } = event else {
            return;
        };
        let app = self.0.app.lock().unwrap().take();
        if let Some(app) = app {
            self.0.failures.check("order", app.order(&order.id));
            drop(app);
            self.0.dropped.store(true, Ordering::SeqCst);
        }
    }
}

impl Drop for OwningListener {
    fn drop(&mut self) {
        self.0.listener_gone.store(true, Ordering::SeqCst);
    }
}

#[test]
fn the_last_reference_dropped_inside_the_listener_closes_the_instance() {
    within(
        FREEZE_LIMIT,
        "the instance dropped on its event thread",
        || async {
            let world = World::start().await;
            let handover = Arc::new(Handover::default());
            let listener = Arc::new(OwningListener(handover.clone()));
            let app = Passerelle::open(world.config(), world.secrets.clone(), listener)
                .await
                .unwrap();
            world.sign_in(&app).await;
            let location = world.location_ids()[0].clone();
            world.connect_active(&app, &location).await;
            let app = Arc::new(app);
            let weak = Arc::downgrade(&app);
            *handover.app.lock().unwrap() = Some(app);

            world.place_order(&location, "Marie").await;
            until(EVENT_TIMEOUT, "the listener drops the instance", || {
                handover.dropped.load(Ordering::SeqCst)
            })
            .await;
            assert!(weak.upgrade().is_none());
            until(EVENT_TIMEOUT, "the event thread ends", || {
                handover.listener_gone.load(Ordering::SeqCst)
            })
            .await;
            handover.failures.assert_none();

            // The data directory was released: a new instance opens it at once.
            let (again, _) = world.open().await;
            assert!(again.account().unwrap().is_some());
            again.close().await.unwrap();
        },
    );
}

// -- The secret store ------------------------------------------------------------------------

/// What a secret store does from inside each of its calls.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Calls {
    /// The reads a screen makes.
    Reads,
    /// Writes that go through the secret store again (a connection attempt started and
    /// abandoned: its PKCE verifier written and deleted), on the callback's thread and on
    /// another it waits for, and settings recorded, waited for from the callback.
    Writes,
}

/// The in-memory store, calling back into the library from every `get`, `set` and `delete`
/// (before doing what was asked).
struct CallingBackStore {
    inner: InMemorySecretStore,
    slot: Arc<Slot>,
    calls: Calls,
    failures: Failures,
    callbacks: AtomicUsize,
    from_index_writes: AtomicUsize,
    calling_back: AtomicBool,
}

/// The library's index of the keys it wrote, in the secret store.
const INDEX_KEY: &str = "passerelle/written_keys";

impl CallingBackStore {
    fn new(slot: Arc<Slot>, calls: Calls) -> Self {
        Self {
            inner: InMemorySecretStore::new(),
            slot,
            calls,
            failures: Failures::default(),
            callbacks: AtomicUsize::new(0),
            from_index_writes: AtomicUsize::new(0),
            calling_back: AtomicBool::new(false),
        }
    }

    fn call_back(&self) {
        let Some(app) = self.slot.app() else {
            return;
        };
        // One callback at a time: the library calls it makes (on this thread or the one it
        // waits for) use the store without calling back again.
        if self.calling_back.swap(true, Ordering::SeqCst) {
            return;
        }
        self.callbacks.fetch_add(1, Ordering::SeqCst);
        match self.calls {
            Calls::Reads => read_everything(&app, &self.failures),
            Calls::Writes => self.write_through(&app),
        }
        self.calling_back.store(false, Ordering::SeqCst);
    }

    fn write_through(&self, app: &Arc<Passerelle>) {
        // On this thread, then on another one the callback waits for (as a Swift store waits
        // for a `Task` calling the library's async methods, which run on the library's threads).
        start_and_abandon_an_attempt(app, &self.failures);
        let other = app.clone();
        let failures = std::thread::spawn(move || {
            let failures = Failures::default();
            start_and_abandon_an_attempt(&other, &failures);
            failures
        })
        .join()
        .unwrap();
        for failure in failures.0.into_inner().unwrap() {
            self.failures.push(failure);
        }
        self.failures
            .check("mark_orders_seen", app.mark_orders_seen(Vec::new()));
        // An async write, waited for from inside the callback (on a thread of its own: the
        // callback may run on the library's runtime).
        let Some(settings) = self.failures.check("settings", app.settings()) else {
            return;
        };
        let app = app.clone();
        let recorded = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(app.update_settings(settings))
        })
        .join()
        .unwrap();
        self.failures.check("update_settings", recorded);
    }
}

/// A connection attempt started and abandoned: its PKCE verifier written to the secret store
/// and deleted, the index of the keys written twice.
fn start_and_abandon_an_attempt(app: &Passerelle, failures: &Failures) {
    let begun = app.begin_hubrise_connection(HubriseConnectionOptions::default());
    if let Some(authorization) = failures.check("begin_hubrise_connection", begun) {
        failures.check(
            "cancel_hubrise_connection",
            app.cancel_hubrise_connection(&authorization.state),
        );
    }
}

/// How many times the store calls back from inside a write of the library's index of keys:
/// each write-through changes the index again, which the library writes again, and a store
/// doing so from every write of it would keep the library writing.
const FROM_INDEX_WRITES: usize = 6;

impl SecretStore for CallingBackStore {
    fn get(&self, key: String) -> Result<Option<String>, SecretStoreError> {
        self.call_back();
        self.inner.get(key)
    }

    fn set(&self, key: String, value: String) -> Result<(), SecretStoreError> {
        if key != INDEX_KEY
            || self.calls == Calls::Reads
            || self.from_index_writes.fetch_add(1, Ordering::SeqCst) < FROM_INDEX_WRITES
        {
            self.call_back();
        }
        self.inner.set(key, value)
    }

    fn delete(&self, key: String) -> Result<(), SecretStoreError> {
        self.call_back();
        self.inner.delete(key)
    }
}

/// Signs in, connects and activates a location, receives an order, checks, disconnects and
/// signs out, then connects again and signs out disconnecting: every path that uses the
/// secret store, with `store` calling back from each call.
async fn every_secret_store_path(store: Arc<CallingBackStore>) {
    let world = World::start().await;
    let slot = store.slot.clone();
    let events = Arc::new(EventRecorder::new());
    let app = Passerelle::open(world.config(), store.clone(), events.clone())
        .await
        .unwrap();
    let app = Arc::new(app);
    slot.fill(&app);
    world.sign_in(&app).await;
    let locations = world.location_ids();
    let connection = world.connect_active(&app, &locations[0]).await;
    let order = world.place_order(&locations[0], "Marie").await;
    events
        .wait_for(order_received(&order), EVENT_TIMEOUT)
        .await
        .unwrap();
    app.check_connection(&connection).await.unwrap();
    app.disconnect(&connection).await.unwrap();
    app.restart().await.unwrap();
    app.sign_out(SignOutMode::KeepConnections).await.unwrap();
    world.sign_in(&app).await;
    world.connect_active(&app, &locations[0]).await;
    app.sign_out(SignOutMode::DisconnectConnections)
        .await
        .unwrap();
    app.close().await.unwrap();

    store.failures.assert_none();
    assert!(
        store.callbacks.load(Ordering::SeqCst) > 10,
        "the store called back"
    );
    assert!(app.order(&order).is_err(), "closed");
}

#[test]
fn a_secret_store_that_reads_the_library_from_its_callbacks_neither_freezes_nor_fails() {
    within(
        FREEZE_LIMIT,
        "a secret store reading the library",
        || async {
            let store = Arc::new(CallingBackStore::new(Arc::default(), Calls::Reads));
            every_secret_store_path(store).await;
        },
    );
}

#[test]
fn a_secret_store_that_writes_through_the_library_from_its_callbacks_neither_freezes_nor_fails() {
    within(
        FREEZE_LIMIT,
        "a secret store writing through the library",
        || async {
            let store = Arc::new(CallingBackStore::new(Arc::default(), Calls::Writes));
            every_secret_store_path(store).await;
        },
    );
}

// -- The logger ------------------------------------------------------------------------------

/// What a logger does from inside `log`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum FromLog {
    /// Installs itself again (`set_logger`), as a host changing its level would.
    SetsTheLogger,
    /// The reads a screen makes, and a write.
    Reads,
    /// Calls the library where it logs itself (a connection attempt started and abandoned).
    CallsCodeThatLogs,
}

thread_local! {
    /// Set while this thread is inside the logger's `log`.
    static IN_LOG: Cell<bool> = const { Cell::new(false) };
}

struct CallingBackLogger {
    me: OnceLock<Weak<CallingBackLogger>>,
    slot: Arc<Slot>,
    from_log: FromLog,
    failures: Failures,
    records: AtomicUsize,
    /// Records handed to `log` from inside `log` on the same thread.
    nested: AtomicUsize,
    /// How many times `log` called the library.
    callbacks: AtomicUsize,
}

impl CallingBackLogger {
    fn install(slot: Arc<Slot>, from_log: FromLog) -> Arc<Self> {
        let logger = Arc::new(Self {
            me: OnceLock::new(),
            slot,
            from_log,
            failures: Failures::default(),
            records: AtomicUsize::new(0),
            nested: AtomicUsize::new(0),
            callbacks: AtomicUsize::new(0),
        });
        let _ = logger.me.set(Arc::downgrade(&logger));
        set_logger(logger.clone(), LogLevel::Trace).unwrap();
        logger
    }
}

impl PasserelleLogger for CallingBackLogger {
    fn log(&self, _record: LogRecord) {
        if IN_LOG.get() {
            self.nested.fetch_add(1, Ordering::SeqCst);
            return;
        }
        IN_LOG.set(true);
        self.records.fetch_add(1, Ordering::SeqCst);
        match self.from_log {
            FromLog::SetsTheLogger => {
                if let Some(me) = self.me.get().and_then(Weak::upgrade) {
                    self.callbacks.fetch_add(1, Ordering::SeqCst);
                    self.failures
                        .check("set_logger", set_logger(me, LogLevel::Trace));
                }
            }
            FromLog::Reads => {
                if let Some(app) = self.slot.app() {
                    self.callbacks.fetch_add(1, Ordering::SeqCst);
                    read_everything(&app, &self.failures);
                    self.failures
                        .check("mark_orders_seen", app.mark_orders_seen(Vec::new()));
                }
            }
            FromLog::CallsCodeThatLogs => {
                if let Some(app) = self.slot.app()
                    && self.callbacks.fetch_add(1, Ordering::SeqCst) < 20
                {
                    let begun = app.begin_hubrise_connection(HubriseConnectionOptions::default());
                    if let Some(authorization) = self.failures.check("begin", begun) {
                        self.failures.check(
                            "cancel",
                            app.cancel_hubrise_connection(&authorization.state),
                        );
                    }
                }
            }
        }
        IN_LOG.set(false);
    }
}

/// Opens, signs in, connects and activates a location, and takes in two orders, one whose
/// amounts and times cannot be read (logged as the order is read back), with `logger`
/// installed.
async fn an_order_intake_with(logger: Arc<CallingBackLogger>) {
    let world = World::start().await;
    let (app, events) = world.open().await;
    let app = Arc::new(app);
    logger.slot.fill(&app);
    world.sign_in(&app).await;
    let location = world.location_ids()[0].clone();
    world.connect_active(&app, &location).await;
    let plain = world.place_order(&location, "Marie").await;
    let odd = world
        .sandbox
        .admin()
        .place_order_with_raw_fields(
            &location,
            passerelle_sandbox::seed::sample_order("Paul"),
            serde_json::json!({"total": "twelve euros", "expected_time": "soon"}),
        )
        .await
        .unwrap();
    for id in [&plain, &odd] {
        events
            .wait_for(order_received(id), EVENT_TIMEOUT)
            .await
            .unwrap();
    }
    app.sync_now().await.unwrap();
    app.close().await.unwrap();
    logger.failures.assert_none();
    assert!(
        logger.records.load(Ordering::SeqCst) > 5,
        "records reached the logger"
    );
    assert!(
        logger.callbacks.load(Ordering::SeqCst) > 0,
        "the logger called back"
    );
}

#[test]
fn a_logger_that_calls_set_logger_from_inside_log_does_not_freeze() {
    if !in_own_process(concat!(
        module_path!(),
        "::a_logger_that_calls_set_logger_from_inside_log_does_not_freeze"
    )) {
        return;
    }
    within(
        FREEZE_LIMIT,
        "a logger calling set_logger from log",
        || async {
            let logger = CallingBackLogger::install(Arc::default(), FromLog::SetsTheLogger);
            an_order_intake_with(logger.clone()).await;
            assert_eq!(logger.nested.load(Ordering::SeqCst), 0);
        },
    );
}

#[test]
fn a_logger_that_reads_the_library_from_inside_log_does_not_freeze() {
    if !in_own_process(concat!(
        module_path!(),
        "::a_logger_that_reads_the_library_from_inside_log_does_not_freeze"
    )) {
        return;
    }
    within(
        FREEZE_LIMIT,
        "a logger reading the library from log",
        || async {
            let logger = CallingBackLogger::install(Arc::default(), FromLog::Reads);
            an_order_intake_with(logger.clone()).await;
            assert_eq!(logger.nested.load(Ordering::SeqCst), 0);
        },
    );
}

#[test]
fn a_logger_that_calls_code_that_logs_is_not_handed_its_own_records() {
    if !in_own_process(concat!(
        module_path!(),
        "::a_logger_that_calls_code_that_logs_is_not_handed_its_own_records"
    )) {
        return;
    }
    within(FREEZE_LIMIT, "a logger calling code that logs", || async {
        let logger = CallingBackLogger::install(Arc::default(), FromLog::CallsCodeThatLogs);
        an_order_intake_with(logger.clone()).await;
        assert_eq!(
            logger.nested.load(Ordering::SeqCst),
            0,
            "a record logged inside the logger was handed back to it on the same thread"
        );
    });
}
