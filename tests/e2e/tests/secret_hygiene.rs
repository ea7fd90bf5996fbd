//! No secret reaches the logs (at trace level), the SQLite files (`-wal` and `-shm` included) or
//! any error's `Display` and `Debug`: POS password and tokens, HubRise codes, PKCE verifiers,
//! access tokens and the client secret, with the broker (where the device never has the client
//! secret) and with the direct strategy (where it has it, in the host's secret store). (Each in
//! its own process: its trace-level subscriber is the process's one `tracing` subscriber.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use passerelle_core::{
    DATABASE_FILE, HubriseConnection, HubriseConnectionOptions, Passerelle, PasserelleError,
    SecretStore, TokenExchange,
};
use passerelle_e2e::alone::in_own_process;
use passerelle_e2e::canned::CannedServer;
use passerelle_e2e::logs::CapturedLogs;
use passerelle_sandbox::drivers::consent;
use passerelle_test_support::World;

#[tokio::test]
async fn no_secret_in_logs_database_or_errors() {
    if !in_own_process(concat!(
        module_path!(),
        "::no_secret_in_logs_database_or_errors"
    )) {
        return;
    }
    let logs = CapturedLogs::install();
    let world = World::start().await;
    let (app, _) = world.open().await;
    let pos = world.sandbox.seed().pos_account().clone();
    let mut secrets: Vec<String> = vec![
        pos.password.clone(),
        world.sandbox.seed().client_secret.clone(),
    ];
    let mut errors: Vec<PasserelleError> = Vec::new();

    errors.push(
        app.sign_in(&pos.email, "a-wrong-password-123")
            .await
            .unwrap_err(),
    );
    secrets.push("a-wrong-password-123".into());
    world.sign_in(&app).await;

    // Connect, keeping the code and the verifier that were in flight.
    let (connection, _) = connect_collecting(&world, &app, &mut secrets, &mut errors).await;
    app.restart().await.unwrap();
    app.check_connection(&connection.id).await.unwrap();

    // Sync: an order arrives, is accepted and pushed.
    let order_id = world.place_order(&world.location_ids()[0], "Marie").await;
    app.sync_now().await.unwrap();
    app.accept(&order_id, None).await.unwrap();
    app.sync_now().await.unwrap();

    // Only sync_now meets the block (not the background worker), so its error is collected.
    app.stop_sync().await.unwrap();
    world
        .sandbox
        .admin()
        .block_connection(&world.location_ids()[0])
        .await
        .unwrap();
    world.place_order(&world.location_ids()[0], "Paul").await;
    errors.push(app.sync_now().await.unwrap_err());
    app.check_connection(&connection.id).await.unwrap();
    app.disconnect(&connection.id).await.unwrap();
    // The files as they are while the app runs (WAL included), then after a clean close.
    let mut files = database_files(&world);
    app.restart().await.unwrap();
    drop(app);
    files.extend(database_files(&world));

    assert!(secrets.len() >= 7, "collected {} secrets", secrets.len());
    let mut haystacks = vec![("logs".to_string(), logs.text())];
    haystacks.extend(files);
    for err in &errors {
        haystacks.push((format!("error {}", err.code()), format!("{err} {err:?}")));
    }
    assert!(
        logs.text().contains("passerelle::connect"),
        "trace logs were captured"
    );
    for secret in &secrets {
        for (name, text) in &haystacks {
            assert!(
                !text.contains(secret.as_str()),
                "a secret appears in {name}"
            );
        }
    }
}

/// The database, its WAL and shared-memory files as they are now, as text.
/// Connects the first location on the device and replays its callback, collecting every secret
/// in flight (the PKCE verifier, the code, the token, the POS session) and the replay's error.
/// Returns the connection and the attempt as `Debug` shows it.
async fn connect_collecting(
    world: &World,
    app: &Passerelle,
    secrets: &mut Vec<String>,
    errors: &mut Vec<PasserelleError>,
) -> (HubriseConnection, String) {
    let attempt = app
        .begin_hubrise_connection(HubriseConnectionOptions::default())
        .unwrap();
    secrets.extend(values_of(world, "pkce_verifier"));
    let callback = consent::approve(
        &attempt.authorize_url,
        &world.choice(&world.location_ids()[0]),
    )
    .await
    .unwrap();
    secrets.push(consent::code_from_redirect(&callback).unwrap());
    let connection = app.complete_hubrise_connection(&callback).await.unwrap();
    errors.push(
        app.complete_hubrise_connection(&callback)
            .await
            .unwrap_err(),
    );
    secrets.extend(values_of(world, "access_token"));
    secrets.extend(pos_session_tokens(world));
    (connection, format!("{attempt:?}"))
}

fn database_files(world: &World) -> Vec<(String, String)> {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| {
            let path = world.dir.path().join(format!("{DATABASE_FILE}{suffix}"));
            let bytes = std::fs::read(&path).ok()?;
            Some((
                path.display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            ))
        })
        .collect()
}

/// Values of the secret store whose key ends with `suffix`.
fn values_of(world: &World, suffix: &str) -> Vec<String> {
    world
        .secrets
        .keys()
        .into_iter()
        .filter(|k| k.ends_with(suffix))
        .filter_map(|k| world.secrets.get(k).unwrap())
        .collect()
}

