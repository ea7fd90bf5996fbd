//! Issue 27: an outage loses nothing. One test per scenario, against the sandbox: a route of
//! HubRise down for many poll intervals while orders keep coming (an outage, not poison), a
//! quarantined order retried by the till and by the library itself, `Retry-After: 0` never
//! turning into a hot loop, and a stale automatic `received` never written over a status another
//! app set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant, SystemTime};

use crate::real_hubrise::offset_of;
use crate::service_grade::connected;
use passerelle_core::{DelayReason, Passerelle, PasserelleEvent, SyncState};
use passerelle_sandbox::{Fault, FaultKind, SandboxOptions, ServerKind};
use passerelle_test_support::{
    EVENT_TIMEOUT, EventRecorder, POLL_INTERVAL_SECS, World, order_received, wait_until,
};

/// How long the orders route stays down: many times the four poll intervals after which an
/// order used to be set aside for good.
const OUTAGE: Duration = Duration::from_secs(30);
const ORDERS_IN_OUTAGE: usize = 20;
/// After the route is back, every order is at the till this soon: one poll interval, plus room
/// for a loaded machine; far below the five minutes a growing backoff used to reach.
const AFTER_OUTAGE: Duration = Duration::from_secs(10);

/// Every GET of one order (not the list, not a PATCH) on HubRise's API.
fn orders_route_fault(kind: FaultKind) -> Fault {
    Fault {
        path_prefix: "/v1/location/orders/".into(),
        server: Some(ServerKind::Api),
        method: Some("GET".into()),
        times: None,
        kind,
    }
}

#[tokio::test]
async fn an_outage_of_the_orders_route_sets_nothing_aside_and_every_order_arrives_after_it() {
    let (world, app, events, location) = connected().await;
    let admin = world.sandbox.admin();
    admin
        .inject_fault(orders_route_fault(FaultKind::Status { status: 503 }))
        .await;
    let started = Instant::now();
    let mut placed = Vec::new();
    for i in 0..ORDERS_IN_OUTAGE {
        placed.push(world.place_order(&location, &format!("Outage {i}")).await);
        tokio::time::sleep(OUTAGE / u32::try_from(ORDERS_IN_OUTAGE).unwrap() / 2).await;
    }
    let delayed = wait_until(OUTAGE, || async {
        let health = app.sync_health().unwrap();
        health.connections[0].state == SyncState::Delayed
            && health.connections[0].delay_reason == Some(DelayReason::HubriseUnavailable)
    })
    .await;
    assert!(
        delayed,
        "the outage never showed as delayed: {:?}",
        app.sync_health()
    );
    tokio::time::sleep(OUTAGE.saturating_sub(started.elapsed())).await;
    assert_eq!(
        app.quarantined_items().unwrap(),
        vec![],
        "an outage is not poison"
    );

    admin.clear_faults().await;
    let back = Instant::now();
    for order in &placed {
        let arrived = events.wait_for(order_received(order), AFTER_OUTAGE).await;
        assert!(
            arrived.is_ok(),
            "order {order} not at the till {:?} after the outage",
            back.elapsed()
        );
    }
    eprintln!(
        "{ORDERS_IN_OUTAGE} orders at the till {:?} after a {OUTAGE:?} outage ended",
        back.elapsed()
    );
    assert!(app.quarantined_items().unwrap().is_empty());
    let flowing = wait_until(EVENT_TIMEOUT, || async {
        app.sync_health().unwrap().connections[0].state == SyncState::Flowing
    })
    .await;
    assert!(flowing, "{:?}", app.sync_health());
}

