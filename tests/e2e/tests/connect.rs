//! Sign in with the POS account, connect HubRise locations, status, check and disconnect,
//! against the sandbox, with the test playing the restaurant on the consent page.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use passerelle_core::{
    ConnectionState, HubriseConnectionOptions, OpenUrlOutcome, PasserelleError, PasserelleEvent,
    SignOutMode, TokenExchange,
};
use passerelle_sandbox::SandboxOptions;
use passerelle_sandbox::drivers::consent;
use passerelle_test_support::{EVENT_TIMEOUT, World, order_received};

#[tokio::test]
async fn happy_path_connect_restart_active() {
    let world = World::start().await;
    let (app, events) = world.open_signed_in().await;
    let paris = &world.sandbox.seed().location().id;

    let connection = world.connect(&app, paris).await;
    assert_eq!(connection.state, ConnectionState::Pending);
    assert_eq!(connection.location_id, *paris);
    assert!(connection.location_name.is_some() && connection.account_name.is_some());
    assert!(connection.catalog_id.is_some() && connection.catalog_name.is_some());
    assert!(connection.customer_list_id.is_some() && connection.customer_list_name.is_some());
    assert!(app.restart_required().unwrap());
    events
        .wait_for(
            |e| matches!(e, PasserelleEvent::RestartRequired { .. }),
            EVENT_TIMEOUT,
        )
        .await
        .unwrap();

    app.restart().await.unwrap();
    let active = app.connections().unwrap();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].state, ConnectionState::Active);
    assert!(!app.restart_required().unwrap());

    // The token lives in the secret store only, and works at HubRise.
    let checked = app.check_connection(&active[0].id).await.unwrap();
    assert!(!checked.reconnect_needed);
    assert!(
        world
            .secrets
            .keys()
            .iter()
            .any(|k| k.ends_with("/access_token"))
    );
    // Registered once (decision 7: at the exchange; see
    // `the_callback_registered_at_the_exchange_queues_orders_until_the_restart`).
    assert_eq!(
        world
            .sandbox
            .admin()
            .count_requests("POST", "/v1/callback")
            .await,
        1
    );
}

/// Decision 7: the passive callback is registered right after the token exchange, while the
/// connection still waits for the restart, so HubRise queues the orders placed meanwhile and
/// they arrive through their events. (Without the early registration the engine would register
/// it only after the restart: nothing queued before, as this test would show.)
#[tokio::test]
async fn the_callback_registered_at_the_exchange_queues_orders_until_the_restart() {
    let world = World::start().await;
    let (app, events) = world.open_signed_in().await;
    let paris = world.location_ids()[0].clone();
    let admin = world.sandbox.admin();
    admin.reset_requests().await;

    let connection = world.connect(&app, &paris).await;
    assert_eq!(
        connection.state,
        ConnectionState::Pending,
        "no engine for it yet"
    );
    let at_hubrise = admin
        .connections()
        .await
        .into_iter()
        .find(|c| {
            c.location_id.as_deref() == Some(paris.as_str())
                && c.state == passerelle_sandbox::ConnectionState::Active
        })
        .expect("the connection at HubRise");
    assert_eq!(
        at_hubrise.callback_events,
        Some(serde_json::json!({ "order": ["create", "update"] })),
        "registered before the restart"
    );
    let registrations: Vec<_> = admin
        .requests()
        .await
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/v1/callback")
        .collect();
    assert_eq!(registrations.len(), 1, "{registrations:?}");
    assert_eq!(
        registrations[0]
            .connection
            .as_ref()
            .map(|t| t.connection_id.as_str()),
        Some(at_hubrise.id.as_str()),
        "with the new connection's token"
    );

    // An order placed while the app waits for its restart: HubRise queues it as an event.
    let order_id = world.place_order(&paris, "Marie").await;
    let queued = |id: &str| {
        let admin = admin.clone();
        let id = id.to_owned();
        async move {
            admin
                .connections()
                .await
                .into_iter()
                .find(|c| c.id == id)
                .map_or(0, |c| c.pending_events)
        }
    };
    assert_eq!(
        queued(&at_hubrise.id).await,
        1,
        "the order waits in the event queue"
    );

    app.restart().await.unwrap();
    events
        .wait_for(order_received(&order_id), EVENT_TIMEOUT)
        .await
        .unwrap();
    // Delivered through its event: fetched, then acknowledged at HubRise.
    let deadline = std::time::Instant::now() + EVENT_TIMEOUT;
    while queued(&at_hubrise.id).await > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the event is acknowledged"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        admin.count_requests("DELETE", "/v1/callback/events/").await >= 1,
        "the event was deleted at HubRise"
    );
}

