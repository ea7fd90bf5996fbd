//! Issue 14: every order reaches the till, or the till says why. One test per behaviour, against
//! the sandbox: a poisoned order quarantined while the queue moves on, a failing change that
//! holds back no other order, health through a network cut and a capped `Retry-After`, prompt
//! recovery on the host's hint, a change pushed without polling events sooner, a data directory
//! held by one instance at a time, orders announced until seen, a worker that survives a failing
//! secret store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use passerelle_core::{
    DelayReason, InMemorySecretStore, OrderFilter, Passerelle, PasserelleError, PasserelleEvent,
    SecretStore, SecretStoreError, SyncState,
};
use passerelle_sandbox::{Fault, FaultKind, ServerKind};
use passerelle_test_support::{
    EVENT_TIMEOUT, EventRecorder, World, health_shows, order_received, wait_until,
};

/// Long enough for a budget of a few attempts at the tests' one-second poll interval.
const BUDGET_TIMEOUT: Duration = Duration::from_secs(60);

/// A signed-in till with the first location connected and synced once (shared with outage.rs).
pub(crate) async fn connected() -> (World, Passerelle, Arc<EventRecorder>, String) {
    let world = World::start().await;
    let (app, events) = world.open_signed_in().await;
    let location = world.location_ids()[0].clone();
    world.connect_active(&app, &location).await;
    app.sync_now().await.unwrap();
    (world, app, events, location)
}

/// Like [`connected`], at the production poll interval (30 s), without the first sync.
async fn connected_at_a_30_s_poll() -> (World, Passerelle, Arc<EventRecorder>, String) {
    let world = World::start().await;
    let mut config = world.config();
    config.initial_settings.poll_interval_secs = 30;
    let (app, events) = world.open_with(config).await;
    world.sign_in(&app).await;
    let location = world.location_ids()[0].clone();
    world.connect_active(&app, &location).await;
    (world, app, events, location)
}

fn persistent(path: &str, kind: FaultKind) -> Fault {
    Fault {
        path_prefix: path.into(),
        server: Some(ServerKind::Api),
        method: None,
        times: None,
        kind,
    }
}

async fn received(events: &EventRecorder, order_id: &str) {
    if let Err(missing) = events
        .wait_for(order_received(order_id), EVENT_TIMEOUT)
        .await
    {
        panic!("order {order_id} never arrived: {missing}");
    }
}

#[tokio::test]
async fn an_order_whose_fetch_keeps_failing_is_quarantined_and_the_queue_moves_on() {
    let (world, app, events, location) = connected().await;
    let admin = world.sandbox.admin();
    let poisoned = world.place_order(&location, "Poison").await;
    // HubRise's answer about this order alone (a 5xx would be an outage: see outage.rs).
    admin
        .inject_fault(persistent(
            &format!("/v1/location/orders/{poisoned}"),
            FaultKind::Status { status: 422 },
        ))
        .await;
    let healthy = world.place_order(&location, "Marie").await;

    received(&events, &healthy).await;
    let quarantined = events
        .wait_for(
            |e| matches!(e, PasserelleEvent::ItemQuarantined { item } if item.order_id.as_deref() == Some(poisoned.as_str())),
            BUDGET_TIMEOUT,
        )
        .await;
    assert!(
        quarantined.is_ok(),
        "the poisoned event was never set aside"
    );

    let items = app.quarantined_items().unwrap();
    assert_eq!(items.len(), 1, "{items:?}");
    assert!(items[0].is_event && items[0].attempts >= 5, "{items:?}");
    let health = app.sync_health().unwrap();
    assert!(health.needs_attention && health.connections[0].quarantined == 1);
    // The event is gone from HubRise's queue: a later order still flows.
    let later = world.place_order(&location, "Paul").await;
    received(&events, &later).await;
    assert!(
        app.order(&poisoned).unwrap().is_none(),
        "never stored: it could not be read"
    );
}

