//! Issue 24, the till's side: the core consumes the bridge's event stream. With HubRise's poll
//! interval (30 s), an order placed at HubRise reaches the till through the bridge's active
//! callback and the stream in about a second, not at the next poll; with the bridge down the
//! health says the push channel is down and the order comes by polling HubRise, which kept the
//! event the bridge could not acknowledge.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use passerelle_core::{
    DelayReason, InMemorySecretStore, Passerelle, SecretStore, SecretStoreError,
};
use passerelle_sandbox::seed::sample_order;
use passerelle_sandbox::{Fault, SandboxOptions, ServerKind};
use passerelle_test_support::{EventRecorder, health_shows, order_received};

use crate::support::{self, Stack, TestResult};

/// HubRise's documented poll interval: an order the poll brought would take up to this long.
const POLL_SECS: u32 = 30;

/// A bridge on SQLite and one till streaming from it, polling at HubRise's interval.
struct Streamed {
    stack: Stack,
    app: Passerelle,
    events: Arc<EventRecorder>,
    /// The bridge's and the till's data, deleted when dropped.
    _dirs: [tempfile::TempDir; 2],
}

/// [`Streamed`], the till connected to `locations` over `secrets`.
async fn streamed_till(
    secrets: Arc<dyn SecretStore>,
    locations: &[&str],
) -> Result<Streamed, Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let stack = support::start_with(
        SandboxOptions::default(),
        support::sqlite(dir.path()),
        support::keys(),
    )
    .await?;
    let app_dir = tempfile::tempdir()?;
    let config = support::till_config(&stack, app_dir.path(), POLL_SECS);
    let (app, events) = support::connected_till_at(&stack, config, secrets, locations).await?;
    Ok(Streamed {
        stack,
        app,
        events,
        _dirs: [dir, app_dir],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_reach_the_till_through_the_stream_and_by_polling_when_the_bridge_is_down()
-> TestResult {
    let Streamed {
        stack,
        app,
        events,
        _dirs,
    } = streamed_till(Arc::new(InMemorySecretStore::new()), &["3r4s3-1"]).await?;
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

/// One location's order slow to be read (HubRise takes 20 s to answer for it) holds back no
/// other location's order on the till's one stream: past its budget it is left to its
/// connection's catch-up, which brings it, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_slow_to_be_read_holds_back_no_other_location_s_order_on_the_stream() -> TestResult
{
    let secrets = Arc::new(InMemorySecretStore::new());
    let Streamed {
        stack,
        app,
        events,
        _dirs,
    } = streamed_till(secrets, &["3r4s3-1", "3r4s3-2"]).await?;
    let admin = stack.sandbox.admin();
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The next order read on its own is answered in 20 s.
    admin
        .inject_fault(
            Fault::delay("/v1/location/orders/", Duration::from_secs(20))
                .for_method("GET")
                .on_server(ServerKind::Api)
                .times(Some(1)),
        )
        .await;
    let slow = admin.place_order("3r4s3-1", sample_order("Ada")).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let placed = Instant::now();
    let other = admin.place_order("3r4s3-2", sample_order("Grace")).await?;
    events
        .wait_for(order_received(&other), Duration::from_secs(20))
        .await
        .map_err(|e| format!("{e:?}"))?;
    let other_in = placed.elapsed();
    eprintln!("the other location's order behind a slow one: {other_in:?}");
    assert!(
        other_in < Duration::from_secs(10),
        "the other location's order waited {other_in:?} behind the slow one"
    );
    events
        .wait_for(order_received(&slow), Duration::from_secs(POLL_SECS.into()))
        .await
        .map_err(|e| format!("the slow order never came: {e:?}"))?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    for order in [&slow, &other] {
        assert_eq!(
            events.count(order_received(order)),
            1,
            "{order} announced once"
        );
    }
    app.close().await?;
    Ok(())
}

/// A secret store that fails the next reads of the HubRise tokens it is told to, as a Keychain
/// does while the device is locked.
struct Flaky {
    store: InMemorySecretStore,
    failing_reads: AtomicU32,
}

impl SecretStore for Flaky {
    fn get(&self, key: String) -> Result<Option<String>, SecretStoreError> {
        let fail = key.starts_with("hubrise/connection/")
            && self
                .failing_reads
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
        if fail {
            return Err(SecretStoreError::Unavailable {
                reason: "locked".into(),
            });
        }
        self.store.get(key)
    }

    fn set(&self, key: String, value: String) -> Result<(), SecretStoreError> {
        self.store.set(key, value)
    }

    fn delete(&self, key: String) -> Result<(), SecretStoreError> {
        self.store.delete(key)
    }
}

/// The till cannot read its HubRise token when the stream brings an order (the bridge has
/// acknowledged it at HubRise, so no poll will bring it): the order is left to a catch-up, which
/// brings it once the token reads again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_streamed_while_the_token_cannot_be_read_comes_by_the_catch_up() -> TestResult {
    let secrets = Arc::new(Flaky {
        store: InMemorySecretStore::new(),
        failing_reads: AtomicU32::new(0),
    });
    let Streamed {
        stack,
        app,
        events,
        _dirs,
    } = streamed_till(secrets.clone(), &["3r4s3-1"]).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    secrets.failing_reads.store(1, Ordering::SeqCst);
    let order = stack
        .sandbox
        .admin()
        .place_order("3r4s3-1", sample_order("Ada"))
        .await?;
    events
        .wait_for(order_received(&order), Duration::from_secs(20))
        .await
        .map_err(|e| {
            format!("the order streamed while the token was unreadable was lost: {e:?}")
        })?;
    assert_eq!(
        secrets.failing_reads.load(Ordering::SeqCst),
        0,
        "a read failed"
    );
    app.close().await?;
    Ok(())
}
