//! Killed processes lose nothing. A child process applies the pending configuration or syncs,
//! and is killed at injected points (it aborts itself there) and at random moments (SIGKILL from
//! here); after each death the database is intact, and in the end every order is stored exactly
//! once and HubRise holds the final state of every change made at the till.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use passerelle_core::{OrderFilter, Passerelle, PasserelleConfig};
use passerelle_e2e::file_secrets::FileSecretStore;
use passerelle_test_support::{EventRecorder, World, config_for, config_from_json, config_to_json};

const CHILD: &str = env!("CARGO_BIN_EXE_passerelle-crash-child");

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
        let mut config = config_for(&world.sandbox, &data_dir);
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

    /// Runs the child; kills it after `kill_after` when given. Returns whether it exited cleanly.
    async fn run_child(
        &self,
        mode: &str,
        failpoint: Option<&str>,
        kill_after: Option<Duration>,
    ) -> bool {
        // A child to be killed at a random moment syncs for longer, so the kill lands mid-work.
        let rounds = if kill_after.is_some() { "40" } else { "3" };
        let mut command = tokio::process::Command::new(CHILD);
        command
            .args([
                mode,
                self.config_file.to_str().unwrap(),
                self.secrets_file.to_str().unwrap(),
                rounds,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        match failpoint {
            Some(point) => command.env("PASSERELLE_FAILPOINT", point),
            None => command.env_remove("PASSERELLE_FAILPOINT"),
        };
        let mut child = command.spawn().unwrap();
        if let Some(delay) = kill_after
            && tokio::time::timeout(delay, child.wait()).await.is_err()
        {
            child.start_kill().unwrap();
        }
        let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
            .await
            .expect("child hung")
            .unwrap();
        status.success()
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

        assert!(
            !h.run_child("open", Some(point), None).await,
            "the child died at {point}"
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
    let mut deaths = 0;
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
        if !h.run_child("sync", point, kill_after).await {
            deaths += 1;
        }
        h.integrity_ok();
    }
    assert!(deaths >= 60, "at least 60 kills, got {deaths}");

    // A last, undisturbed run finishes the work.
    assert!(h.run_child("sync", None, None).await);
    assert!(h.run_child("sync", None, None).await);
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
