//! Issue 24, the till's side: the core consumes the bridge's event stream. With HubRise's poll
//! interval (30 s), an order placed at HubRise reaches the till through the bridge's active
//! callback and the stream in about a second, not at the next poll; with the bridge down the
//! health says the push channel is down and the order comes by polling HubRise, which kept the
//! event the bridge could not acknowledge.

use std::sync::Arc;
use std::time::{Duration, Instant};

use passerelle_core::{DelayReason, InMemorySecretStore, Passerelle};
use passerelle_sandbox::SandboxOptions;
use passerelle_sandbox::seed::sample_order;
use passerelle_test_support::{EventRecorder, health_shows, order_received};

use crate::support::{self, Stack, TestResult};

/// HubRise's documented poll interval: an order the poll brought would take up to this long.
const POLL_SECS: u32 = 30;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_reach_the_till_through_the_stream_and_by_polling_when_the_bridge_is_down()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let stack = support::start_with(
        SandboxOptions::default(),
        support::sqlite(dir.path()),
        support::keys(),
    )
    .await?;
    let app_dir = tempfile::tempdir()?;
    let config = support::till_config(&stack, app_dir.path(), POLL_SECS);
    let secrets = Arc::new(InMemorySecretStore::new());
    let (app, events) = support::connected_till(&stack, config, secrets, "3r4s3-1").await?;
    let admin = stack.sandbox.admin();
    // The first cycle has run: the next poll is 30 s away.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let placed = Instant::now();
    let order = admin.place_order("3r4s3-1", sample_order("Ada")).await?;
    events
        .wait_for(
            order_received(&order),
            Duration::from_secs(POLL_SECS.into()),
        )
        .await
        .map_err(|e| format!("{e:?}"))?;
    let pushed_in = placed.elapsed();
    eprintln!("placed → OrderReceived through the stream: {pushed_in:?}");
    assert!(
        pushed_in < Duration::from_secs(5),
        "the order waited {pushed_in:?}: it came by polling, not through the stream"
    );

    // The bridge goes down: the health says so, and the next order comes by polling.
    let Stack {
        sandbox, bridge, ..
    } = stack;
    bridge.stop().await?;
    assert!(
        health_shows(
            &app,
            Some(DelayReason::PushChannelDown),
            Duration::from_secs(10)
        )
        .await,
        "the stream's loss was silent: {:?}",
        app.sync_health()?
    );
    let order = sandbox
        .admin()
        .place_order("3r4s3-1", sample_order("Grace"))
        .await?;
    events
        .wait_for(
            order_received(&order),
            Duration::from_secs(u64::from(POLL_SECS) + 10),
        )
        .await
        .map_err(|e| format!("the order placed with the bridge down never came: {e:?}"))?;
    let report = app.sync_health()?;
    assert_eq!(report.connections[0].quarantined, 0);
    app.close().await?;
    Ok(())
}

