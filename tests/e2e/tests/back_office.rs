//! The POS backend as the Delivera-style intermediary: connections made off the iPad (the POS
//! vendor's web back office, HubRise's back office) reach the app when it restarts, wait for the
//! host's confirmation, and then receive orders; back-office disconnects; backend down at
//! restart; two devices on one location.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use passerelle_core::{
    ConnectionOrigin, ConnectionState, InMemorySecretStore, OrderFilter, PasserelleEvent,
};
use passerelle_sandbox::Fault;
use passerelle_sandbox::drivers::browser::{Browser, require_browser};
use passerelle_test_support::{EVENT_TIMEOUT, EventRecorder, World, config_for, order_received};

/// The restaurant, in a real browser, signs in to the POS vendor's back office with its POS
/// credentials, clicks Connect and approves on HubRise's consent page.
async fn connect_in_the_web_back_office(world: &World, location_id: &str) -> Browser {
    let sandbox = &world.sandbox;
    let pos = sandbox.seed().pos_account().clone();
    let user = sandbox.seed().user().clone();
    let b = Browser::start().await.unwrap();
    b.goto(&format!("{}/backoffice", world.pos_url()))
        .await
        .unwrap();
    b.fill("#email", &pos.email).await.unwrap();
    b.fill("#password", &pos.password).await.unwrap();
    b.click("#sign-in").await.unwrap();
    b.click("#connect").await.unwrap();
    b.text("#consent-form").await.unwrap();
    b.fill("#email", &user.email).await.unwrap();
    b.fill("#password", &user.password).await.unwrap();
    b.click("#sign-in").await.unwrap();
    b.choose("#location_id", location_id).await.unwrap();
    b.click("#next").await.unwrap();
    b.text("#catalog_id").await.unwrap();
    b.click("#next").await.unwrap();
    b.click("#allow").await.unwrap();
    // Back on the back office once the connection is recorded.
    b.text(&format!("#location-{location_id}")).await.unwrap();
    b
}

#[tokio::test]
async fn the_delivera_story_connect_in_the_web_back_office_then_restart_and_confirm() {
    if !require_browser().unwrap() {
        return;
    }
    let world = World::start().await;
    let (app, events) = world.open_signed_in().await;
    let location = world.location_ids()[0].clone();

    let b = connect_in_the_web_back_office(&world, &location).await;
    let shown = b.text(&format!("#location-{location}")).await.unwrap();
    b.close().await.unwrap();
    assert!(
        shown.contains(&location),
        "the back office shows the names and ids: {shown}"
    );

    // "Restart the app on your iPad to apply the changes."
    app.restart().await.unwrap();
    let pending = app.connections().unwrap();
    assert_eq!(pending.len(), 1);
    let connection = &pending[0];
    assert_eq!(connection.origin, ConnectionOrigin::PosBackOffice);
    assert_eq!(
        (connection.state, connection.needs_confirmation),
        (ConnectionState::Pending, true)
    );
    assert!(connection.location_name.is_some() && connection.catalog_name.is_some());
    assert!(
        !world
            .secrets
            .keys()
            .iter()
            .any(|k| k.contains(&connection.id)),
        "no token before the confirmation"
    );
    assert!(
        !app.restart_required().unwrap(),
        "waiting for the host, not for a restart"
    );

    let confirmed = app.confirm_connection(&connection.id).await.unwrap();
    assert_eq!(
        (confirmed.state, confirmed.needs_confirmation),
        (ConnectionState::Active, false)
    );
    let order_id = world.place_order(&location, "Marie").await;
    events
        .wait_for(order_received(&order_id), EVENT_TIMEOUT)
        .await
        .unwrap();
}