#[tokio::test]
async fn a_change_that_keeps_failing_holds_back_no_other_order_and_can_be_retried() {
    let (world, app, events, location) = connected().await;
    let admin = world.sandbox.admin();
    let stuck = world.place_order(&location, "Stuck").await;
    let other = world.place_order(&location, "Other").await;
    received(&events, &stuck).await;
    received(&events, &other).await;
    // Both are marked `received` at HubRise before the PATCHes start failing.
    let marked = wait_until(BUDGET_TIMEOUT, || async {
        world.hubrise_status(&location, &stuck).await == "received"
            && world.hubrise_status(&location, &other).await == "received"
    })
    .await;
    assert!(marked);
    let patch_fault = persistent(
        &format!("/v1/location/orders/{stuck}"),
        FaultKind::Status { status: 503 },
    )
    .for_method("PATCH");
    admin.inject_fault(patch_fault).await;

    app.accept(&stuck, None).await.unwrap();
    app.accept(&other, None).await.unwrap();
    let failed = events
        .wait_for(
            |e| matches!(e, PasserelleEvent::ChangeFailed { change } if change.order_id == stuck),
            BUDGET_TIMEOUT,
        )
        .await;
    assert!(failed.is_ok(), "the failing change was never reported");
    assert_eq!(
        world.hubrise_status(&location, &other).await,
        "accepted",
        "the other order's change went through meanwhile"
    );
    assert_ne!(world.hubrise_status(&location, &stuck).await, "accepted");
    let changes = app.failed_changes().unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].status.as_deref(), Some("accepted"));
    assert_eq!(app.sync_health().unwrap().connections[0].failed_changes, 1);

    admin.clear_faults().await;
    assert_eq!(app.retry_failed_changes(&stuck).await.unwrap(), 1);
    let pushed = wait_until(BUDGET_TIMEOUT, || async {
        world.hubrise_status(&location, &stuck).await == "accepted"
    })
    .await;
    assert!(pushed, "the retried change never reached HubRise");
    assert!(app.failed_changes().unwrap().is_empty());
}

#[tokio::test]
async fn a_network_cut_reads_delayed_offline_and_the_hint_recovers_at_once() {
    let (world, app, events, location) = connected().await;
    let admin = world.sandbox.admin();
    admin.cut_network().await;
    let delayed = events
        .wait_for(
            |e| matches!(e, PasserelleEvent::SyncHealthChanged { health } if health.state == SyncState::Delayed),
            EVENT_TIMEOUT,
        )
        .await;
    assert!(delayed.is_ok(), "the cut never showed in the health state");
    let connection = app.sync_health().unwrap().connections.remove(0);
    assert_eq!(connection.delay_reason, Some(DelayReason::Offline));
    assert!(connection.delayed_since.is_some());
    let next = connection.next_attempt_at.unwrap();
    let poll = Duration::from_secs(u64::from(app.settings().unwrap().poll_interval_secs));
    assert!(
        next <= SystemTime::now() + poll,
        "a network that is down is retried within one poll interval"
    );

    admin.restore_network().await;
    let order = world.place_order(&location, "Marie").await;
    app.network_available().unwrap();
    received(&events, &order).await;
    let flowing = events
        .wait_for(
            |e| matches!(e, PasserelleEvent::SyncHealthChanged { health } if health.state == SyncState::Flowing),
            EVENT_TIMEOUT,
        )
        .await;
    assert!(
        flowing.is_ok(),
        "the health state never said orders flow again"
    );
}

/// At the production poll interval (30 s), the backoff after a long cut waits up to the interval:
/// only the host's hint brings an order placed once the network is back within seconds.
#[tokio::test]
async fn at_a_30_s_poll_only_the_host_s_hint_ends_a_cut_within_seconds() {
    let (world, app, events, location) = connected_at_a_30_s_poll().await;
    app.sync_now().await.unwrap();
    let admin = world.sandbox.admin();
    admin.cut_network().await;
    app.network_available().unwrap();
    let offline = health_shows(&app, Some(DelayReason::Offline), EVENT_TIMEOUT).await;
    assert!(offline, "the cut never showed: {:?}", app.sync_health());
    // Long enough for the backoff to grow past a few seconds (1, 2, 4, 8, 16 s ceilings).
    tokio::time::sleep(Duration::from_secs(20)).await;

    admin.restore_network().await;
    let order = world.place_order(&location, "After the cut").await;
    let hinted = Instant::now();
    app.network_available().unwrap();
    events
        .wait_for(order_received(&order), Duration::from_secs(5))
        .await
        .unwrap_or_else(|e| {
            panic!(
                "the hint did not end the wait ({e:?}): {:?}",
                app.sync_health()
            )
        });
    assert!(
        hinted.elapsed() < Duration::from_secs(5),
        "{:?}",
        hinted.elapsed()
    );
}

