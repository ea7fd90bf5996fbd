//! Where HubRise's documentation allows a stricter reading than the sandbox used to give (issue
//! 15), the sandbox gives it (by default, or behind a switch) and Passerelle copes: sibling tills
//! that never hear each other through events, blocked tokens answered with 429, token answers of
//! any `Content-Type`, odd event entries, renamed catalogs, times with the location's offset.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use passerelle_core::{
    InMemorySecretStore, OrderStatus, Passerelle, PasserelleError, PasserelleEvent, RateLimits,
    SecretStore, TokenExchange,
};
use passerelle_sandbox::{SandboxOptions, TokenErrorBody};
use passerelle_test_support::{
    EVENT_TIMEOUT, EventRecorder, POLL_INTERVAL_SECS, World, config_for, order_received,
};
use serde_json::json;

/// A second till of the same restaurant: its own data directory, secret store and device id.
async fn second_till(world: &World, dir: &tempfile::TempDir) -> (Passerelle, Arc<EventRecorder>) {
    let events = Arc::new(EventRecorder::new());
    let app = Passerelle::open(
        config_for(world, dir.path()),
        Arc::new(InMemorySecretStore::new()),
        events.clone(),
    )
    .await
    .unwrap();
    world.sign_in(&app).await;
    (app, events)
}

fn updated_to(order_id: &str, status: OrderStatus) -> impl Fn(&PasserelleEvent) -> bool + '_ {
    move |e| matches!(e, PasserelleEvent::OrderUpdated { order } if order.id == order_id && order.status == status)
}

#[tokio::test]
async fn a_sibling_till_s_accept_shows_within_two_poll_intervals() {
    // HubRise's rule, the sandbox's default: no device of the app hears the app's own writes.
    let world = World::start().await;
    let location = world.location_ids()[0].clone();
    let (first, first_events) = world.open_signed_in().await;
    world.connect_active(&first, &location).await;
    let other_dir = tempfile::tempdir().unwrap();
    let (second, second_events) = second_till(&world, &other_dir).await;
    world.connect_active(&second, &location).await;

    let order_id = world.place_order(&location, "Marie").await;
    for events in [&first_events, &second_events] {
        events
            .wait_for(order_received(&order_id), EVENT_TIMEOUT)
            .await
            .unwrap();
    }
    let mark = second_events.mark();
    first.accept(&order_id, None).await.unwrap();
    first.sync_now().await.unwrap();
    assert_eq!(world.hubrise_status(&location, &order_id).await, "accepted");
    let accepted_at = Instant::now();

    let two_intervals = Duration::from_secs(2 * u64::from(POLL_INTERVAL_SECS));
    second_events
        .wait_for_after(
            mark,
            updated_to(&order_id, OrderStatus::Accepted),
            two_intervals + Duration::from_millis(900),
        )
        .await
        .unwrap();
    assert!(accepted_at.elapsed() <= two_intervals + Duration::from_millis(900));
    assert_eq!(
        second.order(&order_id).unwrap().unwrap().status,
        OrderStatus::Accepted
    );
}

#[tokio::test]
async fn a_reconnect_reads_back_orders_changed_while_the_token_was_refused() {
    let world = World::start().await;
    let location = world.location_ids()[0].clone();
    let (app, events) = world.open_signed_in().await;
    world.connect_active(&app, &location).await;
    app.stop_sync().await.unwrap();
    let order_id = world.place_order(&location, "Marie").await;
    app.start_sync().unwrap();
    app.sync_now().await.unwrap();
    assert_eq!(
        app.order(&order_id).unwrap().unwrap().status,
        OrderStatus::Received
    );
    // A later successful cycle: the catch-up after the reconnect starts from it, a second or
    // more after the order was created (HubRise's `after` has a precision of one second).
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    app.sync_now().await.unwrap();

    // Disconnected in HubRise's back office: the token and its event queue are gone; meanwhile
    // the customer cancels. The catch-up after the reconnect selects orders by creation time,
    // so it cannot see this one.
    let admin = world.sandbox.admin();
    app.stop_sync().await.unwrap();
    admin.disconnect_connection(&location).await.unwrap();
    admin
        .update_order_as_other_app(&location, &order_id, json!({"status": "cancelled"}))
        .await
        .unwrap();
    app.start_sync().unwrap();
    let refused = app.sync_now().await.unwrap_err();
    assert_eq!(refused.code(), "connection_revoked");

    world.connect(&app, &location).await;
    app.sync_now().await.unwrap();
    events
        .wait_for(updated_to(&order_id, OrderStatus::Cancelled), EVENT_TIMEOUT)
        .await
        .unwrap();
    assert_eq!(
        app.order(&order_id).unwrap().unwrap().status,
        OrderStatus::Cancelled
    );
}

