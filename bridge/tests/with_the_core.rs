//! The core talks to the bridge unchanged: the library, configured with the bridge as its POS
//! backend and the sandbox as HubRise, signs in, connects on the device through the broker,
//! picks up a connection made in HubRise's back office at restart, confirms it and receives the
//! order placed before the confirmation (the passive callback the bridge registered), and learns
//! of HubRise's back-office disconnect at the next restart.

use std::sync::Arc;
use std::time::Duration;

use passerelle_core::{ConnectionOrigin, ConnectionState, InMemorySecretStore, Passerelle};
use passerelle_sandbox::ServerKind;
use passerelle_sandbox::seed::sample_order;
use passerelle_test_support::{EventRecorder, config_for, order_received, seeded};

use crate::support::{self, TestResult, client};

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_core_connects_and_receives_orders_through_the_bridge() -> TestResult {
    let dir = tempfile::tempdir()?;
    let stack = support::start(support::sqlite(dir.path()), support::keys()).await?;
    let app_dir = tempfile::tempdir()?;
    let events = Arc::new(EventRecorder::new());
    let app = Passerelle::open(
        config_for(&stack, app_dir.path()),
        Arc::new(InMemorySecretStore::new()),
        events.clone(),
    )
    .await?;
    let seed = stack.sandbox.seed().clone();
    let admin = stack.sandbox.admin();
    let account = seeded::sign_in(&app, &seed, 0).await?;
    assert_eq!(account.account_id, seed.pos_account().account_id);

    // On the device: consent page, then the bridge's broker exchanges the code.
    let choice = seeded::choice(&seed, 0, "3r4s3-1")?;
    let connection = seeded::connect(&app, &choice).await?;
    app.restart().await?;
    let order = admin.place_order("3r4s3-1", sample_order("Ada")).await?;
    events
        .wait_for(order_received(&order), WAIT)
        .await
        .map_err(|e| format!("{e:?}"))?;
    assert_eq!(connection.location_id, "3r4s3-1");

    // Off the device: HubRise's back office, then an order placed before the till confirms.
    let connect_url = admin
        .back_office_connect(&seed.client_id, "3r4s3-2", &seed.user().email)
        .await?;
    let pos = seed.pos_account().clone();
    let landing = passerelle_bridge::check::open_connect_url(
        &client(),
        &connect_url,
        &stack.pos_url,
        &pos.email,
        &pos.password,
    )
    .await?;
    assert!(landing.contains("connected=3r4s3-2"), "{landing}");
    let early = admin.place_order("3r4s3-2", sample_order("Grace")).await?;
    app.restart().await?;
    let pending = app
        .connections()?
        .into_iter()
        .find(|c| c.location_id == "3r4s3-2")
        .ok_or("the off-device connection did not reach the till")?;
    assert_eq!(pending.origin, ConnectionOrigin::HubriseBackOffice);
    assert!(pending.needs_confirmation && pending.catalog_name.is_some());
    app.confirm_connection(&pending.id).await?;
    events
        .wait_for(order_received(&early), WAIT)
        .await
        .map_err(|e| format!("{e:?}"))?;

    // HubRise's back-office disconnect reaches the bridge (signed); the till sees it at restart.
    admin.disconnect_connection("3r4s3-2").await?;
    app.restart().await?;
    let after = app.connections()?;
    assert!(
        after
            .iter()
            .all(|c| c.location_id != "3r4s3-2" || c.state != ConnectionState::Active),
        "{after:?}"
    );
    // Everything went to the bridge: the sandbox's own fake POS backend heard nothing, and the
    // bridge made the code exchanges at HubRise's token endpoint.
    let log = admin.requests().await;
    assert!(
        !log.iter().any(|r| r.server == ServerKind::Pos),
        "the sandbox's fake POS backend was called"
    );
    assert!(log.iter().filter(|r| r.path == "/oauth2/v1/token").count() >= 2);
    app.close().await.ok();
    stack.bridge.stop().await?;
    stack.sandbox.stop().await;
    Ok(())
}