#[tokio::test]
async fn connect_from_hubrise_s_back_office_then_restart_confirm_active() {
    if !require_browser().unwrap() {
        return;
    }
    let world = World::start().await;
    let (app, _) = world.open_signed_in().await;
    let seed = world.sandbox.seed();
    let location = world.location_ids()[1].clone();

    // HubRise's back office: CONNECTIONS → Connect ends on the app's Connect URL (a code, no
    // state), opened in a browser where nobody is signed in to the POS back office yet.
    let connect_url = world
        .sandbox
        .admin()
        .back_office_connect(&seed.client_id, &location, &seed.user().email)
        .await
        .unwrap();
    assert!(connect_url.contains("code=") && !connect_url.contains("state="));
    let b = Browser::start().await.unwrap();
    b.goto(&connect_url).await.unwrap();
    b.fill("#email", &seed.pos_account().email).await.unwrap();
    b.fill("#password", &seed.pos_account().password)
        .await
        .unwrap();
    b.click("#sign-in").await.unwrap();
    b.text(&format!("#location-{location}")).await.unwrap();
    b.close().await.unwrap();

    app.restart().await.unwrap();
    let connection = app.connections().unwrap().pop().unwrap();
    assert_eq!(connection.origin, ConnectionOrigin::HubriseBackOffice);
    assert!(connection.needs_confirmation);
    app.confirm_connection(&connection.id).await.unwrap();
    assert_eq!(app.connections().unwrap()[0].state, ConnectionState::Active);
    assert!(
        !app.check_connection(&connection.id)
            .await
            .unwrap()
            .reconnect_needed
    );
}

#[tokio::test]
async fn a_refused_off_device_connection_never_routes_orders() {
    if !require_browser().unwrap() {
        return;
    }
    let world = World::start().await;
    let (app, _) = world.open_signed_in().await;
    let location = world.location_ids()[0].clone();
    connect_in_the_web_back_office(&world, &location)
        .await
        .close()
        .await
        .unwrap();
    app.restart().await.unwrap();
    let connection = app.connections().unwrap().pop().unwrap();

    let refused = app.refuse_connection(&connection.id).await.unwrap();
    assert_eq!(refused.state, ConnectionState::Removed);
    assert!(app.connections().unwrap().is_empty());
    let err = app.confirm_connection(&connection.id).await.unwrap_err();
    assert_eq!(err.code(), "invalid_state");
    app.restart().await.unwrap();
    assert!(
        app.connections().unwrap().is_empty(),
        "the backend forgot it too"
    );
}

#[tokio::test]
async fn a_back_office_disconnect_shows_reconnect_needed_then_the_restart_removes_it() {
    let world = World::start().await;
    let (app, events) = world.open_signed_in().await;
    let location = world.location_ids()[0].clone();
    let id = world.connect_active(&app, &location).await;

    // HubRise's back office: Disconnect blocks the token and calls the Disconnect callback URL.
    world
        .sandbox
        .admin()
        .disconnect_connection(&location)
        .await
        .unwrap();
    let checked = app.check_connection(&id).await.unwrap();
    assert!(checked.reconnect_needed, "a 401 before the next restart");
    events
        .wait_for(
            |e| matches!(e, PasserelleEvent::ReconnectNeeded { .. }),
            EVENT_TIMEOUT,
        )
        .await
        .unwrap();

    app.restart().await.unwrap();
    assert!(
        app.connections().unwrap().is_empty(),
        "the restart removed it"
    );
}

#[tokio::test]
async fn the_backend_down_at_restart_keeps_the_last_configuration() {
    let world = World::start().await;
    let (app, events) = world.open_signed_in().await;
    let location = world.location_ids()[0].clone();
    world.connect_active(&app, &location).await;
    assert!(app.backend_status().unwrap().reachable);

    world
        .sandbox
        .admin()
        .inject_fault(Fault::status("/hubrise/configuration", 503, 1))
        .await;
    app.restart().await.unwrap();
    let status = app.backend_status().unwrap();
    assert!(!status.reachable);
    assert!(status.last_error.is_some() && status.last_reloaded_at.is_some());
    events
        .wait_for(
            |e| matches!(e, PasserelleEvent::BackendUnavailable { .. }),
            EVENT_TIMEOUT,
        )
        .await
        .unwrap();
    let connections = app.connections().unwrap();
    assert_eq!(connections.len(), 1);
    assert_eq!(
        connections[0].state,
        ConnectionState::Active,
        "nothing dropped"
    );

    // sync_now retries the reload.
    app.sync_now().await.unwrap();
    assert!(app.backend_status().unwrap().reachable);
    let order_id = world.place_order(&location, "Marie").await;
    app.sync_now().await.unwrap();
    assert!(app.order(&order_id).unwrap().is_some());
}

#[tokio::test]
async fn an_unchanged_configuration_costs_one_conditional_request() {
    let world = World::start().await;
    let (app, _) = world.open_signed_in().await;
    world.connect_active(&app, &world.location_ids()[0]).await;
    app.restart().await.unwrap();
    let admin = world.sandbox.admin();
    admin.reset_requests().await;
    app.restart().await.unwrap();
    let requests: Vec<_> = admin
        .requests()
        .await
        .into_iter()
        .filter(|r| r.path == "/hubrise/configuration")
        .collect();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].status, 304);
}