/// A till closed while orders come, and the bridge restarted meanwhile: back, the till takes
/// them from its cursor at the bridge (HubRise's queue no longer has them: the bridge
/// acknowledged them), each once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_till_away_catches_up_from_its_cursor_at_the_bridge_across_a_bridge_restart() -> TestResult
{
    let dir = tempfile::tempdir()?;
    let keys = support::keys();
    let stack = support::start_with(
        support::compressed_callbacks(),
        support::sqlite(dir.path()),
        keys.clone(),
    )
    .await?;
    let app_dir = tempfile::tempdir()?;
    let config = support::till_config(&stack, app_dir.path(), POLL_SECS);
    let secrets = Arc::new(InMemorySecretStore::new());
    let (app, _) =
        support::connected_till(&stack, config.clone(), secrets.clone(), "3r4s3-1").await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    app.close().await?;
    drop(app);

    let admin = stack.sandbox.admin();
    let mut placed = Vec::new();
    for name in ["Ada", "Grace"] {
        placed.push(admin.place_order("3r4s3-1", sample_order(name)).await?);
    }
    let bridge_events = stack.bridge.app().events.clone();
    assert!(
        support::eventually(Duration::from_secs(5), || async {
            bridge_events.count().await.unwrap_or(0) >= 2
        })
        .await,
        "the bridge never took the orders' events"
    );
    let stack = crate::storage::restart(stack, dir.path(), keys).await?;
    placed.push(
        stack
            .sandbox
            .admin()
            .place_order("3r4s3-1", sample_order("Hedy"))
            .await?,
    );

    let events = Arc::new(EventRecorder::new());
    let app = Passerelle::open(config, secrets, events.clone()).await?;
    for order in &placed {
        events
            .wait_for(order_received(order), Duration::from_secs(10))
            .await
            .map_err(|e| format!("{order} never came back: {e:?}"))?;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    for order in &placed {
        let announced = events
            .events()
            .iter()
            .filter(|e| order_received(order)(e))
            .count();
        assert_eq!(announced, 1, "{order} announced {announced} times");
    }
    app.close().await?;
    Ok(())
}

/// A proxy to `upstream` that passes everything, except that it cuts the first connection whose
/// answer carries an order event in the middle of that message.
async fn cutting_proxy(upstream: std::net::SocketAddr) -> Result<String, std::io::Error> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let cut = Arc::new(std::sync::atomic::AtomicBool::new(false));
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let cut = cut.clone();
            tokio::spawn(async move {
                let Ok(server) = tokio::net::TcpStream::connect(upstream).await else {
                    return;
                };
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
                });
                let mut seen = Vec::new();
                let mut chunk = [0u8; 8192];
                while let Ok(n) = server_read.read(&mut chunk).await {
                    if n == 0 {
                        break;
                    }
                    seen.extend_from_slice(&chunk[..n]);
                    let marker = b"event: order.create";
                    let at = seen.windows(marker.len()).position(|w| w == marker);
                    if let (Some(at), false) = (at, cut.load(std::sync::atomic::Ordering::SeqCst)) {
                        cut.store(true, std::sync::atomic::Ordering::SeqCst);
                        // Up to the middle of the message, then the connection drops.
                        let end = (at + marker.len() + 40).min(seen.len());
                        let start = seen.len() - n;
                        if end > start {
                            let _ = client_write.write_all(&seen[start..end]).await;
                        }
                        return;
                    }
                    if client_write.write_all(&chunk[..n]).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok(url)
}

/// The till's stream cut in the middle of an order's message (the bridge wrote it whole and
/// moved the till's cursor past it): the till resumes from the last message it read whole and
/// the order arrives, through the stream, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_cut_in_the_middle_of_an_order_resumes_before_it() -> TestResult {
    let dir = tempfile::tempdir()?;
    let stack = support::start_with(
        SandboxOptions::default(),
        support::sqlite(dir.path()),
        support::keys(),
    )
    .await?;
    let proxy = cutting_proxy(stack.bridge.addr).await?;
    let app_dir = tempfile::tempdir()?;
    let mut config = support::till_config(&stack, app_dir.path(), POLL_SECS);
    config.pos_base_url = proxy;
    let secrets = Arc::new(InMemorySecretStore::new());
    let (app, events) = support::connected_till(&stack, config, secrets, "3r4s3-1").await?;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let placed = Instant::now();
    let order = stack
        .sandbox
        .admin()
        .place_order("3r4s3-1", sample_order("Ada"))
        .await?;
    events
        .wait_for(
            order_received(&order),
            Duration::from_secs(POLL_SECS.into()),
        )
        .await
        .map_err(|e| format!("the order cut in the middle never came: {e:?}"))?;
    let took = placed.elapsed();
    eprintln!("placed → OrderReceived across a cut stream: {took:?}");
    assert!(
        took < Duration::from_secs(5),
        "the order took {took:?}: it waited for a poll, the stream skipped it"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let announced = events
        .events()
        .iter()
        .filter(|e| order_received(&order)(e))
        .count();
    assert_eq!(announced, 1);
    app.close().await?;
    Ok(())
}
