//! Faults from the sandbox: 5xx bursts, dropped connections, slow answers, 429 with and without
//! `Retry-After`, a connection disconnected in the back office mid-sync, and a backlog drained
//! inside scaled-down rate limits without one 429. Counts come from the sandbox's request log.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use passerelle_core::{OrderFilter, OrderStatus, PasserelleEvent, RateLimits};
use passerelle_sandbox::{Fault, SandboxOptions};
use passerelle_test_support::{EVENT_TIMEOUT, EventRecorder, World, order_received};

async fn connected_world(
    options: SandboxOptions,
) -> (
    World,
    passerelle_core::Passerelle,
    std::sync::Arc<EventRecorder>,
    String,
) {
    let world = World::start_with(options).await;
    let (app, events) = world.open_signed_in().await;
    let location = world.location_ids()[0].clone();
    world.connect_active(&app, &location).await;
    // The first cycle (callback check, one catch-up query) is done before the test starts.
    app.sync_now().await.unwrap();
    (world, app, events, location)
}

async fn wait_received(events: &EventRecorder, order_id: &str) {
    wait_for_events(events, order_id, EVENT_TIMEOUT).await;
}

#[tokio::test]
async fn a_5xx_burst_is_retried_with_backoff_not_hammered() {
    let (world, app, events, location) = connected_world(SandboxOptions::default()).await;
    let admin = world.sandbox.admin();
    admin.reset_requests().await;
    admin
        .inject_fault(Fault::status("/v1/callback/events", 503, 4))
        .await;
    let order_id = world.place_order(&location, "Marie").await;

    let started = Instant::now();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let early = admin.count_requests("GET", "/v1/callback/events").await;
    // The four failures and the poll that succeeds, at most: the waits between them are a full
    // jitter (anywhere from zero to 1, 2, 4, 8 s), so all five can fall inside 1.5 s, rarely;
    // hammering would be many more.
    assert!(
        early <= 5,
        "backing off, not hammering: {early} polls in 1.5 s"
    );
    wait_for_events(&events, &order_id, Duration::from_secs(30)).await;
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "the burst cost some backoff"
    );
    assert_eq!(app.orders(OrderFilter::default()).unwrap().len(), 1);
    let failing = admin
        .requests()
        .await
        .iter()
        .filter(|r| r.status == 503)
        .count();
    assert_eq!(failing, 4);
}

/// Waits for an order longer than [`EVENT_TIMEOUT`] allows (backoff can take a while).
async fn wait_for_events(events: &EventRecorder, order_id: &str, limit: Duration) {
    let received = events.wait_for(order_received(order_id), limit).await;
    if let Err(missing) = received {
        panic!("order {order_id} never arrived: {missing}");
    }
}

#[tokio::test]
async fn dropped_connections_and_slow_answers_lose_nothing() {
    let (world, app, events, location) = connected_world(SandboxOptions::default()).await;
    let admin = world.sandbox.admin();
    admin
        .inject_fault(Fault::drop_connection("/v1/location/orders", 2))
        .await;
    admin
        .inject_fault(Fault::drop_connection("/v1/callback/events/", 1).for_method("DELETE"))
        .await;
    admin
        .inject_fault(Fault::delay(
            "/v1/callback/events",
            Duration::from_millis(300),
        ))
        .await;
    let order_id = world.place_order(&location, "Marie").await;
    wait_for_events(&events, &order_id, Duration::from_secs(30)).await;
    admin.clear_faults().await;
    app.sync_now().await.unwrap();

    assert_eq!(
        app.orders(OrderFilter::default()).unwrap().len(),
        1,
        "once, whatever was dropped"
    );
    assert_eq!(world.hubrise_status(&location, &order_id).await, "received");
    let received = events.count(|e| matches!(e, PasserelleEvent::OrderReceived { .. }));
    assert_eq!(received, 1);
}