#[tokio::test]
async fn an_order_set_aside_is_retried_by_the_library_then_by_the_till() {
    let (world, app, events, location) = connected().await;
    let admin = world.sandbox.admin();
    let first = world.place_order(&location, "Unreadable").await;
    // An answer about this order alone: a 422 for it, while the other routes work.
    let only_first = Fault {
        path_prefix: format!("/v1/location/orders/{first}"),
        ..orders_route_fault(FaultKind::Status { status: 422 })
    };
    admin.inject_fault(only_first.clone()).await;
    let set_aside = Instant::now();
    let quarantined = events
        .wait_for(
            |e| matches!(e, PasserelleEvent::ItemQuarantined { item } if item.order_id.as_deref() == Some(first.as_str())),
            Duration::from_secs(60),
        )
        .await;
    assert!(quarantined.is_ok(), "the order was never set aside");
    let span = set_aside.elapsed();
    assert!(
        span >= Duration::from_secs(4 * u64::from(POLL_INTERVAL_SECS)),
        "set aside after {span:?}: the budget spans four poll intervals"
    );
    let health = app.sync_health().unwrap();
    assert!(health.needs_attention && health.connections[0].quarantined == 1);

    // The fault is lifted: the library fetches the order again by itself.
    admin.clear_faults().await;
    let arrived = events
        .wait_for(order_received(&first), Duration::from_secs(60))
        .await;
    assert!(arrived.is_ok(), "a quarantined order was never retried");
    assert!(app.quarantined_items().unwrap().is_empty());
    let health = app.sync_health().unwrap();
    assert!(!health.needs_attention && health.connections[0].quarantined == 0);

    // The till's own retry: set aside again, then retried at once on the till's request.
    let second = world.place_order(&location, "Unreadable again").await;
    admin
        .inject_fault(Fault {
            path_prefix: format!("/v1/location/orders/{second}"),
            ..only_first
        })
        .await;
    let item = events
        .wait_for(
            |e| matches!(e, PasserelleEvent::ItemQuarantined { item } if item.order_id.as_deref() == Some(second.as_str())),
            Duration::from_secs(60),
        )
        .await;
    assert!(item.is_ok(), "the second order was never set aside");
    let id = app.quarantined_items().unwrap()[0].id;
    assert!(
        app.retry_quarantined(id).await.is_err(),
        "HubRise still refuses it"
    );
    assert_eq!(app.quarantined_items().unwrap().len(), 1, "still set aside");
    admin.clear_faults().await;
    app.retry_quarantined(id).await.unwrap();
    assert!(app.order(&second).unwrap().is_some());
    assert!(app.quarantined_items().unwrap().is_empty());
}

#[tokio::test]
async fn retry_after_zero_is_waited_at_least_one_poll_interval() {
    let (world, app, _events, _location) = connected().await;
    let admin = world.sandbox.admin();
    let window = Duration::from_secs(20);
    admin.reset_requests().await;
    admin
        .inject_fault(Fault {
            path_prefix: "/v1/".into(),
            server: Some(ServerKind::Api),
            method: None,
            times: None,
            kind: FaultKind::TooManyRequests {
                retry_after: Some(0),
            },
        })
        .await;
    tokio::time::sleep(window).await;
    admin.clear_faults().await;
    let requests = admin.count_requests("", "/v1/").await;
    let most = usize::try_from(window.as_secs() / u64::from(POLL_INTERVAL_SECS)).unwrap() + 2;
    eprintln!("{requests} requests in {window:?} of 429 Retry-After: 0");
    assert!(
        requests <= most,
        "{requests} requests in {window:?}: a hot loop"
    );
    assert!(requests >= 2, "the worker kept trying");
    let health = app.sync_health().unwrap();
    assert_eq!(
        health.connections[0].delay_reason,
        Some(DelayReason::RateLimited)
    );
}