#[tokio::test]
async fn a_retry_after_of_two_hours_is_waited_one_hour_and_the_health_says_so() {
    let (world, app, events, _) = connected().await;
    world
        .sandbox
        .admin()
        .inject_fault(Fault::too_many_requests(
            "/v1/callback/events",
            1,
            Some(7_200),
        ))
        .await;
    app.network_available().unwrap();
    let limited = events
        .wait_for(
            |e| matches!(e, PasserelleEvent::SyncHealthChanged { health } if health.connections.iter().any(|c| c.retry_after_capped)),
            EVENT_TIMEOUT,
        )
        .await;
    assert!(limited.is_ok(), "the capped wait never showed");
    let connection = app.sync_health().unwrap().connections.remove(0);
    assert_eq!(connection.delay_reason, Some(DelayReason::RateLimited));
    let wait = connection
        .next_attempt_at
        .unwrap()
        .duration_since(SystemTime::now())
        .unwrap();
    assert!(
        wait > Duration::from_secs(3_000) && wait <= Duration::from_secs(3_600),
        "{wait:?}"
    );
}

#[tokio::test]
async fn an_accept_is_pushed_at_once_without_polling_events_sooner() {
    let (world, app, events, location) = connected_at_a_30_s_poll().await;
    let order = world.place_order(&location, "Marie").await;
    app.sync_now().await.unwrap();
    received(&events, &order).await;
    let admin = world.sandbox.admin();
    // The worker's first cycle (at start) may run after `sync_now`: let it pass first.
    let first_cycles = wait_until(BUDGET_TIMEOUT, || async {
        admin.count_requests("GET", "/v1/callback/events").await >= 2
    })
    .await;
    assert!(first_cycles);
    admin.reset_requests().await;

    app.accept(&order, None).await.unwrap();
    let pushed = wait_until(BUDGET_TIMEOUT, || async {
        world.hubrise_status(&location, &order).await == "accepted"
    })
    .await;
    assert!(pushed, "the accept waited for the next poll");
    assert_eq!(
        admin.count_requests("GET", "/v1/callback/events").await,
        0,
        "events are not polled sooner than the interval for a change"
    );
}

#[tokio::test]
async fn a_data_directory_is_held_by_one_instance_until_closed() {
    let world = World::start().await;
    let (app, _events) = world.open().await;
    let second = Passerelle::open(
        world.config(),
        world.secrets.clone(),
        Arc::new(EventRecorder::new()),
    )
    .await;
    assert!(
        matches!(second, Err(PasserelleError::DataDirectoryInUse { .. })),
        "{second:?}"
    );

    app.close().await.unwrap();
    assert_eq!(app.account(), Err(PasserelleError::Closed));
    let (reopened, _) = world.open().await;
    assert!(reopened.account().unwrap().is_none());
}

#[tokio::test]
async fn orders_received_but_not_seen_are_announced_again_after_a_restart() {
    let (world, app, events, location) = connected().await;
    let order = world.place_order(&location, "Marie").await;
    received(&events, &order).await;
    assert_eq!(ids(&app.unseen_orders().unwrap()), vec![order.clone()]);
    app.close().await.unwrap();
    drop(app);

    let (app, events) = world.open().await;
    received(&events, &order).await;
    assert_eq!(app.mark_orders_seen(vec![order.clone()]).unwrap(), 1);
    assert!(app.unseen_orders().unwrap().is_empty());
    assert!(app.order(&order).unwrap().unwrap().seen);
    app.close().await.unwrap();
    drop(app);

    let (app, events) = world.open().await;
    // Events arrive in order: once this later one is in, an announcement at open would be too.
    let mut settings = app.settings().unwrap();
    settings.poll_interval_secs += 1;
    app.update_settings(settings).await.unwrap();
    let later = events
        .wait_for(
            |e| matches!(e, PasserelleEvent::RestartRequired { .. }),
            EVENT_TIMEOUT,
        )
        .await;
    assert!(later.is_ok());
    assert_eq!(events.count(order_received(&order)), 0, "seen: not again");
    assert_eq!(app.orders(OrderFilter::default()).unwrap().len(), 1);
}

/// A secret store that refuses every call while `failing` is set (a locked device).
struct FlakySecrets {
    inner: Arc<InMemorySecretStore>,
    failing: AtomicBool,
}

impl FlakySecrets {
    fn check(&self) -> Result<(), SecretStoreError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(SecretStoreError::Unavailable {
                reason: "device locked".into(),
            });
        }
        Ok(())
    }
}

impl SecretStore for FlakySecrets {
    fn get(&self, key: String) -> Result<Option<String>, SecretStoreError> {
        self.check()?;
        self.inner.get(key)
    }
    fn set(&self, key: String, value: String) -> Result<(), SecretStoreError> {
        self.check()?;
        self.inner.set(key, value)
    }
    fn delete(&self, key: String) -> Result<(), SecretStoreError> {
        self.check()?;
        self.inner.delete(key)
    }
}

