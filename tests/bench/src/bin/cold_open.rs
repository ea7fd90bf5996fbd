//! Cold open (issue 7, decision 18): `Passerelle::open()` on a database holding 100,000 orders
//! and 3 connections with a pending configuration to apply, against a bare rusqlite open plus
//! the same write transaction and one query of the same file, measured in the same run; and
//! `open()` with nothing pending against a bare open plus one query.
//!
//! ```text
//! cargo run --release -p passerelle-bench --bin cold_open [-- --orders 100000 --runs 50 --process-runs 20]
//! ```
//!
//! The database: Paris and Lyon connected and active, Nice (another HubRise account) connected
//! and pending, and a settings change pending, all made through the public API against an
//! in-process sandbox (rate limits lifted on the sandbox, HubRise's limits on the client); then
//! the orders written with rusqlite (see `fixture.rs`). Before each run the `connections` and
//! `config_snapshots` tables are put back, so every "pending" run applies the same change.
//!
//! `open()` also reloads the POS backend's configuration (one HTTP request when a POS account is
//! signed in, as here) and starts the sync engine. Two series: the POS backend and HubRise are
//! the live in-process sandbox on loopback (the reload answers 304 Not Modified), or every server
//! is on a closed port (the reload fails at once with "connection refused" and the app opens on
//! its last configuration).
//!
//! The core builds one HTTP client per process, on its first request. The in-process series
//! reopen in a process that already has it (as an app reopening after a soft restart); the
//! fresh-process series (a child process per run) pay for it inside their first `open()`, through
//! the reload: that is the iPad's cold start.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use passerelle_bench::fixture::{self, CountingListener, OrderTarget, TableSnapshot};
use passerelle_bench::sandbox::RunningSandbox;
use passerelle_bench::stats::{self, Samples};
use passerelle_bench::{BenchError, Result, arg, ensure, exit_with};
use passerelle_core::{
    ConnectionState, DATABASE_FILE, InMemorySecretStore, Passerelle, PasserelleConfig, RateLimits,
};
use passerelle_sandbox::{RateLimits as SandboxLimits, SandboxOptions};
use passerelle_test_support::{config_from_json, config_to_json, seeded};
use rusqlite::{Connection, TransactionBehavior};

const COMMAND: &str = "cargo run --release -p passerelle-bench --bin cold_open";

/// The connections list the app shows first: the "one query" of the baselines (the columns the
/// core reads for a connection).
const LIST_LIVE: &str = "SELECT id, location_id, location_name, hubrise_account_id, account_name,
        catalog_id, catalog_name, customer_list_id, customer_list_name, app_instance_id, origin,
        state, needs_confirmation, reconnect_needed, last_failed_at, last_failed_reason,
        created_at
    FROM connections WHERE pos_account_id = ?1 AND state <> 'removed' ORDER BY created_at, id";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!(
            "{COMMAND} [-- --orders N (100000) --runs N (50) --process-runs N (20) --keep DIR]"
        );
        return ExitCode::SUCCESS;
    }
    if args.first().map(String::as_str) == Some("--child") {
        return exit_with(child(&args));
    }
    exit_with(run(&args))
}

fn run(args: &[String]) -> Result<()> {
    let orders: usize = arg(args, "--orders")?.unwrap_or(100_000);
    let runs: usize = arg(args, "--runs")?.unwrap_or(50);
    let process_runs: usize = arg(args, "--process-runs")?.unwrap_or(20);
    let keep: Option<PathBuf> = arg(args, "--keep")?;
    let runtime = passerelle_bench::runtime()?;
    runtime.block_on(bench(orders, runs, process_runs, keep))
}

struct Fixture {
    dir: tempfile::TempDir,
    db: PathBuf,
    secrets: Arc<InMemorySecretStore>,
    pos_account_id: String,
    snapshot: TableSnapshot,
}

