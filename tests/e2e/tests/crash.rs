//! Killed processes lose nothing. A child process applies the pending configuration or syncs,
//! and is killed at injected points (it aborts itself there: SIGABRT) and at random moments
//! once it says its first sync cycle started and HubRise has answered it (SIGKILL from here,
//! checked); after each death the database is intact, and in the end every
//! order is stored exactly once and HubRise holds the final state of every change made at the
//! till.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use passerelle_core::{OrderFilter, Passerelle, PasserelleConfig};
use passerelle_e2e::CRASH_CHILD_SYNCING;
use passerelle_sandbox::ServerKind;
use passerelle_test_support::file_secrets::FileSecretStore;
use passerelle_test_support::{EventRecorder, World, config_for, config_from_json, config_to_json};
use tokio::io::{AsyncBufReadExt, BufReader};

const CHILD: &str = env!("CARGO_BIN_EXE_passerelle-crash-child");
/// What ends a child killed from here, and one that aborts itself at a fail point.
const SIGKILL: i32 = 9;
const SIGABRT: i32 = 6;

/// How a child run ended.
struct ChildRun {
    status: std::process::ExitStatus,
    /// It printed that its first sync cycle started.
    synced: bool,
    /// This test sent it SIGKILL (it was still running).
    killed: bool,
}

impl ChildRun {
    fn signal(&self) -> Option<i32> {
        self.status.signal()
    }
}

struct Harness {
    world: World,
    config_file: std::path::PathBuf,
    secrets_file: std::path::PathBuf,
}

impl Harness {
    async fn new() -> Harness {
        // Seventy short-lived processes in a few seconds: each starts with fresh rate windows, so
        // HubRise's limits are lifted here (rate limiting has its own tests).
        let limits = passerelle_sandbox::RateLimits::unlimited();
        let world = World::start_with(passerelle_sandbox::SandboxOptions {
            limits,
            ..Default::default()
        })
        .await;
        let config_file = world.dir.path().join("child-config.json");
        let secrets_file = world.dir.path().join("keychain.json");
        let data_dir = world.dir.path().join("data");
        let mut config = config_for(&world, &data_dir);
        config.initial_settings.poll_interval_secs = 30;
        std::fs::write(&config_file, config_to_json(&config).to_string()).unwrap();
        Harness {
            world,
            config_file,
            secrets_file,
        }
    }

    fn config(&self) -> PasserelleConfig {
        let json = std::fs::read_to_string(&self.config_file).unwrap();
        config_from_json(&serde_json::from_str(&json).unwrap()).unwrap()
    }

    async fn open(&self) -> Passerelle {
        let secrets = Arc::new(FileSecretStore::new(&self.secrets_file));
        Passerelle::open(self.config(), secrets, Arc::new(EventRecorder::new()))
            .await
            .unwrap()
    }

    fn db(&self) -> std::path::PathBuf {
        Path::new(&self.config().data_dir).join(passerelle_core::DATABASE_FILE)
    }