#[tokio::test]
async fn two_devices_on_one_location_get_their_own_tokens_and_events() {
    let world = World::start().await;
    let location = world.location_ids()[0].clone();
    let (first, first_events) = world.open().await;
    world.sign_in(&first).await;
    world.connect_active(&first, &location).await;

    let other_dir = tempfile::tempdir().unwrap();
    let second_events = Arc::new(EventRecorder::new());
    let second = passerelle_core::Passerelle::open(
        config_for(&world, other_dir.path()),
        Arc::new(InMemorySecretStore::new()),
        second_events.clone(),
    )
    .await
    .unwrap();
    world.sign_in(&second).await;
    world.connect_active(&second, &location).await;
    assert_ne!(first.device_id().unwrap(), second.device_id().unwrap());

    let hubrise_side = world.sandbox.admin().connections().await;
    let on_location: Vec<_> = hubrise_side
        .iter()
        .filter(|c| c.location_id.as_deref() == Some(location.as_str()))
        .collect();
    assert_eq!(on_location.len(), 2, "one connection (token) per device");
    assert_ne!(
        on_location[0].token_fingerprint,
        on_location[1].token_fingerprint
    );

    let order_id = world.place_order(&location, "Marie").await;
    for events in [&first_events, &second_events] {
        events
            .wait_for(order_received(&order_id), EVENT_TIMEOUT)
            .await
            .unwrap();
    }
    // Each device's own changes reach HubRise. HubRise sends the other device no event for them
    // (a client never hears its own writes), but it reads its open orders back.
    first.accept(&order_id, None).await.unwrap();
    first.sync_now().await.unwrap();
    second_events
        .wait_for(
            |e| {
                matches!(e, PasserelleEvent::OrderUpdated { order }
                if order.id == order_id && order.status == passerelle_core::OrderStatus::Accepted)
            },
            EVENT_TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(
        second.orders(OrderFilter::default()).unwrap()[0].status,
        passerelle_core::OrderStatus::Accepted
    );
}

#[tokio::test]
async fn the_configuration_never_carries_a_token() {
    // Reads the fake backend's store (Admin::pos_connections): on the fake in both passes (the
    // bridge's store is checked by bridge/tests/storage.rs).
    let world = World::start_on_the_fake(passerelle_sandbox::SandboxOptions::default()).await;
    let (app, _) = world.open_signed_in().await;
    world.connect_active(&app, &world.location_ids()[0]).await;
    let connections = world
        .sandbox
        .admin()
        .pos_connections(&world.sandbox.seed().pos_account().account_id)
        .await;
    assert!(!connections.is_empty());
    assert!(
        !serde_json::to_string(&connections)
            .unwrap()
            .contains("access_token")
    );
}

#[tokio::test]
async fn the_delivera_story_over_http_for_hosts_without_a_browser() {
    let world = World::start().await;
    let (app, _) = world.open_signed_in().await;
    let seed = world.sandbox.seed();
    let pos = seed.pos_account();
    let location = world.location_ids()[1].clone();
    passerelle_sandbox::drivers::back_office::connect_on_the_web(
        &world.pos_url(),
        &pos.email,
        &pos.password,
        &world.choice(&location),
    )
    .await
    .unwrap();
    let other = world.location_ids()[0].clone();
    let connect_url = world
        .sandbox
        .admin()
        .back_office_connect(&seed.client_id, &other, &seed.user().email)
        .await
        .unwrap();
    passerelle_sandbox::drivers::back_office::open_connect_url(
        &connect_url,
        &world.pos_url(),
        &pos.email,
        &pos.password,
    )
    .await
    .unwrap();

    app.restart().await.unwrap();
    let mut origins: Vec<ConnectionOrigin> = app
        .connections()
        .unwrap()
        .iter()
        .map(|c| c.origin)
        .collect();
    origins.sort_by_key(|o| format!("{o:?}"));
    assert_eq!(
        origins,
        vec![
            ConnectionOrigin::HubriseBackOffice,
            ConnectionOrigin::PosBackOffice
        ]
    );
    for connection in app.connections().unwrap() {
        app.confirm_connection(&connection.id).await.unwrap();
    }
    assert!(
        app.connections()
            .unwrap()
            .iter()
            .all(|c| c.state == ConnectionState::Active)
    );
}

/// Connects `location_id` off the device, as the restaurant would in the POS vendor's web back
/// office (web) or from HubRise's back office (`from_hubrise`), over HTTP.
async fn connect_off_the_device(world: &World, location_id: &str, from_hubrise: bool) {
    let seed = world.sandbox.seed();
    let pos = seed.pos_account();
    if from_hubrise {
        let connect_url = world
            .sandbox
            .admin()
            .back_office_connect(&seed.client_id, location_id, &seed.user().email)
            .await
            .unwrap();
        passerelle_sandbox::drivers::back_office::open_connect_url(
            &connect_url,
            &world.pos_url(),
            &pos.email,
            &pos.password,
        )
        .await
        .unwrap();
    } else {
        passerelle_sandbox::drivers::back_office::connect_on_the_web(
            &world.pos_url(),
            &pos.email,
            &pos.password,
            &world.choice(location_id),
        )
        .await
        .unwrap();
    }
}

/// Decision 19 with the backend doing its part: the orders placed between a connection made
/// off the device and the iPad's confirmation (before the restart that shows it, and while it
/// waits for the restaurant) were queued at HubRise, and arrive once it is confirmed.
#[tokio::test]
async fn orders_placed_before_the_confirmation_arrive_after_it() {
    let world = World::start().await;
    let (app, events) = world.open_signed_in().await;
    let paris = world.location_ids()[0].clone();
    let lyon = world.location_ids()[1].clone();
    connect_off_the_device(&world, &paris, false).await;
    connect_off_the_device(&world, &lyon, true).await;
    let before_restart = [
        world.place_order(&paris, "Marie").await,
        world.place_order(&lyon, "Paul").await,
    ];
    app.restart().await.unwrap();
    let waiting = [
        world.place_order(&paris, "Jeanne").await,
        world.place_order(&lyon, "Louis").await,
    ];
    let queued: Vec<usize> = world
        .sandbox
        .admin()
        .connections()
        .await
        .iter()
        .map(|c| c.pending_events)
        .collect();
    assert_eq!(
        queued,
        [2, 2],
        "HubRise queued them: the backend registered the callback"
    );
    for connection in app.connections().unwrap() {
        assert!(connection.needs_confirmation);
        app.confirm_connection(&connection.id).await.unwrap();
    }
    for order_id in before_restart.iter().chain(&waiting) {
        events
            .wait_for(order_received(order_id), EVENT_TIMEOUT)
            .await
            .unwrap_or_else(|e| panic!("{order_id} placed before the confirmation: {e:?}"));
    }
}

/// Decision 19, the device's part: even when no event brings them (a backend that does not
/// register the callback, here the sandbox's switch), the orders placed since HubRise made the
/// connection arrive after the confirmation, because it catches up from `connected_at` minus a
/// margin, not from when the iPad first saw the connection.
#[tokio::test]
async fn orders_placed_before_the_confirmation_arrive_by_the_catch_up_from_connected_at() {
    let world = World::start_with(passerelle_sandbox::SandboxOptions {
        backend_registers_callback: false,
        ..Default::default()
    })
    .await;
    let (app, events) = world.open_signed_in().await;
    let paris = world.location_ids()[0].clone();
    connect_off_the_device(&world, &paris, true).await;
    // HubRise made the connection ten minutes ago, and an order came eight minutes ago: more
    // than the catch-up's margin (5 minutes) before the iPad sees the connection, so only a
    // catch-up from `connected_at` finds it.
    let admin = world.sandbox.admin();
    admin
        .backdate_connections(&paris, Duration::from_secs(10 * 60))
        .await
        .unwrap();
    let before_restart = world.place_order(&paris, "Marie").await;
    admin
        .backdate_order(&before_restart, Duration::from_secs(8 * 60))
        .await
        .unwrap();
    app.restart().await.unwrap();
    let waiting = world.place_order(&paris, "Jeanne").await;
    let connection = app.connections().unwrap().pop().unwrap();
    assert!(connection.needs_confirmation);
    assert_eq!(
        world.sandbox.admin().connections().await[0].pending_events,
        0,
        "no event at HubRise: only a catch-up can find them"
    );
    app.confirm_connection(&connection.id).await.unwrap();
    for order_id in [&before_restart, &waiting] {
        events
            .wait_for(order_received(order_id), EVENT_TIMEOUT)
            .await
            .unwrap_or_else(|e| panic!("{order_id} placed before the confirmation: {e:?}"));
    }
}