async fn build_fixture(sandbox: &RunningSandbox, orders: usize) -> Result<Fixture> {
    let info = &sandbox.info;
    let dir = tempfile::Builder::new()
        .prefix("passerelle-cold-open-")
        .tempdir()?;
    let db = dir.path().join(DATABASE_FILE);
    let secrets = Arc::new(InMemorySecretStore::new());
    let events = Arc::new(CountingListener::default());
    let config = fixture::config(info, dir.path(), RateLimits::hubrise());
    let app = Passerelle::open(config, secrets.clone(), events).await?;
    let pos = &info.seed.pos_accounts[0];
    app.sign_in(&pos.email, &pos.password).await?;
    let paris = seeded::connect(&app, &seeded::choice(&info.seed, 0, "3r4s3-1")?).await?;
    let lyon = seeded::connect(&app, &seeded::choice(&info.seed, 0, "3r4s3-2")?).await?;
    app.restart().await?;
    // One real order through the engine: the template of the bulk rows.
    sandbox
        .place_order("3r4s3-1", &fixture::sample_order("Marie"))
        .await?;
    app.sync_now().await?;
    // The pending configuration: a third connection (another HubRise account) and new settings.
    seeded::connect(&app, &seeded::choice(&info.seed, 1, "7hq2c-1")?).await?;
    let mut settings = app.settings()?;
    settings.poll_interval_secs = 2;
    app.update_settings(settings).await?;
    let pending = app.pending_changes()?;
    ensure(pending.len() == 2 && app.restart_required()?, || {
        format!("expected 2 pending changes, got {pending:?}")
    })?;
    app.stop_sync().await?;
    drop(app);

    let template = fixture::stored_order_json(&db)?;
    let targets = [
        OrderTarget {
            connection_id: paris.id.clone(),
            location_id: paris.location_id.clone(),
        },
        OrderTarget {
            connection_id: lyon.id.clone(),
            location_id: lyon.location_id.clone(),
        },
    ];
    let started = Instant::now();
    fixture::bulk_insert_orders(&db, &template, &targets, orders, now_ms())?;
    eprintln!(
        "fixture: {orders} orders written in {:.1} s; database {} MiB",
        started.elapsed().as_secs_f64(),
        fixture::file_mib(&db)
    );
    let snapshot = TableSnapshot::take(&db, &["connections", "config_snapshots"])?;
    Ok(Fixture {
        dir,
        db,
        secrets,
        pos_account_id: pos.account_id.clone(),
        snapshot,
    })
}

fn now_ms() -> i64 {
    let elapsed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
}

/// `Passerelle::open()` timed; then checks what it applied and stops its sync (not timed).
async fn core_open(
    config: PasserelleConfig,
    secrets: Arc<InMemorySecretStore>,
    expect_active: usize,
) -> Result<Duration> {
    let events = Arc::new(CountingListener::default());
    let started = Instant::now();
    let app = Passerelle::open(config, secrets, events).await?;
    let elapsed = started.elapsed();
    let active = app
        .connections()?
        .iter()
        .filter(|c| c.state == ConnectionState::Active)
        .count();
    let pending = app.restart_required()?;
    app.stop_sync().await?;
    drop(app);
    ensure(active == expect_active && !pending, || {
        format!(
            "open() left {active} active connections (expected {expect_active}), restart required: {pending}"
        )
    })?;
    Ok(elapsed)
}