#[tokio::test]
async fn a_stale_automatic_received_never_overwrites_a_status_set_elsewhere() {
    let (world, _app, events, location) = connected().await;
    let admin = world.sandbox.admin();
    // Every PATCH fails while the order arrives, so the automatic `received` waits in the outbox.
    let patches = Fault {
        path_prefix: "/v1/location/orders/".into(),
        server: Some(ServerKind::Api),
        method: Some("PATCH".into()),
        times: None,
        kind: FaultKind::Status { status: 503 },
    };
    admin.inject_fault(patches).await;
    let order = world.place_order(&location, "Sibling").await;
    assert!(
        events
            .wait_for(order_received(&order), EVENT_TIMEOUT)
            .await
            .is_ok()
    );
    let tried = wait_until(EVENT_TIMEOUT, || async {
        admin
            .count_requests("PATCH", &format!("/v1/location/orders/{order}"))
            .await
            >= 1
    })
    .await;
    assert!(tried, "the automatic received was never tried");
    // Another till of the location accepts it meanwhile; the change event it causes cannot be
    // read yet (this order's GET fails), so this till's copy still says `new`.
    admin
        .update_order_as_other_app(&location, &order, serde_json::json!({"status": "accepted"}))
        .await
        .unwrap();
    admin.clear_faults().await;
    admin
        .inject_fault(Fault {
            path_prefix: format!("/v1/location/orders/{order}"),
            ..orders_route_fault(FaultKind::Status { status: 503 })
        })
        .await;
    // The outbox retries within its backoff; give it time to do the wrong thing.
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert_eq!(world.hubrise_status(&location, &order).await, "accepted");
    admin.clear_faults().await;
    let updated = events
        .wait_for(
            |e| matches!(e, PasserelleEvent::OrderUpdated { order: o } if o.id == order),
            EVENT_TIMEOUT,
        )
        .await;
    assert!(
        updated.is_ok(),
        "the sibling's accept never reached this till"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(world.hubrise_status(&location, &order).await, "accepted");
}

/// An order at the till, already marked `received` at HubRise.
async fn order_at_the_till(world: &World, events: &EventRecorder, location: &str) -> String {
    let order = world.place_order(location, "Till lane").await;
    assert!(
        events
            .wait_for(order_received(&order), EVENT_TIMEOUT)
            .await
            .is_ok()
    );
    let marked = wait_until(EVENT_TIMEOUT, || async {
        world.hubrise_status(location, &order).await == "received"
    })
    .await;
    assert!(marked, "never marked received");
    order
}

/// Accepts `order` at the till and says whether HubRise has it accepted soon after (a few
/// seconds: the change has a lane of its own, so only a change held behind intake misses it).
async fn accept_reaches_hubrise(
    world: &World,
    app: &Passerelle,
    location: &str,
    order: &str,
) -> bool {
    app.accept(order, None).await.unwrap();
    wait_until(Duration::from_secs(5), || async {
        world.hubrise_status(location, order).await == "accepted"
    })
    .await
}

#[tokio::test]
async fn an_accept_reaches_hubrise_while_the_events_route_fails() {
    let (world, app, events, location) = connected().await;
    let admin = world.sandbox.admin();
    let order = order_at_the_till(&world, &events, &location).await;
    admin
        .inject_fault(Fault {
            path_prefix: "/v1/callback/events".into(),
            server: Some(ServerKind::Api),
            method: Some("GET".into()),
            times: None,
            kind: FaultKind::Status { status: 503 },
        })
        .await;
    let delayed = wait_until(EVENT_TIMEOUT, || async {
        app.sync_health().unwrap().connections[0].state == SyncState::Delayed
    })
    .await;
    assert!(delayed, "the events route's outage never showed");
    assert!(
        accept_reaches_hubrise(&world, &app, &location, &order).await,
        "the accept waited behind the events route"
    );
}

#[tokio::test]
async fn an_accept_reaches_hubrise_while_an_events_delete_keeps_failing() {
    let (world, app, events, location) = connected().await;
    let admin = world.sandbox.admin();
    admin
        .inject_fault(Fault {
            path_prefix: "/v1/callback/events/".into(),
            server: Some(ServerKind::Api),
            method: Some("DELETE".into()),
            times: None,
            kind: FaultKind::Status { status: 503 },
        })
        .await;
    let order = order_at_the_till(&world, &events, &location).await;
    let later = world.place_order(&location, "Behind the stuck event").await;
    assert!(
        events
            .wait_for(order_received(&later), EVENT_TIMEOUT)
            .await
            .is_ok(),
        "an event that cannot be deleted held back the next"
    );
    assert!(
        accept_reaches_hubrise(&world, &app, &location, &order).await,
        "the accept waited behind the failing DELETE"
    );
}

#[tokio::test]
async fn the_first_accept_after_connecting_speaks_the_store_s_time() {
    let world = World::start_with(SandboxOptions {
        times_as_sent: true,
        ..Default::default()
    })
    .await;
    let admin = world.sandbox.admin();
    let location = world.location_ids()[0].clone();
    let (app, events) = world.open_signed_in().await;
    world.connect_active(&app, &location).await;
    // Every read under /location is slow from now on, so the location's timezone (read with its
    // names) comes in after the till has accepted its first order.
    admin
        .inject_fault(Fault {
            path_prefix: "/v1/location".into(),
            server: Some(ServerKind::Api),
            method: Some("GET".into()),
            times: None,
            kind: FaultKind::Delay { millis: 2_000 },
        })
        .await;
    let order = world.place_order(&location, "Marie").await;
    assert!(
        events
            .wait_for(order_received(&order), EVENT_TIMEOUT)
            .await
            .is_ok()
    );
    let ready_at = SystemTime::now() + Duration::from_secs(60);
    app.accept(&order, Some(ready_at)).await.unwrap();
    // Two slow reads before the PATCH: the order's status (design D9) and the timezone.
    let accepted = wait_until(Duration::from_secs(30), || async {
        world.hubrise_status(&location, &order).await == "accepted"
    })
    .await;
    assert!(accepted, "the accept never reached HubRise");
    let at_hubrise = admin.order(&location, &order).await.unwrap();
    let confirmed = at_hubrise["confirmed_time"].as_str().unwrap();
    let created = at_hubrise["created_at"].as_str().unwrap();
    // The sandbox writes its own times in the location's timezone (Europe/Paris).
    assert_eq!(
        offset_of(confirmed),
        offset_of(created),
        "{confirmed} vs {created}"
    );
}

#[tokio::test]
async fn an_accept_reaches_hubrise_while_a_backlog_of_2000_events_drains() {
    let world = World::start().await;
    let mut config = world.config();
    // One long rate window, so that the backlog spends all of intake's share of it during the
    // test: only a share kept for the till's changes lets the accept through.
    config.rate_limits.minute_ms = 600_000;
    let (app, events) = world.open_with(config).await;
    world.sign_in(&app).await;
    let location = world.location_ids()[0].clone();
    world.connect_active(&app, &location).await;
    app.sync_now().await.unwrap();
    let order = order_at_the_till(&world, &events, &location).await;
    let admin = world.sandbox.admin();
    for i in 0..2_000 {
        world.place_order(&location, &format!("Backlog {i}")).await;
    }
    // The backlog drains until intake has spent its share of the window, then stops.
    let mut last = 0;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let now = admin.count_requests("", "/v1/").await;
        if now == last || Instant::now() > deadline {
            break;
        }
        last = now;
    }
    let per_minute = usize::try_from(world.config().rate_limits.per_minute).unwrap();
    assert!(
        last >= per_minute * 8 / 10,
        "the backlog stopped early: {last} requests"
    );
    assert!(
        accept_reaches_hubrise(&world, &app, &location, &order).await,
        "the accept waited behind the backlog"
    );
    let arrived = events.count(|e| matches!(e, PasserelleEvent::OrderReceived { .. }));
    assert!(
        arrived < 2_000,
        "the backlog was still draining ({arrived} arrived)"
    );
}