#[tokio::test]
async fn a_blocked_token_answered_with_429_asks_for_a_reconnect() {
    // An older HubRise page: an invalid or blocked token answers 429, with an error type that
    // is not `too_many_requests`.
    let world = World::start_with(SandboxOptions {
        legacy_blocked_status: true,
        ..Default::default()
    })
    .await;
    let location = world.location_ids()[0].clone();
    let (app, events) = world.open_signed_in().await;
    world.connect_active(&app, &location).await;
    app.sync_now().await.unwrap();

    app.stop_sync().await.unwrap();
    world
        .sandbox
        .admin()
        .block_connection(&location)
        .await
        .unwrap();
    let err = app.sync_now().await.unwrap_err();
    assert_eq!(err.code(), "connection_revoked", "{err:?}");
    events
        .wait_for(
            |e| matches!(e, PasserelleEvent::ReconnectNeeded { .. }),
            EVENT_TIMEOUT,
        )
        .await
        .unwrap();
    assert!(app.connections().unwrap()[0].reconnect_needed);
    app.start_sync().unwrap();
    assert!(
        app.syncing_connections().unwrap().is_empty(),
        "not retried forever"
    );
}

/// Connects on the device with the direct strategy (the device exchanges the code itself).
async fn direct_world(options: SandboxOptions) -> (World, Passerelle) {
    let world = World::start_with(options).await;
    let mut config = world.config();
    config.token_exchange = TokenExchange::Direct;
    let (app, _) = world.open_with(config).await;
    world.sign_in(&app).await;
    world
        .secrets
        .set(
            "hubrise/client_secret".into(),
            world.sandbox.seed().client_secret.clone(),
        )
        .unwrap();
    (world, app)
}

#[tokio::test]
async fn token_answers_are_understood_whatever_their_content_type() {
    for content_type in [
        "text/plain",
        "text/html; charset=utf-8",
        "application/octet-stream",
    ] {
        let (world, app) = direct_world(SandboxOptions {
            token_content_type: Some(content_type.into()),
            ..Default::default()
        })
        .await;
        let connection = world.connect(&app, &world.location_ids()[0]).await;
        assert_eq!(
            connection.location_name.as_deref(),
            Some("Paris"),
            "{content_type}"
        );
    }
}

#[tokio::test]
async fn token_errors_are_read_by_status_when_the_body_is_not_json() {
    for (body, content_type, code_status) in [
        (TokenErrorBody::Html, None, 400),
        (TokenErrorBody::Empty, None, 400),
        (TokenErrorBody::Html, Some("text/plain"), 404),
        (TokenErrorBody::Json, Some("text/html"), 400),
    ] {
        let (world, app) = direct_world(SandboxOptions {
            token_error_body: body,
            token_content_type: content_type.map(str::to_owned),
            invalid_code_status: code_status,
            ..Default::default()
        })
        .await;
        let callback = world.approve(&app, &world.location_ids()[0]).await;
        // The code is older than HubRise's ten minutes by the time it is exchanged.
        world
            .sandbox
            .admin()
            .age_codes(Duration::from_secs(601))
            .await;
        let err = app
            .complete_hubrise_connection(&callback)
            .await
            .unwrap_err();
        assert!(
            matches!(err, PasserelleError::InvalidGrant { .. }),
            "{body:?} {content_type:?} {code_status}: {err:?}"
        );
    }

    // A wrong client secret: 401, whatever the body.
    let (world, app) = direct_world(SandboxOptions {
        token_error_body: TokenErrorBody::Empty,
        ..Default::default()
    })
    .await;
    world
        .secrets
        .set("hubrise/client_secret".into(), "not-the-secret".into())
        .unwrap();
    let callback = world.approve(&app, &world.location_ids()[0]).await;
    let err = app
        .complete_hubrise_connection(&callback)
        .await
        .unwrap_err();
    assert_eq!(err, PasserelleError::InvalidClient);
}

