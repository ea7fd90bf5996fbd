//! The till in the background (issue 24, part 5), the core against the bridge with APNs at a
//! fake: the core registers its push token; leaving the foreground closes its stream at once
//! (the bridge sees it gone); an order then wakes it by a notification, and the cycle it runs
//! (`handle_push_notification`) brings the order although the bridge took its event from
//! HubRise's queue; back in the foreground the stream is open again and the order is not
//! announced twice.

use std::sync::Arc;
use std::time::Duration;

use passerelle_core::InMemorySecretStore;
use passerelle_sandbox::seed::sample_order;
use passerelle_test_support::{order_received, seeded};

use crate::push::stack_with_apns;
use crate::support::{self, TestResult, eventually};

/// HubRise's documented poll interval: nothing here may come by polling.
const POLL_SECS: u32 = 30;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_till_in_the_background_is_woken_by_a_notification_and_its_cycle_brings_the_order()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let (stack, fake, _) =
        stack_with_apns(Duration::from_millis(500), support::sqlite(dir.path())).await?;
    let app_dir = tempfile::tempdir()?;
    let config = support::till_config(&stack, app_dir.path(), POLL_SECS);
    let secrets = Arc::new(InMemorySecretStore::new());
    let (app, events) = support::connected_till(&stack, config, secrets, "3r4s3-1").await?;
    let seed = stack.sandbox.seed().clone();
    let admin = stack.sandbox.admin();

    // The token iOS gives, as bytes: the bridge keeps it in hex, for this device.
    assert!(app.register_push_token(vec![0xab; 32]).await?);
    let token = "ab".repeat(32);
    let push = stack.bridge.app().push.clone();
    let account = seed.pos_account().account_id.clone();
    assert_eq!(push.tokens(&account).await?, std::slice::from_ref(&token));
    let device = app.device_id()?;
    let streaming = || async { push.streaming(&account, &device).await.unwrap_or(false) };
    assert!(eventually(Duration::from_secs(5), streaming).await);

    // In front, streaming: an order arrives on the stream, no notification.
    let first = admin.place_order("3r4s3-1", sample_order("Ada")).await?;
    events
        .wait_for(order_received(&first), Duration::from_secs(5))
        .await
        .map_err(|e| format!("{e:?}"))?;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(fake.count(&token), 0, "a streaming till was woken");

    // To the background: the stream closes at once, before iOS suspends the app.
    app.app_did_enter_background()?;
    assert!(
        eventually(Duration::from_secs(2), || async { !streaming().await }).await,
        "the bridge still sees the till's stream 2 s after it went to the background"
    );
    let second = admin.place_order("3r4s3-1", sample_order("Grace")).await?;
    assert!(
        eventually(Duration::from_secs(5), || async { fake.count(&token) == 1 }).await,
        "the till in the background was not notified"
    );
    // Nothing brings it by itself in the background (no stream, no poll)...
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(events.count(order_received(&second)), 0);
    // ...the notification's cycle does, though HubRise's queue no longer holds its event.
    let report = app.handle_push_notification().await?;
    assert_eq!(report.orders_received, 1, "{report:?}");
    events
        .wait_for(order_received(&second), Duration::from_secs(5))
        .await
        .map_err(|e| format!("{e:?}"))?;

    // Back in front: the stream opens again (with the order it missed), announced once.
    app.app_will_enter_foreground()?;
    assert!(eventually(Duration::from_secs(5), streaming).await);
    let third = admin.place_order("3r4s3-1", sample_order("Hopper")).await?;
    events
        .wait_for(order_received(&third), Duration::from_secs(5))
        .await
        .map_err(|e| format!("{e:?}"))?;
    assert_eq!(events.count(order_received(&second)), 1);
    assert_eq!(events.count(order_received(&first)), 1);
    assert_eq!(fake.count(&token), 1);
    app.close().await?;
    stack.bridge.stop().await?;
    stack.sandbox.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_without_the_push_route_is_no_error() -> TestResult {
    // The sandbox's own POS backend has no /hubrise/push-token.
    let world = passerelle_test_support::World::start_on_the_fake(
        passerelle_sandbox::SandboxOptions::default(),
    )
    .await;
    let (app, _) = world.open().await;
    seeded::sign_in(&app, world.sandbox.seed(), 0).await?;
    assert!(!app.register_push_token(vec![0xab; 32]).await?);
    // Without a connection the cycle has nothing to do, and says so.
    let report = app.handle_push_notification().await?;
    assert_eq!(report.orders_received, 0);
    app.close().await?;
    Ok(())
}