#[tokio::test]
async fn a_change_slow_to_be_answered_holds_back_no_other_order_s_change() {
    let (world, app, events, location) = connected().await;
    let admin = world.sandbox.admin();
    let slow = order_at_the_till(&world, &events, &location).await;
    let other = order_at_the_till(&world, &events, &location).await;
    // HubRise takes 20 s to answer this one order's PATCH.
    admin
        .inject_fault(Fault {
            path_prefix: format!("/v1/location/orders/{slow}"),
            server: Some(ServerKind::Api),
            method: Some("PATCH".into()),
            times: None,
            kind: FaultKind::Delay { millis: 20_000 },
        })
        .await;
    app.accept(&slow, None).await.unwrap();
    // Its PATCH is on its way (the sandbox logs a request once answered).
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        accept_reaches_hubrise(&world, &app, &location, &other).await,
        "the other order's accept waited behind the slow one"
    );
}

#[tokio::test]
async fn a_change_slow_to_be_answered_in_the_intake_cycle_holds_back_no_till_change() {
    let (world, app, events, location) = connected().await;
    let slow = order_at_the_till(&world, &events, &location).await;
    let other = order_at_the_till(&world, &events, &location).await;
    world
        .sandbox
        .admin()
        .inject_fault(Fault {
            path_prefix: format!("/v1/location/orders/{slow}"),
            server: Some(ServerKind::Api),
            method: Some("PATCH".into()),
            times: None,
            kind: FaultKind::Delay { millis: 20_000 },
        })
        .await;
    // In the background the pusher waits, so the accept is sent by the intake cycle's own push
    // step (a change retried later takes the same way).
    app.app_did_enter_background().unwrap();
    app.accept(&slow, None).await.unwrap();
    let intake = app.sync_now();
    let till = async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        app.app_will_enter_foreground().unwrap();
        accept_reaches_hubrise(&world, &app, &location, &other).await
    };
    let (_, reached) = tokio::join!(intake, till);
    assert!(
        reached,
        "the other order's accept waited behind the intake cycle's slow change"
    );
}