#[tokio::test]
async fn odd_event_entries_never_fail_the_page() {
    // Entries carry both `order_id` and `resource_id` (an older page's name), plus odd ones.
    let world = World::start_with(SandboxOptions {
        legacy_event_resource_id: true,
        ..Default::default()
    })
    .await;
    let location = world.location_ids()[0].clone();
    let (app, _) = world.open_signed_in().await;
    world.connect_active(&app, &location).await;
    app.sync_now().await.unwrap();
    app.stop_sync().await.unwrap();
    let admin = world.sandbox.admin();
    let first = world.place_order(&location, "Marie").await;
    let second = world.place_order(&location, "Paul").await;
    for odd in [
        // Both ids: `resource_id` names the parent (the location), `order_id` the order.
        json!({"id": "odd01", "resource_type": "order", "event_type": "update",
               "order_id": first, "resource_id": location}),
        // Only the old name: it is the order's id.
        json!({"id": "odd02", "resource_type": "order", "event_type": "create",
               "resource_id": second}),
        // Another resource: its `resource_id` is a customer list, never an order.
        json!({"id": "odd03", "resource_type": "customer", "event_type": "update",
               "resource_id": "xab66", "location_id": location}),
        // An unknown type and an entry without id.
        json!({"id": "odd04", "resource_type": "teleport", "event_type": "beam"}),
        json!({"resource_type": "order", "event_type": "update", "order_id": first}),
    ] {
        admin.inject_event(&location, odd).await.unwrap();
    }
    app.start_sync().unwrap();
    app.sync_now().await.unwrap();
    for id in [&first, &second] {
        assert!(app.order(id).unwrap().is_some(), "order {id} arrived");
    }
    let connection = admin
        .connections()
        .await
        .into_iter()
        .find(|c| c.location_id.as_deref() == Some(location.as_str()))
        .unwrap();
    assert_eq!(
        connection.pending_events, 1,
        "only the entry without id stays (it cannot be deleted)"
    );
}

#[tokio::test]
async fn renamed_catalog_and_customer_list_show_after_a_restart_and_a_check() {
    let world = World::start().await;
    let location = world.location_ids()[0].clone();
    let (app, events) = world.open_signed_in().await;
    let id = world.connect_active(&app, &location).await;
    let before = app.connections().unwrap()[0].clone();
    let (catalog, list) = (
        before.catalog_id.clone().unwrap(),
        before.customer_list_id.clone().unwrap(),
    );
    let admin = world.sandbox.admin();
    admin
        .rename("catalog", &catalog, "Carte d'été")
        .await
        .unwrap();
    admin
        .rename("customer_list", &list, "Clients fidèles")
        .await
        .unwrap();

    let mark = events.mark();
    app.restart().await.unwrap();
    events
        .wait_for_after(
            mark,
            |e| {
                matches!(e, PasserelleEvent::ConnectionChanged { connection }
                if connection.catalog_name.as_deref() == Some("Carte d'été")
                && connection.customer_list_name.as_deref() == Some("Clients fidèles"))
            },
            EVENT_TIMEOUT,
        )
        .await
        .unwrap();

    admin
        .rename("catalog", &catalog, "Carte d'hiver")
        .await
        .unwrap();
    let checked = app.check_connection(&id).await.unwrap();
    assert_eq!(checked.catalog_name.as_deref(), Some("Carte d'hiver"));
    assert_eq!(
        app.connections().unwrap()[0].catalog_name.as_deref(),
        Some("Carte d'hiver")
    );
}

