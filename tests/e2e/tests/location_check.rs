//! Issue 27, scenario 8: the off-device location check checks something. The device asks HubRise
//! (`GET /location`) which location a handed-over token is bound to before it routes anything,
//! whether or not the backend's answer names one; a token for another location is refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use passerelle_core::{ConnectionState, HubriseConnection, Passerelle};
use passerelle_sandbox::drivers::back_office::connect_on_the_web;
use passerelle_sandbox::{SandboxOptions, TokenHandOver};
use passerelle_test_support::{EVENT_TIMEOUT, World, order_received};

/// Paris and Lyon connected in the POS vendor's web back office, the backend's hand-over of
/// Paris's token switched to `hand_over`, then the restart that shows both as pending. Returns
/// Paris's pending connection.
async fn paris_and_lyon_off_the_device(
    world: &World,
    app: &Passerelle,
    hand_over: TokenHandOver,
) -> HubriseConnection {
    let pos = world.sandbox.seed().pos_account().clone();
    let paris = world.location_ids()[0].clone();
    for location in world.location_ids().iter().take(2) {
        connect_on_the_web(
            &world.pos_url(),
            &pos.email,
            &pos.password,
            &world.choice(location),
        )
        .await
        .unwrap();
    }
    world
        .sandbox
        .admin()
        .pos_token_hand_over(&paris, hand_over)
        .await;
    app.restart().await.unwrap();
    app.connections()
        .unwrap()
        .into_iter()
        .find(|c| c.location_id == paris)
        .expect("Paris waits for its confirmation")
}

/// The backend hands over Lyon's token for Paris (as `hand_over` says, with Lyon's token): the
/// confirmation is refused, typed, Paris never goes active, and Lyon's order is not routed.
async fn lyons_token_for_paris_is_refused_and_routes_nothing(omit_location_id: bool) {
    // The fake backend's hand-over switch (Admin::pos_token_hand_over): on the fake in both passes.
    let world = World::start_on_the_fake(SandboxOptions::default()).await;
    let (app, events) = world.open_signed_in().await;
    let lyon = world.location_ids()[1].clone();
    let hand_over = TokenHandOver {
        omit_location_id,
        token_of_location: Some(lyon.clone()),
    };
    let paris = paris_and_lyon_off_the_device(&world, &app, hand_over).await;

    let err = app.confirm_connection(&paris.id).await.unwrap_err();
    assert_eq!(err.code(), "connection_mismatch", "{err:?}");
    // Lyon's orders are what Paris's connection would have routed with Lyon's token.
    let order_id = world.place_order(&lyon, "Paul").await;
    let routed = events
        .wait_for(order_received(&order_id), EVENT_TIMEOUT)
        .await;
    assert!(
        routed.is_err(),
        "an order of another location was routed through Paris's connection"
    );
    assert!(
        app.connections()
            .unwrap()
            .iter()
            .all(|c| c.state != ConnectionState::Active),
        "refused, nothing active"
    );
}

#[tokio::test]
async fn a_token_for_another_location_without_location_id_is_refused_and_routes_nothing() {
    lyons_token_for_paris_is_refused_and_routes_nothing(true).await;
}

/// The stricter reading: the backend's answer names the shown location, but the token is bound
/// to another one. HubRise, not the backend, says which.
#[tokio::test]
async fn a_token_for_another_location_claimed_as_the_shown_one_is_refused_and_routes_nothing() {
    lyons_token_for_paris_is_refused_and_routes_nothing(false).await;
}

#[tokio::test]
async fn a_token_without_location_id_for_the_shown_location_is_confirmed_by_hubrise() {
    // The fake backend's hand-over switch (Admin::pos_token_hand_over): on the fake in both passes.
    let world = World::start_on_the_fake(SandboxOptions::default()).await;
    let (app, events) = world.open_signed_in().await;
    let hand_over = TokenHandOver {
        omit_location_id: true,
        token_of_location: None,
    };
    let paris = paris_and_lyon_off_the_device(&world, &app, hand_over).await;

    let confirmed = app.confirm_connection(&paris.id).await.unwrap();
    assert_eq!(confirmed.state, ConnectionState::Active);
    let order_id = world.place_order(&paris.location_id, "Marie").await;
    events
        .wait_for(order_received(&order_id), EVENT_TIMEOUT)
        .await
        .unwrap();
}