#[tokio::test]
async fn a_worker_keeps_going_through_a_failing_secret_store() {
    let world = World::start().await;
    let secrets = Arc::new(FlakySecrets {
        inner: world.secrets.clone(),
        failing: AtomicBool::new(false),
    });
    let events = Arc::new(EventRecorder::new());
    let app = Passerelle::open(world.config(), secrets.clone(), events.clone())
        .await
        .unwrap();
    world.sign_in(&app).await;
    let location = world.location_ids()[0].clone();
    let connection = world.connect_active(&app, &location).await;

    secrets.failing.store(true, Ordering::SeqCst);
    let delayed = events
        .wait_for(
            |e| matches!(e, PasserelleEvent::SyncHealthChanged { health } if health.connections.iter().any(|c| c.delay_reason == Some(DelayReason::DeviceStorage))),
            EVENT_TIMEOUT,
        )
        .await;
    assert!(delayed.is_ok(), "the failing store never showed");
    assert_eq!(app.syncing_connections().unwrap(), vec![connection]);

    secrets.failing.store(false, Ordering::SeqCst);
    let order = world.place_order(&location, "Marie").await;
    app.network_available().unwrap();
    received(&events, &order).await;
}

fn ids(orders: &[passerelle_core::Order]) -> Vec<String> {
    orders.iter().map(|o| o.id.clone()).collect()
}

#[tokio::test]
async fn an_order_with_nulls_reaches_the_till_as_hubrise_sent_it() {
    let (world, app, events, location) = connected().await;
    let order = world
        .sandbox
        .admin()
        .place_order_with_raw_fields(
            &location,
            passerelle_sandbox::seed::sample_order("Marie"),
            serde_json::json!({"status": null, "total": 12, "customer": null}),
        )
        .await
        .unwrap();
    received(&events, &order).await;
    let stored = app.order(&order).unwrap().unwrap();
    assert_eq!(stored.status, passerelle_core::OrderStatus::Unknown);
    assert!(stored.customer.is_none());
    assert!(app.quarantined_items().unwrap().is_empty());
}

#[tokio::test]
async fn an_order_without_an_id_is_quarantined_with_its_body_and_the_rest_flows() {
    let (world, app, events, location) = connected().await;
    let admin = world.sandbox.admin();
    let nameless = world.place_order(&location, "Nameless").await;
    admin
        .inject_fault(
            Fault::rewrite_json(
                &format!("/v1/location/orders/{nameless}"),
                serde_json::json!({}),
                &["id"],
                10,
            )
            .for_method("GET"),
        )
        .await;
    let next = world.place_order(&location, "Marie").await;
    received(&events, &next).await;
    let set_aside = events
        .wait_for(
            |e| matches!(e, PasserelleEvent::ItemQuarantined { item } if !item.is_event),
            EVENT_TIMEOUT,
        )
        .await;
    assert!(
        set_aside.is_ok(),
        "the order without an id was not set aside"
    );
    let items = app.quarantined_items().unwrap();
    assert_eq!(items[0].order_id.as_deref(), Some(nameless.as_str()));
    assert!(
        items[0]
            .raw_body
            .as_deref()
            .is_some_and(|body| body.contains("Nameless")),
        "kept with what HubRise sent"
    );
}

#[tokio::test]
async fn a_change_applied_whose_answer_cannot_be_read_is_not_reported_refused() {
    let (world, app, events, location) = connected().await;
    let order = world.place_order(&location, "Marie").await;
    received(&events, &order).await;
    let marked = wait_until(BUDGET_TIMEOUT, || async {
        world.hubrise_status(&location, &order).await == "received"
    })
    .await;
    assert!(marked);
    world
        .sandbox
        .admin()
        .inject_fault(
            Fault::body(
                &format!("/v1/location/orders/{order}"),
                200,
                "text/html",
                "<html>proxy</html>",
                1,
            )
            .for_method("PATCH")
            .after_handling(),
        )
        .await;
    app.accept(&order, None).await.unwrap();
    let applied = wait_until(BUDGET_TIMEOUT, || async {
        app.order(&order).unwrap().unwrap().pending_status.is_none()
    })
    .await;
    assert!(applied, "the change stayed pending");
    assert_eq!(world.hubrise_status(&location, &order).await, "accepted");
    assert_eq!(
        events.count(|e| matches!(e, PasserelleEvent::OrderConflict { .. })),
        0,
        "never reported as refused"
    );
    assert!(app.failed_changes().unwrap().is_empty());
}