/// The `+HH:MM` (or `Z`) at the end of an ISO 8601 time.
pub(crate) fn offset_of(time: &str) -> &str {
    if time.ends_with('Z') {
        return "Z";
    }
    &time[time.len() - 6..]
}

#[tokio::test]
async fn confirmed_time_carries_the_location_s_offset() {
    let world = World::start_with(SandboxOptions {
        times_as_sent: true,
        ..Default::default()
    })
    .await;
    let location = world.location_ids()[0].clone();
    let (app, _) = world.open_signed_in().await;
    world.connect_active(&app, &location).await;
    let order_id = world.place_order(&location, "Marie").await;
    app.sync_now().await.unwrap();

    let ready_at = SystemTime::now() + Duration::from_secs(60);
    app.accept(&order_id, Some(ready_at)).await.unwrap();
    app.sync_now().await.unwrap();
    let at_hubrise = world
        .sandbox
        .admin()
        .order(&location, &order_id)
        .await
        .unwrap();
    let confirmed = at_hubrise["confirmed_time"].as_str().unwrap();
    let created = at_hubrise["created_at"].as_str().unwrap();
    // The sandbox writes its own times in the location's timezone (Europe/Paris).
    assert_eq!(
        offset_of(confirmed),
        offset_of(created),
        "{confirmed} vs {created}"
    );
    let parsed =
        time::OffsetDateTime::parse(confirmed, &time::format_description::well_known::Rfc3339)
            .unwrap();
    let wanted = time::OffsetDateTime::from(ready_at);
    assert!(
        (parsed - wanted).abs() < time::Duration::seconds(1),
        "{confirmed}"
    );
}

#[tokio::test]
async fn reading_back_many_open_orders_costs_one_listing_an_interval() {
    // The refresh budget allows half of HubRise's heavy queries, 5 a minute: enough for one
    // listing each 30 s poll, not each 1 s poll. A "minute" of 5 s keeps the proportion.
    let world = World::start_with(SandboxOptions {
        window_scale: Some(Duration::from_secs(5)),
        ..Default::default()
    })
    .await;
    let location = world.location_ids()[0].clone();
    let mut config = world.config();
    config.rate_limits.minute_ms = 5_000;
    let (app, events) = world.open_with(config).await;
    world.sign_in(&app).await;
    world.connect_active(&app, &location).await;
    let other_dir = tempfile::tempdir().unwrap();
    let (sibling, sibling_events) = second_till(&world, &other_dir).await;
    world.connect_active(&sibling, &location).await;
    let mut placed = Vec::new();
    for n in 0..5 {
        placed.push(world.place_order(&location, &format!("Client {n}")).await);
    }
    for id in &placed {
        for recorder in [&events, &sibling_events] {
            recorder
                .wait_for(order_received(id), EVENT_TIMEOUT)
                .await
                .unwrap();
        }
    }
    let admin = world.sandbox.admin();
    let till = admin
        .connections()
        .await
        .into_iter()
        .find(|c| c.device_id.as_deref() == Some(app.device_id().unwrap().as_str()))
        .unwrap();
    let of_this_till = |requests: Vec<passerelle_sandbox::RequestRecord>| -> Vec<_> {
        requests
            .into_iter()
            .filter(|r| {
                r.connection.as_ref().map(|c| c.connection_id.as_str()) == Some(till.id.as_str())
            })
            .collect()
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    admin.reset_requests().await;
    tokio::time::sleep(Duration::from_millis(3_200)).await;
    let requests = of_this_till(admin.requests().await);
    let polls = requests
        .iter()
        .filter(|r| r.path.starts_with("/v1/callback/events"))
        .count();
    let listings = requests
        .iter()
        .filter(|r| r.method == "GET" && r.path == "/v1/location/orders")
        .count();
    assert!(polls >= 2, "{requests:?}");
    assert!(
        listings <= polls + 1 && listings + 1 >= polls,
        "one listing an interval for five open orders: {listings} for {polls} polls"
    );
    assert_eq!(
        requests.len(),
        polls + listings,
        "no order read one by one: {requests:?}"
    );
    assert!(requests.iter().all(|r| r.status != 429));

    // The sibling till accepts one of them: the listing shows the change, and that order alone
    // is read again, whole.
    let mark = events.mark();
    admin.reset_requests().await;
    sibling.accept(&placed[2], None).await.unwrap();
    sibling.sync_now().await.unwrap();
    events
        .wait_for_after(
            mark,
            updated_to(&placed[2], OrderStatus::Accepted),
            Duration::from_secs(3),
        )
        .await
        .unwrap();
    let read_alone: Vec<String> = of_this_till(admin.requests().await)
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.starts_with("/v1/location/orders/"))
        .map(|r| r.path)
        .collect();
    assert_eq!(
        read_alone,
        vec![format!("/v1/location/orders/{}", placed[2])],
        "only the changed order is read on its own"
    );
}

