//! Token endpoint oddities (400/401/404, missing fields, HTML, empty or malformed bodies), an
//! expired attempt and POS session refresh: each a typed error or a transparent recovery.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use passerelle_core::{HubriseConnectionOptions, PasserelleError, SecretStore, TokenExchange};
use passerelle_e2e::canned::CannedServer;
use passerelle_sandbox::SandboxOptions;
use passerelle_sandbox::seed::APP_REDIRECT_URI;
use passerelle_test_support::World;

/// Completes an attempt with the direct strategy against `token_server` as HubRise's OAuth host.
async fn complete_against(world: &World, token_server: &CannedServer) -> PasserelleError {
    let mut config = world.config();
    config.token_exchange = TokenExchange::Direct;
    config.hubrise_oauth_url = format!("{}/oauth2/v1", token_server.base_url);
    let (app, _) = world.open_with(config).await;
    world.sign_in(&app).await;
    world
        .secrets
        .set("hubrise/client_secret".into(), "s3cret".into())
        .unwrap();
    let attempt = app
        .begin_hubrise_connection(HubriseConnectionOptions::default())
        .unwrap();
    let callback = format!("{APP_REDIRECT_URI}?code=some-code&state={}", attempt.state);
    let err = app
        .complete_hubrise_connection(&callback)
        .await
        .unwrap_err();
    assert_eq!(token_server.hits(), 1, "exactly one token request");
    assert!(app.connections().unwrap().is_empty(), "nothing recorded");
    err
}

/// Completes an attempt against a token endpoint that answers `status`, `content_type`, `body`.
async fn exchange_against(
    world: &World,
    status: u16,
    content_type: &str,
    body: &str,
) -> PasserelleError {
    complete_against(
        world,
        &CannedServer::start(status, content_type, body).await,
    )
    .await
}

#[tokio::test]
async fn token_endpoint_oddities_are_typed_errors() {
    let world = World::start().await;
    let json = "application/json";
    let hubrise_error = r#"{"error_type":"invalid_grant","message":"The code has expired"}"#;

    let err = exchange_against(&world, 400, json, hubrise_error).await;
    assert_eq!(
        err,
        PasserelleError::InvalidGrant {
            reason: "the code is expired, used or unknown (invalid_grant)".into()
        }
    );
    assert!(
        !err.to_string().contains("The code has expired"),
        "the server's text is not echoed"
    );
    assert_eq!(
        exchange_against(&world, 401, json, r#"{"message":"bad client"}"#).await,
        PasserelleError::InvalidClient
    );
    assert!(matches!(
        exchange_against(&world, 404, json, "{}").await,
        PasserelleError::InvalidGrant { .. }
    ));
    // HubRise documents these errors by their status only: a body that is not JSON says nothing
    // more, and the status still does.
    assert!(matches!(
        exchange_against(&world, 400, "text/html", "<html>oops</html>").await,
        PasserelleError::InvalidGrant { .. }
    ));
    assert_eq!(
        exchange_against(&world, 401, "text/plain", "").await,
        PasserelleError::InvalidClient
    );

    for (status, content_type, body) in [
        (200, "text/html", "<html><body>Maintenance</body></html>"),
        (200, json, ""),
        (200, json, "{\"access_token\": "),
        (200, json, r#"{"token_type":"Bearer"}"#),
    ] {
        let err = exchange_against(&world, status, content_type, body).await;
        assert_eq!(
            err.code(),
            "unexpected_response",
            "{status} {body}: {err:?}"
        );
        assert!(
            !err.to_string().contains(body) || body.is_empty(),
            "no raw body in the error"
        );
    }
}

#[tokio::test]
async fn a_token_answer_is_read_whatever_its_content_type() {
    let world = World::start().await;
    // A success is read whatever its Content-Type says.
    let plain = CannedServer::start(
        200,
        "text/plain",
        r#"{"access_token":"b9922a78d3ffab6b95e9d72e88","location_id":"3r4s3-1"}"#,
    )
    .await;
    let mut config = world.config();
    config.token_exchange = TokenExchange::Direct;
    config.hubrise_oauth_url = format!("{}/oauth2/v1", plain.base_url);
    let (app, _) = world.open_with(config).await;
    world.sign_in(&app).await;
    world
        .secrets
        .set("hubrise/client_secret".into(), "s3cret".into())
        .unwrap();
    let attempt = app
        .begin_hubrise_connection(HubriseConnectionOptions::default())
        .unwrap();
    let callback = format!("{APP_REDIRECT_URI}?code=some-code&state={}", attempt.state);
    let connection = app.complete_hubrise_connection(&callback).await.unwrap();
    assert_eq!(connection.location_id, "3r4s3-1");
}

#[tokio::test]
async fn a_redirect_from_the_token_endpoint_is_not_followed() {
    let world = World::start().await;
    let elsewhere =
        CannedServer::start(200, "application/json", r#"{"access_token":"stolen"}"#).await;
    let location = format!("Location: {}/collect", elsewhere.base_url);
    let redirecting = CannedServer::start_with_header(302, "text/html", "", Some(&location)).await;
    let err = complete_against(&world, &redirecting).await;
    assert_eq!(err.code(), "unexpected_response", "{err:?}");
    assert_eq!(
        elsewhere.hits(),
        0,
        "the code and secret never went elsewhere"
    );
}

#[tokio::test]
async fn an_attempt_older_than_ten_minutes_cannot_complete() {
    let world = World::start().await;
    let (app, _) = world.open_signed_in().await;
    let callback = world.approve(&app, &world.location_ids()[0]).await;
    let db =
        rusqlite::Connection::open(world.dir.path().join(passerelle_core::DATABASE_FILE)).unwrap();
    db.execute(
        "UPDATE oauth_flows SET created_at = created_at - 11 * 60 * 1000",
        [],
    )
    .unwrap();

    let err = app
        .complete_hubrise_connection(&callback)
        .await
        .unwrap_err();
    assert_eq!(err, PasserelleError::FlowExpired);
    assert_eq!(
        world
            .sandbox
            .admin()
            .count_requests("POST", "/hubrise/broker")
            .await,
        0
    );
}

#[tokio::test]
async fn a_cancelled_attempt_cannot_complete() {
    let world = World::start().await;
    let (app, _) = world.open_signed_in().await;
    let attempt = app
        .begin_hubrise_connection(HubriseConnectionOptions::default())
        .unwrap();
    app.cancel_hubrise_connection(&attempt.state).unwrap();
    let callback = format!("{APP_REDIRECT_URI}?code=x&state={}", attempt.state);
    assert_eq!(
        app.complete_hubrise_connection(&callback)
            .await
            .unwrap_err(),
        PasserelleError::StateReplayed
    );
}

#[tokio::test]
async fn an_expiring_pos_session_is_refreshed_transparently() {
    let options = SandboxOptions {
        pos_access_token_ttl: std::time::Duration::from_secs(20),
        ..Default::default()
    };
    let world = World::start_with(options).await;
    let (app, _) = world.open_signed_in().await;
    // The 20 s token is inside the 30 s refresh margin: the broker call refreshes first.
    world.connect(&app, &world.location_ids()[0]).await;
    let token_requests = world
        .sandbox
        .admin()
        .count_requests("POST", "/oauth/token")
        .await;
    assert_eq!(token_requests, 2, "password grant, then one refresh");
    world.connect(&app, &world.location_ids()[1]).await;
    assert_eq!(
        world
            .sandbox
            .admin()
            .count_requests("POST", "/oauth/token")
            .await,
        3,
        "rotated refresh token works"
    );
}