fn list_live(conn: &Connection, account: &str) -> Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached(LIST_LIVE)?;
    let rows = stmt
        .query_map([account], |row| {
            // Read every column, as the core does for a connection.
            for i in 2..17 {
                let _: rusqlite::types::Value = row.get(i)?;
            }
            Ok((row.get(0)?, row.get(11)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Bare rusqlite: open, the apply transaction (the core's statements), one query.
fn bare_pending(db: &Path, account: &str) -> Result<Duration> {
    let started = Instant::now();
    let mut conn = Connection::open(db)?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let now = now_ms();
    tx.execute(
        "UPDATE connections SET state = 'active', updated_at = ?2
         WHERE pos_account_id = ?1 AND state = 'pending' AND needs_confirmation = 0",
        rusqlite::params![account, now],
    )?;
    tx.execute(
        "UPDATE connections SET state = 'removed', updated_at = ?2
         WHERE pos_account_id = ?1 AND state = 'removing'",
        rusqlite::params![account, now],
    )?;
    let ids: Vec<String> = list_live(&tx, account)?
        .into_iter()
        .filter(|(_, state)| state == "active")
        .map(|(id, _)| id)
        .collect();
    let snapshot = |slot: &str| -> Result<Option<(i64, String)>> {
        let mut stmt = tx.prepare("SELECT version, json FROM config_snapshots WHERE slot = ?1")?;
        let mut rows = stmt.query([slot])?;
        Ok(match rows.next()? {
            Some(row) => Some((row.get(0)?, row.get(1)?)),
            None => None,
        })
    };
    let (version, active) =
        snapshot("active")?.ok_or_else(|| BenchError("no active configuration snapshot".into()))?;
    let settings = match snapshot("pending")? {
        Some((_, json)) => serde_json::from_str::<serde_json::Value>(&json)?,
        None => serde_json::from_str::<serde_json::Value>(&active)?["settings"].clone(),
    };
    tx.execute("DELETE FROM config_snapshots WHERE slot = 'pending'", [])?;
    let next = serde_json::json!({
        "version": version + 1,
        "settings": settings,
        "pos_account_id": account,
        "connection_ids": ids,
        "applied_at_ms": now,
    });
    tx.execute(
        "INSERT INTO config_snapshots (slot, version, json, written_at) VALUES ('active', ?1, ?2, ?3)
         ON CONFLICT (slot) DO UPDATE SET version = excluded.version, json = excluded.json,
             written_at = excluded.written_at",
        rusqlite::params![version + 1, next.to_string(), now],
    )?;
    tx.commit()?;
    let rows = list_live(&conn, account)?;
    let elapsed = started.elapsed();
    ensure(rows.len() == 3, || {
        format!("bare query saw {} connections", rows.len())
    })?;
    Ok(elapsed)
}

/// Bare rusqlite: open and one query.
fn bare_query(db: &Path, account: &str) -> Result<Duration> {
    let started = Instant::now();
    let conn = Connection::open(db)?;
    let rows = list_live(&conn, account)?;
    let elapsed = started.elapsed();
    ensure(rows.len() == 3, || {
        format!("bare query saw {} connections", rows.len())
    })?;
    Ok(elapsed)
}

/// What a child process needs to open the same database.
fn child_spec(
    config: &PasserelleConfig,
    secrets: &InMemorySecretStore,
) -> Result<serde_json::Value> {
    let mut spec = config_to_json(config);
    spec["secrets"] = serde_json::to_value(fixture::dump_secrets(secrets)?)?;
    Ok(spec)
}

/// One measurement in a fresh process: `cold_open --child MODE SPEC_FILE ACCOUNT`, MODE one of
/// `core` (the first `open()`), `core-warm` (`open()` after an untimed one of an empty directory,
/// which makes no request), `bare`, `bare-plain`, `client` (the process's first HTTP client).
fn child(args: &[String]) -> Result<()> {
    let [_, mode, spec, account] = args else {
        return Err(BenchError(
            "usage: cold_open --child core|core-warm|bare|bare-plain|client SPEC ACCOUNT".into(),
        ));
    };
    let spec: serde_json::Value = serde_json::from_slice(&std::fs::read(spec)?)?;
    let text = |key: &str| spec[key].as_str().unwrap_or_default().to_owned();
    let elapsed = match mode.as_str() {
        "bare" => bare_pending(
            &PathBuf::from(text("data_dir")).join(DATABASE_FILE),
            account,
        )?,
        "bare-plain" => bare_query(
            &PathBuf::from(text("data_dir")).join(DATABASE_FILE),
            account,
        )?,
        "client" => http_client_build()?,
        "core" | "core-warm" => {
            let secrets: std::collections::BTreeMap<String, String> =
                serde_json::from_value(spec["secrets"].clone())?;
            let config = config_from_json(&spec).map_err(BenchError)?;
            let secrets = fixture::load_secrets(&secrets)?;
            let runtime = passerelle_bench::runtime()?;
            runtime.block_on(async {
                if mode == "core-warm" {
                    // Untimed: open() of an empty directory, nobody signed in, so no request
                    // and no HTTP client; it warms everything else a first open() initialises.
                    let empty = tempfile::tempdir()?;
                    let mut warm = config.clone();
                    warm.data_dir = empty.path().display().to_string();
                    let app = Passerelle::open(
                        warm,
                        Arc::new(InMemorySecretStore::new()),
                        Arc::new(CountingListener::default()),
                    )
                    .await?;
                    app.stop_sync().await?;
                    drop(app);
                }
                core_open(config, secrets, 3).await
            })?
        }
        other => return Err(BenchError(format!("unknown child mode {other}"))),
    };
    println!("OPEN_NS {}", elapsed.as_nanos());
    Ok(())
}

async fn in_child(mode: &str, spec: &Path, account: &str) -> Result<Duration> {
    let exe = std::env::current_exe()?;
    let output = tokio::process::Command::new(exe)
        .args(["--child", mode])
        .arg(spec)
        .arg(account)
        .output()
        .await?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    ensure(output.status.success(), || {
        format!(
            "child {mode} failed: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        )
    })?;
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("OPEN_NS "))
        .and_then(|n| n.trim().parse::<u64>().ok())
        .map(Duration::from_nanos)
        .ok_or_else(|| BenchError(format!("child {mode} printed no time: {stdout}")))
}

/// Building an HTTP client as the core does: paid once per process, by its first request (in a
/// fresh process, inside the first `open()`'s reload).
fn http_client_build() -> Result<Duration> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let started = Instant::now();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .user_agent("passerelle-bench")
        .build()?;
    let elapsed = started.elapsed();
    drop(client);
    Ok(elapsed)
}

/// One HTTP request to the POS backend on loopback over a new connection (the reload's cost
/// without its body), from a fresh client.
async fn loopback_request(pos_url: &str) -> Result<Duration> {
    let client = reqwest::Client::builder().build()?;
    let started = Instant::now();
    let response = client
        .get(format!("{pos_url}/hubrise/configuration"))
        .send()
        .await?;
    let _ = response.bytes().await?;
    Ok(started.elapsed())
}

/// `order(id)` and the first page of `orders()` on the fixture. `order(id)` looks orders up by
/// id alone, through the schema's `orders_by_id` index (the primary key is `(location_id, id)`).
async fn queries(
    config: &PasserelleConfig,
    secrets: Arc<InMemorySecretStore>,
    db: &Path,
    runs: usize,
) -> Result<(Samples, Samples)> {
    let indexed: i64 = Connection::open(db)?.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'orders_by_id'",
        [],
        |row| row.get(0),
    )?;
    ensure(indexed == 1, || {
        "the database has no orders_by_id index: is the core older than schema 1 with it?".into()
    })?;
    let app = Passerelle::open(
        config.clone(),
        secrets,
        Arc::new(CountingListener::default()),
    )
    .await?;
    app.stop_sync().await?;
    let old_order = "bk050000";
    let mut by_id = Samples::new();
    for _ in 0..runs {
        let started = Instant::now();
        let order = app.order(old_order)?;
        by_id.push(started.elapsed());
        ensure(order.is_some(), || format!("order {old_order} not found"))?;
    }
    let mut first_page = Samples::new();
    for _ in 0..runs {
        let started = Instant::now();
        let page = app.orders(passerelle_core::OrderFilter {
            limit: 100,
            ..Default::default()
        })?;
        first_page.push(started.elapsed());
        ensure(page.len() == 100, || {
            format!("first page has {}", page.len())
        })?;
    }
    app.stop_sync().await?;
    drop(app);
    Ok((by_id, first_page))
}

async fn bench(
    orders: usize,
    runs: usize,
    process_runs: usize,
    keep: Option<PathBuf>,
) -> Result<()> {
    let sandbox = RunningSandbox::in_process(SandboxOptions {
        limits: SandboxLimits::unlimited(),
        ..SandboxOptions::default()
    })
    .await?;
    let info = sandbox.info.clone();
    let fx = build_fixture(&sandbox, orders).await?;
    let live = fixture::config(&info, fx.dir.path(), RateLimits::hubrise());
    let closed = fixture::closed_port_config(&info, fx.dir.path());
    let account = fx.pos_account_id.clone();

    // Warm-up (not measured): the first open after the fixture fetches the POS backend's new
    // configuration (200, ETag stored); later opens get 304, as on a device between restarts.
    for config in [&live, &closed] {
        fx.snapshot.restore(&fx.db)?;
        core_open(config.clone(), fx.secrets.clone(), 3).await?;
    }
    fx.snapshot.restore(&fx.db)?;
    bare_pending(&fx.db, &account)?;

    let mut bare_apply = Samples::new();
    let mut core_apply_live = Samples::new();
    let mut core_apply_closed = Samples::new();
    let mut bare_plain = Samples::new();
    let mut core_plain_live = Samples::new();
    let mut client_build = Samples::new();
    let mut loopback = Samples::new();
    for _ in 0..runs {
        fx.snapshot.restore(&fx.db)?;
        bare_apply.push(bare_pending(&fx.db, &account)?);
        fx.snapshot.restore(&fx.db)?;
        core_apply_live.push(core_open(live.clone(), fx.secrets.clone(), 3).await?);
        fx.snapshot.restore(&fx.db)?;
        core_apply_closed.push(core_open(closed.clone(), fx.secrets.clone(), 3).await?);
        // Now nothing is pending.
        bare_plain.push(bare_query(&fx.db, &account)?);
        core_plain_live.push(core_open(live.clone(), fx.secrets.clone(), 3).await?);
        client_build.push(http_client_build()?);
        loopback.push(loopback_request(&info.pos_url).await?);
    }

    // Fresh processes: the first open() of a process, which builds the process's HTTP client
    // for the reload (and any other one-time initialisation).
    let spec_path = fx.dir.path().join("child-spec.json");
    std::fs::write(
        &spec_path,
        serde_json::to_vec(&child_spec(&live, &fx.secrets)?)?,
    )?;
    let mut process_core = Samples::new();
    let mut process_bare = Samples::new();
    let mut process_core_plain = Samples::new();
    let mut process_bare_plain = Samples::new();
    let mut process_core_warm = Samples::new();
    let mut process_client = Samples::new();
    for _ in 0..process_runs {
        fx.snapshot.restore(&fx.db)?;
        process_bare.push(in_child("bare", &spec_path, &account).await?);
        fx.snapshot.restore(&fx.db)?;
        process_core.push(in_child("core", &spec_path, &account).await?);
        // Now nothing is pending.
        process_bare_plain.push(in_child("bare-plain", &spec_path, &account).await?);
        process_core_plain.push(in_child("core", &spec_path, &account).await?);
        // Nothing pending either: what the first request of a process adds.
        process_core_warm.push(in_child("core-warm", &spec_path, &account).await?);
        process_client.push(in_child("client", &spec_path, &account).await?);
    }
    std::fs::remove_file(&spec_path)?;

    // Queries the app makes on this database after opening (not part of the cold open).
    let (by_id, first_page) = queries(&closed, fx.secrets.clone(), &fx.db, runs.min(20)).await?;

    let total_orders: i64 =
        Connection::open(&fx.db)?.query_row("SELECT count(*) FROM orders", [], |row| row.get(0))?;
    println!(
        "## Cold open: `{COMMAND} -- --orders {orders} --runs {runs} --process-runs {process_runs}`"
    );
    println!();
    println!("Machine: {}", passerelle_bench::machine());
    println!(
        "Database: {total_orders} orders, 3 connections (2 active, 1 pending) and a pending settings change; {} MiB; page cache warm.",
        fixture::file_mib(&fx.db)
    );
    println!();
    println!("{}", stats::HEADER);
    let pending_live = "open() reopened in process, pending applied, sandbox live";
    let pending_closed = "open() reopened in process, pending applied, servers on a closed port";
    let bare_apply_name = "bare: rusqlite open + same write tx + 1 query";
    let plain_live = "open() reopened in process, nothing pending, sandbox live";
    let bare_plain_name = "bare: rusqlite open + 1 query";
    let process_core_name = "first open() in a fresh process, pending, sandbox live";
    let process_bare_name = "bare in a fresh process: open + same write tx + 1 query";
    let process_plain_name = "first open() in a fresh process, nothing pending, sandbox live";
    let process_bare_plain_name = "bare in a fresh process: open + 1 query";
    let process_warm_name =
        "fresh process, nothing pending, after an untimed open() that made no request";
    let process_client_name = "fresh process: its first HTTP client build (ring, rustls)";
    for (name, samples) in [
        (pending_live, &core_apply_live),
        (pending_closed, &core_apply_closed),
        (bare_apply_name, &bare_apply),
        (plain_live, &core_plain_live),
        (bare_plain_name, &bare_plain),
        (process_core_name, &process_core),
        (process_bare_name, &process_bare),
        (process_plain_name, &process_core_plain),
        (process_bare_plain_name, &process_bare_plain),
        (process_warm_name, &process_core_warm),
        (process_client_name, &process_client),
        (
            "in process: another HTTP client build (ring, rustls)",
            &client_build,
        ),
        (
            "one GET to the POS backend on loopback, new connection",
            &loopback,
        ),
    ] {
        println!("{}", stats::row(name, &samples.summary()));
    }
    println!();
    println!("After opening, on the same database (not part of the cold open; sync stopped):");
    println!();
    println!("{}", stats::HEADER);
    println!(
        "{}",
        stats::row("order(id) of an old order", &by_id.summary())
    );
    println!(
        "{}",
        stats::row(
            "orders(limit 100): the inbox's first page",
            &first_page.summary()
        )
    );
    println!();
    let verdict = |median: Duration, bare: Duration| {
        let within_5ms = median <= Duration::from_millis(5);
        let within_3x = median.as_secs_f64() <= 3.0 * bare.as_secs_f64();
        format!(
            "median {} ms (goal ≤ 5 ms: {}), {}× bare (goal ≤ 3×: {})",
            stats::ms(median),
            if within_5ms { "met" } else { "MISSED" },
            stats::ratio(median, bare),
            if within_3x { "met" } else { "MISSED" }
        )
    };
    println!(
        "- reopened in process, pending, sandbox live: {}",
        verdict(core_apply_live.median(), bare_apply.median())
    );
    println!(
        "- reopened in process, pending, closed port: {}",
        verdict(core_apply_closed.median(), bare_apply.median())
    );
    println!(
        "- reopened in process, nothing pending, sandbox live: {}",
        verdict(core_plain_live.median(), bare_plain.median())
    );
    println!(
        "- fresh process (the cold start), pending, sandbox live: {}",
        verdict(process_core.median(), process_bare.median())
    );
    println!(
        "- fresh process (the cold start), nothing pending, sandbox live: {}",
        verdict(process_core_plain.median(), process_bare_plain.median())
    );
    if let Some(keep) = keep {
        std::fs::create_dir_all(&keep)?;
        std::fs::copy(&fx.db, keep.join(DATABASE_FILE))?;
        eprintln!("database copied to {}", keep.display());
    }
    sandbox.stop().await;
    Ok(())
}