#[tokio::test]
async fn a_429_with_retry_after_is_honoured() {
    let (world, _app, events, location) = connected_world(SandboxOptions::default()).await;
    let admin = world.sandbox.admin();
    tokio::time::sleep(Duration::from_millis(200)).await;
    admin
        .inject_fault(Fault::too_many_requests("/v1/callback/events", 1, Some(2)))
        .await;
    admin.reset_requests().await;
    let started = Instant::now();
    let order_id = world.place_order(&location, "Marie").await;
    wait_for_events(&events, &order_id, Duration::from_secs(20)).await;
    assert!(
        started.elapsed() >= Duration::from_millis(1_900),
        "waited out Retry-After: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_429_without_retry_after_waits_for_the_next_window() {
    let window = Duration::from_millis(2_000);
    let options = SandboxOptions {
        retry_after_header: false,
        window_scale: Some(window),
        ..Default::default()
    };
    let world = World::start_with(options).await;
    let mut config = world.config();
    config.rate_limits = RateLimits {
        minute_ms: 2_000,
        ..RateLimits::hubrise()
    };
    let (app, events) = world.open_with(config).await;
    world.sign_in(&app).await;
    let location = world.location_ids()[0].clone();
    world.connect_active(&app, &location).await;
    let admin = world.sandbox.admin();
    tokio::time::sleep(Duration::from_millis(200)).await;
    admin
        .inject_fault(Fault::too_many_requests("/v1/callback/events", 1, None))
        .await;
    let order_id = world.place_order(&location, "Marie").await;
    wait_for_events(&events, &order_id, Duration::from_secs(20)).await;
    let polls = admin.count_requests("GET", "/v1/callback/events").await;
    assert!(polls <= 8, "no hammering while rate limited: {polls}");
}

#[tokio::test]
async fn a_connection_disconnected_in_the_back_office_mid_sync_needs_a_reconnect() {
    let (world, app, events, location) = connected_world(SandboxOptions::default()).await;
    let admin = world.sandbox.admin();
    let first = world.place_order(&location, "Marie").await;
    wait_received(&events, &first).await;
    app.accept(&first, None).await.unwrap();
    admin.disconnect_connection(&location).await.unwrap();
    world.place_order(&location, "Paul").await;

    events
        .wait_for(
            |e| matches!(e, PasserelleEvent::ReconnectNeeded { .. }),
            EVENT_TIMEOUT,
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        app.syncing_connections().unwrap().is_empty(),
        "that connection's sync stopped"
    );
    let connection = &app.connections().unwrap()[0];
    assert!(connection.reconnect_needed);
    assert!(connection.last_failed_at.is_some());
    assert_eq!(
        app.orders(OrderFilter::default()).unwrap().len(),
        1,
        "local data kept"
    );
    assert_eq!(
        app.order(&first).unwrap().unwrap().pending_status,
        Some(OrderStatus::Accepted),
        "outbox kept"
    );

    // Reconnect HubRise: sync resumes, the outbox drains, the missed order arrives.
    world.connect(&app, &location).await;
    app.sync_now().await.unwrap();
    assert_eq!(app.syncing_connections().unwrap().len(), 1);
    assert_eq!(app.orders(OrderFilter::default()).unwrap().len(), 2);
    assert_eq!(world.hubrise_status(&location, &first).await, "accepted");
}

#[tokio::test]
async fn a_failed_push_is_retried_and_applied_once() {
    let (world, app, events, location) = connected_world(SandboxOptions::default()).await;
    let admin = world.sandbox.admin();
    let order_id = world.place_order(&location, "Marie").await;
    wait_received(&events, &order_id).await;
    app.sync_now().await.unwrap();
    admin
        .inject_fault(Fault::status("/v1/location/orders/", 503, 2).for_method("PATCH"))
        .await;
    app.accept(&order_id, None).await.unwrap();
    // A server error for one change concerns that change alone: the cycle goes on, the change
    // waits for its retry.
    app.sync_now().await.unwrap();
    assert!(
        admin
            .requests()
            .await
            .iter()
            .any(|r| r.method == "PATCH" && r.status == 503),
        "the first push failed"
    );
    for _ in 0..100 {
        if world.hubrise_status(&location, &order_id).await == "accepted" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(world.hubrise_status(&location, &order_id).await, "accepted");
    assert_eq!(app.order(&order_id).unwrap().unwrap().pending_status, None);
}

#[tokio::test]
async fn a_backlog_drains_inside_scaled_limits_without_a_single_429() {
    // A "minute" of 1 s holding 12 requests: 20 orders need about 60 requests, five windows.
    let window = Duration::from_millis(1_000);
    let limits = passerelle_sandbox::RateLimits {
        per_minute: 12,
        per_hour: 10_000,
        per_day: 100_000,
        heavy_per_minute: 10,
    };
    let world = World::start_with(SandboxOptions {
        window_scale: Some(window),
        limits,
        ..Default::default()
    })
    .await;
    let mut config = world.config();
    config.rate_limits = RateLimits {
        per_minute: 12,
        per_hour: 10_000,
        per_day: 100_000,
        heavy_per_minute: 10,
        minute_ms: 1_000,
    };
    let (app, _) = world.open_with(config).await;
    world.sign_in(&app).await;
    let location = world.location_ids()[0].clone();
    app.stop_sync().await.unwrap();
    world.connect_active(&app, &location).await;
    app.stop_sync().await.unwrap();
    for n in 0..20 {
        world.place_order(&location, &format!("Client {n}")).await;
    }
    let admin = world.sandbox.admin();

    let started = Instant::now();
    app.sync_now().await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(app.orders(OrderFilter::default()).unwrap().len(), 20);
    let requests = admin.requests().await;
    assert_eq!(
        requests.iter().filter(|r| r.status == 429).count(),
        0,
        "the client kept to the limits"
    );
    assert!(requests.len() >= 60, "{} requests", requests.len());
    assert!(
        elapsed >= Duration::from_secs(4),
        "paced over several windows: {elapsed:?}"
    );
}
