//! The POS session over years of service (issue 18): a refresh is never cut off halfway, a
//! refused access token is refreshed once and the call retried, and a session that is over says
//! "sign in again" while HubRise's orders keep flowing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use passerelle_core::{ConnectionState, PasserelleError, PasserelleEvent, SignOutMode};
use passerelle_sandbox::{Fault, SandboxOptions, ServerKind};
use passerelle_test_support::{World, order_received};

#[tokio::test]
async fn a_refresh_cut_off_by_the_reload_timeout_still_saves_the_rotated_session() {
    // An access token that always needs a refresh (the client refreshes 30 s before expiry).
    let world = World::start_with(SandboxOptions {
        pos_access_token_ttl: Duration::from_secs(10),
        ..SandboxOptions::default()
    })
    .await;
    let (app, _events) = world.open_signed_in().await;
    // The backend rotates the refresh token at once but its answer takes longer than the 5 s
    // the reload at `restart()` waits for.
    world
        .sandbox
        .admin()
        .inject_fault(
            Fault::slow_answer("/oauth/token", Duration::from_secs(7), 1)
                .on_server(ServerKind::Pos),
        )
        .await;
    app.restart().await.unwrap();
    assert!(
        !app.backend_status().unwrap().reachable,
        "the reload gave up after its timeout"
    );

    // The refresh ran to completion: the next reload uses the saved, rotated session.
    app.restart().await.unwrap();
    let status = app.backend_status().unwrap();
    assert!(
        status.reachable,
        "session lost by a cut refresh: {status:?}"
    );
    assert!(!status.sign_in_required);
}

#[tokio::test]
async fn a_refused_access_token_is_refreshed_once_and_the_call_retried() {
    let world = World::start().await;
    let (app, events) = world.open_signed_in().await;
    let admin = world.sandbox.admin();
    // The backend ends the access token before its announced expiry.
    world.expire_pos_access_tokens().await;
    admin.reset_requests().await;

    app.restart().await.unwrap();

    let status = app.backend_status().unwrap();
    assert!(status.reachable, "{status:?}");
    assert_eq!(admin.count_requests("POST", "/oauth/token").await, 1);
    assert_eq!(
        admin.count_requests("GET", "/hubrise/configuration").await,
        2,
        "refused once, retried once"
    );
    assert_eq!(
        events.count(|e| matches!(e, PasserelleEvent::SessionExpired)),
        0
    );
}

#[tokio::test]
async fn a_lost_session_says_sign_in_again_and_orders_keep_flowing() {
    let world = World::start().await;
    let (app, events) = world.open_signed_in().await;
    let location = world.location_ids()[0].clone();
    world.connect_active(&app, &location).await;
    world.end_pos_sessions().await;

    app.restart().await.unwrap();

    let status = app.backend_status().unwrap();
    assert!(status.sign_in_required, "{status:?}");
    events
        .wait_for(
            |e| matches!(e, PasserelleEvent::SessionExpired),
            Duration::from_secs(5),
        )
        .await
        .expect("SessionExpired announced");
    assert!(matches!(
        app.begin_hubrise_connection_via_pos_backend(Default::default())
            .await,
        Err(PasserelleError::SessionExpired)
    ));
    // The HubRise connection does not need the POS session.
    let order_id = world.place_order(&location, "Albertine").await;
    events
        .wait_for(order_received(&order_id), Duration::from_secs(10))
        .await
        .expect("the order arrives without the POS session");

    // Signing in again ends it.
    world.sign_in(&app).await;
    app.restart().await.unwrap();
    assert!(!app.backend_status().unwrap().sign_in_required);
}

#[tokio::test]
async fn signing_out_and_in_again_keeps_the_connections_syncing() {
    let world = World::start().await;
    let (app, events) = world.open_signed_in().await;
    let location = world.location_ids()[0].clone();
    let connection = world.connect_active(&app, &location).await;

    let outcome = app.sign_out(SignOutMode::KeepConnections).await.unwrap();
    assert!(outcome.disconnected.is_empty());
    assert!(
        app.connections().unwrap().is_empty(),
        "scoped to the account"
    );
    world.sign_in(&app).await;

    let back = app.connections().unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].id, connection);
    assert_eq!(back[0].state, ConnectionState::Active);
    assert!(!back[0].reconnect_needed, "its token was kept: {back:?}");
    let order_id = world.place_order(&location, "Bastien").await;
    events
        .wait_for(order_received(&order_id), Duration::from_secs(10))
        .await
        .expect("orders flow again without reconnecting");
}

#[tokio::test]
async fn signing_out_with_disconnect_revokes_and_removes_every_connection() {
    let world = World::start().await;
    let (app, _events) = world.open_signed_in().await;
    let locations = world.location_ids();
    world.connect_active(&app, &locations[0]).await;
    world.connect_active(&app, &locations[1]).await;

    let outcome = app
        .sign_out(SignOutMode::DisconnectConnections)
        .await
        .unwrap();
    assert_eq!(outcome.disconnected.len(), 2);
    assert!(
        outcome.disconnected.iter().all(|d| d.revoked),
        "{outcome:?}"
    );
    let live_at_hubrise = world
        .sandbox
        .admin()
        .connections()
        .await
        .into_iter()
        .filter(|c| c.state == passerelle_sandbox::ConnectionState::Active)
        .count();
    assert_eq!(live_at_hubrise, 0, "revoked at HubRise");
    assert!(
        world.account_secrets().is_empty(),
        "{:?}",
        world.account_secrets()
    );

    world.sign_in(&app).await;
    let left = app.connections().unwrap();
    assert!(
        left.iter().all(|c| c.state == ConnectionState::Removed),
        "none looks active without a token: {left:?}"
    );
}