/// Another till accepts an order while this till's read of it is on its way back: the status
/// this till fetched is already stale, and its automatic `received` must not write over the
/// accept. It reads the order again before sending it, as it does for every change (design D9).
#[tokio::test]
async fn an_automatic_received_never_writes_over_an_accept_made_since_the_fetch() {
    let (world, app, events, location) = connected().await;
    let admin = world.sandbox.admin();
    let order = world.place_order(&location, "Ada").await;
    // HubRise reads the order at once and answers 1.5 s later.
    admin
        .inject_fault(
            Fault::slow_answer(
                &format!("/v1/location/orders/{order}"),
                Duration::from_millis(1500),
                1,
            )
            .for_method("GET")
            .on_server(ServerKind::Api),
        )
        .await;
    let sibling = async {
        tokio::time::sleep(Duration::from_millis(700)).await;
        admin
            .update_order_as_other_app(&location, &order, serde_json::json!({"status": "accepted"}))
            .await
            .unwrap();
    };
    let (synced, ()) = tokio::join!(app.sync_now(), sibling);
    synced.unwrap();
    events
        .wait_for(order_received(&order), EVENT_TIMEOUT)
        .await
        .unwrap();
    let settled = wait_until(Duration::from_secs(5), || async {
        app.order(&order)
            .unwrap()
            .is_some_and(|o| o.status == passerelle_core::OrderStatus::Accepted)
    })
    .await;
    assert_eq!(
        world.hubrise_status(&location, &order).await,
        "accepted",
        "the automatic received wrote over the other till's accept"
    );
    assert!(settled, "the till never showed the accept");
}

#[tokio::test]
async fn an_order_found_by_the_catch_up_is_read_whole_before_it_is_announced() {
    let world = World::start_with(SandboxOptions {
        backend_registers_callback: false,
        ..Default::default()
    })
    .await;
    let (app, events) = world.open_signed_in().await;
    let location = world.location_ids()[0].clone();
    // Placed while no callback listens: only the catch-up at activation can find it, and HubRise's
    // list gives an entry without the items.
    let listed = world.place_order(&location, "Catch-up").await;
    world.connect_active(&app, &location).await;
    let _ = app.sync_now().await;
    let announced = events
        .wait_for(order_received(&listed), EVENT_TIMEOUT)
        .await;
    let Ok(PasserelleEvent::OrderReceived { order }) = announced else {
        panic!("never announced: {announced:?}");
    };
    assert!(
        !order.items.is_empty(),
        "announced from a list entry: {order:?}"
    );
    assert!(
        order.customer.is_some(),
        "announced from a list entry: {order:?}"
    );
    let stored = app.order(&listed).unwrap().unwrap();
    assert_eq!(stored.items.len(), order.items.len());
}