#[tokio::test]
async fn the_flow_survives_the_app_being_killed_while_the_browser_is_open() {
    let world = World::start().await;
    let (app, _) = world.open_signed_in().await;
    let authorization = app
        .begin_hubrise_connection(HubriseConnectionOptions::default())
        .unwrap();
    drop(app);

    let callback = consent::approve(
        &authorization.authorize_url,
        &world.choice(&world.location_ids()[0]),
    )
    .await
    .unwrap();
    let (reopened, _) = world.open().await;
    let connection = reopened
        .complete_hubrise_connection(&callback)
        .await
        .unwrap();
    assert_eq!(connection.state, ConnectionState::Pending);
}

#[tokio::test]
async fn sign_in_errors_are_typed() {
    let world = World::start_with(SandboxOptions {
        lockout_after: 3,
        ..SandboxOptions::default()
    })
    .await;
    let (app, _) = world.open().await;
    let pos = world.sandbox.seed().pos_account();

    let err = app
        .begin_hubrise_connection(HubriseConnectionOptions::default())
        .unwrap_err();
    assert_eq!(err, PasserelleError::NotSignedIn);

    for _ in 0..3 {
        let err = app.sign_in(&pos.email, "wrong password").await.unwrap_err();
        assert_eq!(err, PasserelleError::InvalidCredentials);
    }
    let err = app.sign_in(&pos.email, &pos.password).await.unwrap_err();
    let PasserelleError::LockedOut { retry_after_secs } = err else {
        panic!("{err:?}")
    };
    assert!(retry_after_secs > 0);
    // Each attempt was one request: nothing retried automatically.
    assert_eq!(
        world
            .sandbox
            .admin()
            .count_requests("POST", "/oauth/token")
            .await,
        4
    );

    // One instance per data directory: this one goes before the next opens.
    app.close().await.unwrap();
    let mut offline = world.config();
    offline.pos_base_url = "http://127.0.0.1:9".into();
    let (offline_app, _) = world.open_with(offline).await;
    let err = offline_app
        .sign_in(&pos.email, &pos.password)
        .await
        .unwrap_err();
    assert!(matches!(err, PasserelleError::Network { .. }), "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn sign_in_with_a_host_session_and_sign_out() {
    let world = World::start().await;
    let (app, _) = world.open_signed_in().await;
    let account = app.account().unwrap().unwrap();
    assert_eq!(account.email, world.sandbox.seed().pos_account().email);
    world.connect(&app, &world.location_ids()[0]).await;

    app.sign_out(SignOutMode::DisconnectConnections)
        .await
        .unwrap();
    assert!(app.account().unwrap().is_none());
    assert!(
        world.account_secrets().is_empty(),
        "every secret of the account is gone: {:?}",
        world.account_secrets()
    );

    let err = app
        .sign_in_with_pos_session("not-a-session")
        .await
        .unwrap_err();
    assert_eq!(err, PasserelleError::SessionExpired);
}

#[tokio::test]
async fn several_locations_and_reconnecting_updates_instead_of_duplicating() {
    let world = World::start().await;
    let (app, _) = world.open_signed_in().await;
    let locations = world.location_ids();
    assert!(locations.len() >= 2, "the seed has two locations");

    let paris = world.connect(&app, &locations[0]).await;
    let lyon = world.connect(&app, &locations[1]).await;
    assert_ne!(paris.id, lyon.id);
    app.restart().await.unwrap();

    let again = world.connect(&app, &locations[0]).await;
    assert_eq!(again.id, paris.id, "same location, same connection");
    assert_eq!(
        again.state,
        ConnectionState::Active,
        "a reconnect keeps it active"
    );
    assert_eq!(app.connections().unwrap().len(), 2);
}

#[tokio::test]
async fn callback_refusals_are_typed_and_send_no_token_request() {
    let world = World::start().await;
    let (app, _) = world.open_signed_in().await;
    let redirect = passerelle_sandbox::seed::APP_REDIRECT_URI;
    let admin = world.sandbox.admin();

    let missing = app
        .complete_hubrise_connection(&format!("{redirect}?code=abc"))
        .await
        .unwrap_err();
    assert_eq!(missing, PasserelleError::StateMissing);
    let unknown = app
        .complete_hubrise_connection(&format!("{redirect}?code=abc&state=forged"))
        .await
        .unwrap_err();
    assert_eq!(unknown, PasserelleError::StateUnknown);
    let wrong_place = app
        .complete_hubrise_connection("passerelle-evil://oauth/hubrise?code=a&state=b")
        .await;
    assert_eq!(wrong_place.unwrap_err().code(), "redirect_mismatch");

    // A state started out of band does not complete through the app's redirect.
    let oob = app
        .begin_hubrise_connection(HubriseConnectionOptions {
            out_of_band: true,
            ..Default::default()
        })
        .unwrap();
    let mismatched = app
        .complete_hubrise_connection(&format!("{redirect}?code=abc&state={}", oob.state))
        .await;
    assert_eq!(mismatched.unwrap_err(), PasserelleError::StateMismatch);

    let attempt = app
        .begin_hubrise_connection(HubriseConnectionOptions::default())
        .unwrap();
    let no_code = app
        .complete_hubrise_connection(&format!("{redirect}?state={}", attempt.state))
        .await;
    assert_eq!(no_code.unwrap_err(), PasserelleError::CodeMissing);

    assert_eq!(admin.count_requests("POST", "/oauth2/v1/token").await, 0);
    assert_eq!(admin.count_requests("POST", "/hubrise/broker").await, 0);

    // Deny on the consent page.
    let denied_attempt = app
        .begin_hubrise_connection(HubriseConnectionOptions::default())
        .unwrap();
    let denied = consent::deny(
        &denied_attempt.authorize_url,
        &world.choice(&world.location_ids()[0]),
    )
    .await
    .unwrap();
    assert_eq!(
        app.complete_hubrise_connection(&denied).await.unwrap_err(),
        PasserelleError::AccessDenied
    );

    // Replay of a completed callback.
    let callback = world.approve(&app, &world.location_ids()[0]).await;
    app.complete_hubrise_connection(&callback).await.unwrap();
    let replayed = app
        .complete_hubrise_connection(&callback)
        .await
        .unwrap_err();
    assert_eq!(replayed, PasserelleError::StateReplayed);
    assert_eq!(
        admin.count_requests("POST", "/hubrise/broker").await,
        1,
        "one exchange only"
    );
}

#[tokio::test]
async fn out_of_band_code_pasted_by_the_user() {
    let world = World::start().await;
    let (app, _) = world.open_signed_in().await;
    let attempt = app
        .begin_hubrise_connection(HubriseConnectionOptions {
            out_of_band: true,
            ..Default::default()
        })
        .unwrap();
    assert!(attempt.callback_url_scheme.is_none());
    let code = consent::approve(
        &attempt.authorize_url,
        &world.choice(&world.location_ids()[1]),
    )
    .await
    .unwrap();
    let connection = app
        .complete_hubrise_connection_with_code(&format!("  {code} "), &attempt.state)
        .await
        .unwrap();
    assert_eq!(connection.location_id, world.location_ids()[1]);
}

#[tokio::test]
async fn direct_strategy_with_the_client_secret_and_its_refusals() {
    let world = World::start_with(SandboxOptions {
        omit_token_type: true,
        ..SandboxOptions::default()
    })
    .await;
    let mut config = world.config();
    config.token_exchange = TokenExchange::Direct;
    let (app, _) = world.open_with(config).await;
    world.sign_in(&app).await;

    // No client secret provisioned: a typed configuration error, no request.
    let callback = world.approve(&app, &world.location_ids()[0]).await;
    let err = app
        .complete_hubrise_connection(&callback)
        .await
        .unwrap_err();
    assert!(
        matches!(err, PasserelleError::InvalidConfig { .. }),
        "{err:?}"
    );

    use passerelle_core::SecretStore;
    world
        .secrets
        .set("hubrise/client_secret".into(), "wrong".into())
        .unwrap();
    let callback = world.approve(&app, &world.location_ids()[0]).await;
    assert_eq!(
        app.complete_hubrise_connection(&callback)
            .await
            .unwrap_err(),
        PasserelleError::InvalidClient
    );

    world
        .secrets
        .set(
            "hubrise/client_secret".into(),
            world.sandbox.seed().client_secret.clone(),
        )
        .unwrap();
    // The server omits token_type (older HubRise docs): still accepted.
    let connection = world.connect(&app, &world.location_ids()[0]).await;
    assert_eq!(connection.state, ConnectionState::Pending);

    // Disconnect revokes directly at HubRise.
    let outcome = app.disconnect(&connection.id).await.unwrap();
    assert!(outcome.revoked, "{:?}", outcome.revoke_failure);
}

#[tokio::test]
async fn disconnect_revokes_stops_and_removes_at_restart() {
    let world = World::start().await;
    let (app, _) = world.open_signed_in().await;
    let connection = world.connect(&app, &world.location_ids()[0]).await;
    app.restart().await.unwrap();

    let outcome = app.disconnect(&connection.id).await.unwrap();
    assert!(outcome.revoked, "{:?}", outcome.revoke_failure);
    assert_eq!(outcome.connection.state, ConnectionState::Removing);
    assert!(
        !world
            .secrets
            .keys()
            .iter()
            .any(|k| k.contains(&connection.id)),
        "token deleted"
    );
    assert!(app.restart_required().unwrap());
    let again = app.disconnect(&connection.id).await.unwrap_err();
    assert_eq!(again.code(), "invalid_state");

    app.restart().await.unwrap();
    assert!(app.connections().unwrap().is_empty());
    let gone = app.check_connection(&connection.id).await.unwrap_err();
    assert_eq!(gone.code(), "not_found");
}

#[tokio::test]
async fn a_failed_revoke_is_reported_but_does_not_block_the_removal() {
    let world = World::start().await;
    let (app, _) = world.open_signed_in().await;
    let connection = world.connect(&app, &world.location_ids()[0]).await;
    world
        .sandbox
        .admin()
        .inject_fault(passerelle_sandbox::Fault::status(
            "/hubrise/connections",
            503,
            1,
        ))
        .await;
    let outcome = app.disconnect(&connection.id).await.unwrap();
    assert!(!outcome.revoked);
    assert!(outcome.revoke_failure.is_some());
    assert_eq!(outcome.connection.state, ConnectionState::Removing);
}

#[tokio::test]
async fn blocked_and_disconnected_connections_need_a_reconnect() {
    let world = World::start().await;
    let (app, events) = world.open_signed_in().await;
    let location = world.location_ids()[0].clone();
    let connection = world.connect(&app, &location).await;
    app.restart().await.unwrap();
    let admin = world.sandbox.admin();

    admin.block_connection(&location).await.unwrap();
    let blocked = app.check_connection(&connection.id).await.unwrap();
    assert!(blocked.reconnect_needed);
    assert!(blocked.last_failed_at.is_some());
    assert!(
        blocked
            .last_failed_reason
            .as_deref()
            .unwrap()
            .contains("blocked"),
        "{blocked:?}"
    );
    events
        .wait_for(
            |e| matches!(e, PasserelleEvent::ReconnectNeeded { .. }),
            EVENT_TIMEOUT,
        )
        .await
        .unwrap();

    admin.unblock_connection(&location).await.unwrap();
    let unblocked = app.check_connection(&connection.id).await.unwrap();
    assert!(!unblocked.reconnect_needed);

    admin.disconnect_connection(&location).await.unwrap();
    let revoked = app.check_connection(&connection.id).await.unwrap();
    assert!(revoked.reconnect_needed);
    assert!(
        revoked
            .last_failed_reason
            .as_deref()
            .unwrap()
            .contains("revoked"),
        "{revoked:?}"
    );
    assert_eq!(app.connections().unwrap().len(), 1, "nothing deleted");

    // Reconnect HubRise: the same connection becomes healthy again.
    let reconnected = world.connect(&app, &location).await;
    assert_eq!(reconnected.id, connection.id);
    assert!(
        !app.check_connection(&connection.id)
            .await
            .unwrap()
            .reconnect_needed
    );
}

#[tokio::test]
async fn open_urls_are_routed() {
    let world = World::start().await;
    let (app, _) = world.open_signed_in().await;
    let callback = world.approve(&app, &world.location_ids()[0]).await;
    let OpenUrlOutcome::Connected { connection } = app.handle_open_url(&callback).await.unwrap()
    else {
        panic!("expected a completed connection");
    };
    let app_instance_id = connection
        .app_instance_id
        .clone()
        .expect("HubRise gives an app_instance_id");
    let open = format!(
        "{}?app_instance_id={app_instance_id}",
        passerelle_sandbox::seed::APP_OPEN_URL
    );
    let OpenUrlOutcome::ShowConnection { connection: shown } =
        app.handle_open_url(&open).await.unwrap()
    else {
        panic!("expected the connection to show");
    };
    assert_eq!(shown.id, connection.id);
    assert_eq!(
        app.handle_open_url("https://example.com/x").await.unwrap(),
        OpenUrlOutcome::NotHandled
    );
}

#[tokio::test]
async fn data_is_scoped_per_pos_account() {
    let world = World::start().await;
    let (app, _) = world.open_signed_in().await;
    let location = world.location_ids()[0].clone();
    world.connect_active(&app, &location).await;
    let order_id = world.place_order(&location, "Marie").await;
    app.sync_now().await.unwrap();
    assert_eq!(app.syncing_connections().unwrap().len(), 1);

    // Another POS account signs in on this iPad: it sees nothing of the first, and the first
    // account's connections stop syncing.
    let other = world.sandbox.seed().pos_accounts[1].clone();
    app.sign_in(&other.email, &other.password).await.unwrap();
    assert!(app.connections().unwrap().is_empty());
    assert!(app.order(&order_id).unwrap().is_none());
    assert!(app.syncing_connections().unwrap().is_empty());

    // Back to the first account: its connection and orders are there, and sync resumes.
    world.sign_in(&app).await;
    assert_eq!(app.connections().unwrap().len(), 1);
    assert!(app.order(&order_id).unwrap().is_some());
    assert_eq!(app.syncing_connections().unwrap().len(), 1);
}
