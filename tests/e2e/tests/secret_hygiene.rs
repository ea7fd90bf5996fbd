//! No secret reaches the logs (at trace level), the SQLite files (`-wal` and `-shm` included) or
//! any error's `Display` and `Debug`: POS password and tokens, HubRise codes, PKCE verifiers,
//! access tokens and the client secret. (In its own process: its trace-level subscriber is the
//! process's one `tracing` subscriber.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use passerelle_core::{DATABASE_FILE, HubriseConnectionOptions, PasserelleError, SecretStore};
use passerelle_e2e::alone::in_own_process;
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
    let attempt = app
        .begin_hubrise_connection(HubriseConnectionOptions::default())
        .unwrap();
    secrets.extend(values_of(&world, "pkce_verifier"));
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
    secrets.extend(values_of(&world, "access_token"));
    secrets.extend(pos_session_tokens(&world));
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