/// The POS access and refresh tokens, out of the stored session JSON.
fn pos_session_tokens(world: &World) -> Vec<String> {
    values_of(world, "/session")
        .iter()
        .flat_map(|json| {
            let value: serde_json::Value = serde_json::from_str(json).unwrap();
            ["access_token", "refresh_token"]
                .into_iter()
                .filter_map(move |k| value[k].as_str().map(str::to_owned))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The same scan with the direct strategy, where the HubRise client secret does reach the
/// device (in the host's secret store): it is used for the exchange and the revoke, and must
/// appear in no log line (at trace level, dependencies included), no SQLite file (`-wal` and
/// `-shm` included), no error (`Display` or `Debug`, even when the token endpoint echoes it)
/// and no `Debug` output of what the library hands the host.
#[tokio::test]
async fn no_client_secret_anywhere_with_the_direct_strategy() {
    if !in_own_process(concat!(
        module_path!(),
        "::no_client_secret_anywhere_with_the_direct_strategy"
    )) {
        return;
    }
    let logs = CapturedLogs::install();
    assert_eq!(
        basic_credentials("459691768564.clients.hubrise.com", "s3cret"),
        "NDU5NjkxNzY4NTY0LmNsaWVudHMuaHVicmlzZS5jb206czNjcmV0"
    );
    assert_eq!(basic_credentials("ab", "cd"), "YWI6Y2Q=");
    let world = World::start().await;
    let seed = world.sandbox.seed().clone();
    let client_secret = seed.client_secret.clone();
    let mut config = world.config();
    config.token_exchange = TokenExchange::Direct;
    let (app, _) = world.open_with(config.clone()).await;
    world.sign_in(&app).await;
    let wrong_secret = "wrong-client-secret-5f0c2a9e";
    let mut secrets: Vec<String> = vec![
        client_secret.clone(),
        basic_credentials(&seed.client_id, &client_secret),
        wrong_secret.into(),
        basic_credentials(&seed.client_id, wrong_secret),
        seed.pos_account().password.clone(),
    ];
    let mut errors: Vec<PasserelleError> = Vec::new();
    let mut debug_output: Vec<String> = vec![format!("{config:?}")];

    // A wrong client secret: refused, typed, not repeated.
    world
        .secrets
        .set("hubrise/client_secret".into(), wrong_secret.into())
        .unwrap();
    let callback = world.approve(&app, &world.location_ids()[0]).await;
    secrets.push(consent::code_from_redirect(&callback).unwrap());
    errors.push(
        app.complete_hubrise_connection(&callback)
            .await
            .unwrap_err(),
    );

    // The right one: connect, a replayed callback, restart, sync, accept, block, disconnect.
    world
        .secrets
        .set("hubrise/client_secret".into(), client_secret.clone())
        .unwrap();
    let (connection, attempt) = connect_collecting(&world, &app, &mut secrets, &mut errors).await;
    debug_output.push(attempt);
    app.restart().await.unwrap();
    let order_id = world.place_order(&world.location_ids()[0], "Marie").await;
    app.sync_now().await.unwrap();
    app.accept(&order_id, None).await.unwrap();
    app.sync_now().await.unwrap();
    app.stop_sync().await.unwrap();
    world
        .sandbox
        .admin()
        .block_connection(&world.location_ids()[0])
        .await
        .unwrap();
    errors.push(app.sync_now().await.unwrap_err());
    debug_output.push(format!("{:?}", app.connections().unwrap()));
    debug_output.push(format!("{:?}", app.settings().unwrap()));
    debug_output.push(format!("{app:?}"));
    let outcome = app.disconnect(&connection.id).await.unwrap();
    debug_output.push(format!("{outcome:?}"));
    let mut files = database_files(&world);
    app.restart().await.unwrap();
    drop(app);
    files.extend(database_files(&world));

    // Token endpoints that echo the client secret back, in JSON and in HTML: the errors the
    // host gets never repeat what the server said.
    for (status, content_type, body) in [
        (
            401,
            "application/json",
            format!(r#"{{"error_type":"unauthorized","message":"bad secret {client_secret}"}}"#),
        ),
        (
            400,
            "application/json",
            format!(r#"{{"error_type":"bad_request","message":"{client_secret} is not valid"}}"#),
        ),
        (
            502,
            "text/html",
            format!("<html>client_secret={client_secret}</html>"),
        ),
    ] {
        let echo = CannedServer::start(status, content_type, &body).await;
        let mut echoing = config.clone();
        echoing.hubrise_oauth_url = format!("{}/oauth2/v1", echo.base_url);
        let other_dir = tempfile::tempdir().unwrap();
        echoing.data_dir = other_dir.path().display().to_string();
        let (other, _) = world.open_with(echoing).await;
        world.sign_in(&other).await;
        let attempt = other
            .begin_hubrise_connection(HubriseConnectionOptions::default())
            .unwrap();
        let callback = format!(
            "{}?code=some-code&state={}",
            passerelle_sandbox::seed::APP_REDIRECT_URI,
            attempt.state
        );
        errors.push(
            other
                .complete_hubrise_connection(&callback)
                .await
                .unwrap_err(),
        );
        assert_eq!(echo.hits(), 1, "the token endpoint was called");
    }

    assert!(errors.len() >= 6, "collected {} errors", errors.len());
    assert!(secrets.len() >= 10, "collected {} secrets", secrets.len());
    let mut haystacks = vec![("logs".to_string(), logs.text())];
    haystacks.extend(files);
    for err in &errors {
        haystacks.push((format!("error {}", err.code()), format!("{err} {err:?}")));
    }
    for (i, text) in debug_output.iter().enumerate() {
        haystacks.push((format!("Debug output #{i}"), text.clone()));
    }
    assert!(
        logs.text().contains("passerelle::connect"),
        "trace logs were captured"
    );
    for secret in &secrets {
        for (name, text) in &haystacks {
            assert!(
                !text.contains(secret.as_str()),
                "a secret appears in {name}"
            );
        }
    }
}

/// The `Authorization: Basic` value of a client id and secret (standard base64).
fn basic_credentials(client_id: &str, secret: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = format!("{client_id}:{secret}").into_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}