#[tokio::test]
async fn more_open_orders_than_three_pages_hold_are_listed_through_in_several_intervals() {
    // The limits are lifted on both sides: this counts what the read-back asks for, not what
    // fits in a window.
    let world = World::start_with(SandboxOptions {
        limits: passerelle_sandbox::RateLimits::unlimited(),
        ..Default::default()
    })
    .await;
    let location = world.location_ids()[0].clone();
    let mut config = world.config();
    config.rate_limits = RateLimits {
        per_minute: 1_000_000,
        per_hour: 1_000_000,
        per_day: 1_000_000,
        heavy_per_minute: 1_000_000,
        minute_ms: 60_000,
    };
    let (app, events) = world.open_with(config).await;
    world.sign_in(&app).await;
    world.connect_active(&app, &location).await;
    // 350 open orders: the listing, newest first, reaches the 300 newest in three pages.
    let mut placed = Vec::new();
    for n in 0..350 {
        placed.push(world.place_order(&location, &format!("Client {n}")).await);
    }
    for id in &placed {
        events
            .wait_for(order_received(id), EVENT_TIMEOUT)
            .await
            .unwrap();
    }
    let admin = world.sandbox.admin();
    // Every automatic `received` sent (each reads its order first), so only the read-back reads.
    let all_received = async {
        loop {
            let orders = admin.orders(&location).await;
            if orders.iter().all(|o| o["status"] == "received") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(EVENT_TIMEOUT, all_received)
        .await
        .unwrap();
    app.sync_now().await.unwrap();

    // Another app accepts the oldest, which only a fourth page lists.
    admin.reset_requests().await;
    let mark = events.mark();
    admin
        .update_order_as_other_app(&location, &placed[0], json!({"status": "accepted"}))
        .await
        .unwrap();
    let interval = Duration::from_secs(u64::from(POLL_INTERVAL_SECS));
    events
        .wait_for_after(
            mark,
            updated_to(&placed[0], OrderStatus::Accepted),
            interval * 4,
        )
        .await
        .unwrap();
    tokio::time::sleep(interval * 3).await;
    let requests = admin.requests().await;
    let read_alone: Vec<&str> = requests
        .iter()
        .filter(|r| r.method == "GET" && r.path.starts_with("/v1/location/orders/"))
        .map(|r| r.path.as_str())
        .collect();
    assert_eq!(
        read_alone,
        vec![format!("/v1/location/orders/{}", placed[0])],
        "an open order past the third page is listed by a later read-back, not read on its own \
         at each one; only the changed order is read"
    );
    let listings = requests
        .iter()
        .filter(|r| r.method == "GET" && r.path == "/v1/location/orders")
        .count();
    let polls = requests
        .iter()
        .filter(|r| r.path.starts_with("/v1/callback/events"))
        .count();
    assert!(
        listings <= 3 * (polls + 1),
        "at most three pages a read-back: {listings} listings for {polls} polls"
    );
}

#[tokio::test]
async fn back_in_the_foreground_a_till_reads_its_open_orders_at_once() {
    let world = World::start().await;
    let location = world.location_ids()[0].clone();
    let (first, _) = world.open_signed_in().await;
    world.connect_active(&first, &location).await;
    let other_dir = tempfile::tempdir().unwrap();
    let (second, second_events) = second_till(&world, &other_dir).await;
    world.connect_active(&second, &location).await;
    let order_id = world.place_order(&location, "Marie").await;
    second_events
        .wait_for(order_received(&order_id), EVENT_TIMEOUT)
        .await
        .unwrap();
    // Its automatic `received` (read from HubRise first) is done before it leaves.
    second.sync_now().await.unwrap();

    second.app_did_enter_background().unwrap();
    first.sync_now().await.unwrap();
    first.accept(&order_id, None).await.unwrap();
    first.sync_now().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(
        second.order(&order_id).unwrap().unwrap().status,
        OrderStatus::Received,
        "nothing read in the background"
    );
    let mark = second_events.mark();
    second.app_will_enter_foreground().unwrap();
    second_events
        .wait_for_after(
            mark,
            updated_to(&order_id, OrderStatus::Accepted),
            Duration::from_secs(1),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn hubrise_shows_a_readable_device_label_that_never_changes_once_used() {
    let world = World::start().await;
    let location = world.location_ids()[0].clone();
    let mut config = world.config();
    config.device_label = Some("Caisse 1 — iPad de Bella".into());
    // Before anything is sent to HubRise, a new label still renames the device.
    let (app, _) = world.open_with(config.clone()).await;
    let first_id = app.device_id().unwrap();
    drop(app);
    config.device_label = Some("Caisse 2 — iPad de Bella".into());
    let (app, _) = world.open_with(config.clone()).await;
    let device_id = app.device_id().unwrap();
    assert_ne!(device_id, first_id, "not used yet: follows the label");
    let (label, suffix) = device_id.rsplit_once('-').unwrap();
    assert_eq!(label, "Caisse-2-iPad-de-Bella");
    assert_eq!(suffix.len(), 4);
    assert!(suffix.chars().all(|c| c.is_ascii_alphanumeric()));

    world.sign_in(&app).await;
    world.connect_active(&app, &location).await;
    let at_hubrise = world
        .sandbox
        .admin()
        .connections()
        .await
        .into_iter()
        .find(|c| c.location_id.as_deref() == Some(location.as_str()))
        .unwrap();
    assert_eq!(at_hubrise.device_id.as_deref(), Some(device_id.as_str()));
    drop(app);

    // Once sent to HubRise it stays, whatever label the host gives later.
    config.device_label = Some("Comptoir".into());
    let (app, _) = world.open_with(config).await;
    assert_eq!(app.device_id().unwrap(), device_id);
}

/// The strict reading of HubRise's redirect URIs: https (or out of band) only.
async fn https_only_world() -> World {
    World::start_with(SandboxOptions {
        https_redirects_only: true,
        ..Default::default()
    })
    .await
}

/// Follows HubRise's redirect to the POS backend (as the browser would) and returns where the
/// backend sends the browser next.
async fn through_the_backend(hubrise_redirect: &str) -> String {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = client.get(hubrise_redirect).send().await.unwrap();
    assert_eq!(answer.status(), 303, "the backend kept the code");
    answer.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn without_custom_schemes_a_till_asks_the_backend_for_the_code() {
    let world = https_only_world().await;
    let location = world.location_ids()[0].clone();
    let (app, _) = world.open_signed_in().await;

    // The app's custom scheme is refused by the strict reading.
    let refused = passerelle_sandbox::drivers::consent::approve(
        &app.begin_hubrise_connection(Default::default())
            .unwrap()
            .authorize_url,
        &world.choice(&location),
    )
    .await;
    assert!(refused.is_err(), "{refused:?}");

    let attempt = app
        .begin_hubrise_connection_via_pos_backend(Default::default())
        .await
        .unwrap();
    let pos = url::Url::parse(&world.pos_url()).unwrap();
    assert_eq!(attempt.callback_url_scheme, None);
    assert_eq!(attempt.callback_https_host.as_deref(), pos.host_str());
    assert_eq!(
        attempt.callback_https_path.as_deref(),
        Some("/hubrise/device-return")
    );
    assert_eq!(
        app.complete_hubrise_connection_via_pos_backend(&attempt.state)
            .await
            .unwrap(),
        None,
        "nothing yet: the restaurant is on HubRise's page"
    );

    // The restaurant approves on another device (a phone that opened a QR code).
    let redirect = passerelle_sandbox::drivers::consent::approve(
        &attempt.authorize_url,
        &world.choice(&location),
    )
    .await
    .unwrap();
    assert!(redirect.starts_with(&format!("{}/hubrise/device-callback?", world.pos_url())));
    let back = through_the_backend(&redirect).await;
    assert!(
        !back.contains("code="),
        "the code stays at the backend: {back}"
    );

    let connection = app
        .complete_hubrise_connection_via_pos_backend(&attempt.state)
        .await
        .unwrap()
        .expect("HubRise answered");
    assert_eq!(connection.location_id, location);
    let again = app
        .complete_hubrise_connection_via_pos_backend(&attempt.state)
        .await
        .unwrap_err();
    assert_eq!(again, PasserelleError::StateReplayed);
    app.restart().await.unwrap();
    let order_id = world.place_order(&location, "Marie").await;
    app.sync_now().await.unwrap();
    assert!(app.order(&order_id).unwrap().is_some());
}

#[tokio::test]
async fn without_custom_schemes_the_backend_s_universal_link_completes_the_connection() {
    let world = https_only_world().await;
    let location = world.location_ids()[0].clone();
    let (app, _) = world.open_signed_in().await;
    let attempt = app
        .begin_hubrise_connection_via_pos_backend(Default::default())
        .await
        .unwrap();
    let redirect = passerelle_sandbox::drivers::consent::approve(
        &attempt.authorize_url,
        &world.choice(&location),
    )
    .await
    .unwrap();
    let universal_link = through_the_backend(&redirect).await;
    match app.handle_open_url(&universal_link).await.unwrap() {
        passerelle_core::OpenUrlOutcome::Connected { connection } => {
            assert_eq!(connection.location_id, location)
        }
        other => panic!("{other:?}"),
    }

    // A refusal on HubRise's page reaches the till the same way.
    let attempt = app
        .begin_hubrise_connection_via_pos_backend(Default::default())
        .await
        .unwrap();
    let denied = passerelle_sandbox::drivers::consent::deny(
        &attempt.authorize_url,
        &world.choice(&world.location_ids()[1]),
    )
    .await
    .unwrap();
    let universal_link = through_the_backend(&denied).await;
    assert_eq!(
        app.handle_open_url(&universal_link).await.unwrap_err(),
        PasserelleError::AccessDenied
    );
}

#[tokio::test]
async fn without_custom_schemes_the_pasted_code_still_works() {
    let world = https_only_world().await;
    let location = world.location_ids()[0].clone();
    let (app, _) = world.open_signed_in().await;
    let attempt = app
        .begin_hubrise_connection(passerelle_core::HubriseConnectionOptions {
            out_of_band: true,
            ..Default::default()
        })
        .unwrap();
    let code = passerelle_sandbox::drivers::consent::approve(
        &attempt.authorize_url,
        &world.choice(&location),
    )
    .await
    .unwrap();
    let connection = app
        .complete_hubrise_connection_with_code(&code, &attempt.state)
        .await
        .unwrap();
    assert_eq!(connection.location_id, location);
}