    /// Runs the child. With `kill_after`, waits for the child to say its first sync cycle
    /// started and for HubRise to have answered it, lets it work that long, then kills it
    /// (SIGKILL).
    async fn run_child(
        &self,
        mode: &str,
        failpoint: Option<&str>,
        kill_after: Option<Duration>,
    ) -> ChildRun {
        // A child to be killed never runs out of work before the kill.
        let rounds = if kill_after.is_some() { "100000" } else { "3" };
        let mut command = tokio::process::Command::new(CHILD);
        command
            .args([
                mode,
                self.config_file.to_str().unwrap(),
                self.secrets_file.to_str().unwrap(),
                rounds,
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        match failpoint {
            Some(point) => command.env("PASSERELLE_FAILPOINT", point),
            None => command.env_remove("PASSERELLE_FAILPOINT"),
        };
        self.world.sandbox.admin().reset_requests().await;
        let mut child = command.spawn().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let (started_tx, mut started) = tokio::sync::oneshot::channel();
        let reader = tokio::spawn(async move {
            let mut started_tx = Some(started_tx);
            while let Ok(Some(line)) = lines.next_line().await {
                if line == CRASH_CHILD_SYNCING
                    && let Some(tx) = started_tx.take()
                {
                    let _ = tx.send(());
                }
            }
            started_tx.is_none()
        });
        let mut killed = false;
        if let Some(delay) = kill_after {
            let syncing = tokio::time::timeout(Duration::from_secs(30), async {
                tokio::select! {
                    started = &mut started => started.is_ok(),
                    _ = child.wait() => false,
                }
            })
            .await
            .unwrap_or(false);
            assert!(
                syncing,
                "the child never said its first sync cycle started ({CHILD}): killing it would \
                 test nothing"
            );
            // And HubRise has answered it (the parent is not syncing: the API requests are the
            // child's); the kill comes `delay` later.
            let admin = self.world.sandbox.admin();
            let at_work = tokio::time::timeout(Duration::from_secs(10), async {
                while !admin
                    .requests()
                    .await
                    .iter()
                    .any(|r| r.server == ServerKind::Api)
                {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            })
            .await
            .is_ok();
            assert!(at_work, "the child made no request to HubRise");
            if tokio::time::timeout(delay, child.wait()).await.is_err() {
                child.start_kill().unwrap();
                killed = true;
            }
        }
        let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
            .await
            .expect("child hung")
            .unwrap();
        let synced = reader.await.unwrap();
        ChildRun {
            status,
            synced,
            killed,
        }
    }

    fn integrity_ok(&self) {
        let conn = rusqlite::Connection::open(self.db()).unwrap();
        let result: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(result, "ok");
    }
}

/// The raw state of restart-to-apply: (active version, pending settings present, pending rows).
fn apply_state(db: &Path) -> (i64, bool, i64) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let version: i64 = conn
        .query_row(
            "SELECT version FROM config_snapshots WHERE slot = 'active'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let pending: i64 = conn
        .query_row(
            "SELECT count(*) FROM config_snapshots WHERE slot = 'pending'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let pending_rows: i64 = conn
        .query_row(
            "SELECT count(*) FROM connections WHERE state = 'pending'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    (version, pending == 1, pending_rows)
}

#[tokio::test]
async fn a_crash_while_applying_leaves_the_old_or_the_new_configuration() {
    let points = [
        "apply.after_promote",
        "apply.after_removals",
        "apply.after_settings",
        "apply.before_commit",
    ];
    for point in points {
        let h = Harness::new().await;
        let app = h.open().await;
        h.world.sign_in(&app).await;
        for location in h.world.location_ids() {
            h.world.connect(&app, &location).await;
        }
        let mut settings = app.settings().unwrap();
        settings.poll_interval_secs = 45;
        app.update_settings(settings).await.unwrap();
        drop(app);
        let before = apply_state(&h.db());
        assert!(
            before.1 && before.2 == 2,
            "set up pending changes: {before:?}"
        );

        let run = h.run_child("open", Some(point), None).await;
        assert_eq!(
            run.signal(),
            Some(SIGABRT),
            "the child aborted itself at {point}: {:?}",
            run.status
        );
        let after = apply_state(&h.db());
        assert_eq!(
            after, before,
            "{point}: a crash inside the apply leaves the old configuration whole"
        );
        h.integrity_ok();

        let app = h.open().await;
        assert_eq!(
            apply_state(&h.db()),
            (before.0 + 1, false, 0),
            "the next open applies it whole"
        );
        assert_eq!(app.settings().unwrap().poll_interval_secs, 45);
        assert_eq!(
            app.connections()
                .unwrap()
                .iter()
                .filter(|c| c.state == passerelle_core::ConnectionState::Active)
                .count(),
            2
        );
    }
}

#[tokio::test]
async fn orders_are_neither_lost_nor_duplicated_across_seventy_kills() {
    let h = Harness::new().await;
    let location = h.world.location_ids()[0].clone();
    let app = h.open().await;
    h.world.sign_in(&app).await;
    h.world.connect(&app, &location).await;
    app.restart().await.unwrap();
    app.stop_sync().await.unwrap();
    drop(app);

    let points = [
        Some("sync.before_commit"),
        Some("sync.after_commit"),
        Some("outbox.before_push"),
        Some("outbox.after_push"),
        None,
    ];
    let mut placed = Vec::new();
    let mut seed = 0x9e37_79b9_u64;
    let (mut aborted, mut killed) = (0, 0);
    for round in 0..70 {
        placed.push(
            h.world
                .place_order(&location, &format!("Client {round}"))
                .await,
        );
        let point = points[round % points.len()];
        // Random moments: a cheap xorshift keeps the test reproducible.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let kill_after = point
            .is_none()
            .then(|| Duration::from_millis(2 + seed % 60));
        let run = h.run_child("sync", point, kill_after).await;
        match point {
            Some(point) => {
                assert_eq!(
                    run.signal(),
                    Some(SIGABRT),
                    "round {round}: the child aborted itself at {point}: {:?}",
                    run.status
                );
                aborted += 1;
            }
            None => {
                assert!(
                    run.synced && run.killed,
                    "round {round}: killed while syncing"
                );
                assert_eq!(
                    run.signal(),
                    Some(SIGKILL),
                    "round {round}: died of the kill: {:?}",
                    run.status
                );
                killed += 1;
            }
        }
        h.integrity_ok();
    }
    assert_eq!((aborted, killed), (56, 14), "every round ended in a death");

    // A last, undisturbed run finishes the work.
    for _ in 0..2 {
        let run = h.run_child("sync", None, None).await;
        assert!(run.status.success() && run.synced, "{:?}", run.status);
    }
    h.integrity_ok();

    let app = h.open().await;
    app.stop_sync().await.unwrap();
    let orders = app
        .orders(OrderFilter {
            limit: 1000,
            ..Default::default()
        })
        .unwrap();
    let mut ids: Vec<String> = orders.iter().map(|o| o.id.clone()).collect();
    ids.sort();
    let mut expected = placed.clone();
    expected.sort();
    assert_eq!(ids, expected, "every order exactly once");
    let admin = h.world.sandbox.admin();
    for order_id in &placed {
        let at_hubrise = admin.order(&location, order_id).await.unwrap();
        assert_eq!(at_hubrise["status"], "accepted", "{order_id}");
        assert!(at_hubrise["confirmed_time"].is_string());
        // Only safe fields were patched: nothing appended twice.
        assert_eq!(at_hubrise["items"].as_array().unwrap().len(), 2);
        assert_eq!(at_hubrise["charges"].as_array().unwrap().len(), 1);
    }
    let pending: usize = admin
        .connections()
        .await
        .iter()
        .map(|c| c.pending_events)
        .sum();
    assert_eq!(pending, 0, "every event was deleted at HubRise");
}
