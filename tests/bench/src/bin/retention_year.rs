//! A year of a busy restaurant under the default retention (issue 18, design D24): 300 orders a
//! day for 365 days (109,500 orders), each written as the sync engine writes it (the order, its
//! processed event, its finished `received` push) in its own transaction, while the instance's
//! retention pass of the previous day runs. Reports the database size at the end, the longest
//! time a pruning batch held the write lock, the longest time one of the day's order
//! transactions (another SQLite connection) waited for that lock while a pass ran, and the
//! latency of the instance's own writes during the passes (`mark_orders_seen`, through the same
//! writer as the sync engine's commits, every 2 ms while a pass runs): what a sync cycle waits.
//!
//! ```text
//! cargo run --release -p passerelle-bench --bin retention_year [-- --days 365 --per-day 300 --alone]
//! ```
//!
//! The clock is simulated: each day's pass runs through `apply_retention_as_of(end of the day)`
//! (one pass a day, so each pass has a whole day's rows to scrub and prune: a harsher case than
//! the hourly passes of the default interval). The orders are the sandbox's sample order as the
//! engine stored it, with its customer's name, address and phone.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use passerelle_bench::fixture::{self, CountingListener};
use passerelle_bench::sandbox::RunningSandbox;
use passerelle_bench::{BenchError, Result, arg, ensure, exit_with, flag};
use passerelle_core::{DATABASE_FILE, InMemorySecretStore, Passerelle, RateLimits};
use passerelle_sandbox::SandboxOptions;
use passerelle_test_support::seeded;
use rusqlite::{Connection, TransactionBehavior, params};
use serde_json::Value;

const DAY_MS: i64 = 86_400_000;
const GOAL_BYTES: u64 = 50_000_000;
const GOAL_LOCK: Duration = Duration::from_millis(20);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if flag(&args, "--help") || flag(&args, "-h") {
        println!(
            "cargo run --release -p passerelle-bench --bin retention_year [-- --days 365 --per-day 300]"
        );
        return ExitCode::SUCCESS;
    }
    exit_with(run(&args))
}

fn run(args: &[String]) -> Result<()> {
    let days: i64 = arg(args, "--days")?.unwrap_or(365);
    let per_day: i64 = arg(args, "--per-day")?.unwrap_or(300);
    let runtime = passerelle_bench::runtime()?;
    runtime.block_on(bench(days, per_day, flag(args, "--alone")))
}

fn ms(time: SystemTime) -> i64 {
    let elapsed = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
}

fn at(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

async fn bench(days: i64, per_day: i64, alone: bool) -> Result<()> {
    let sandbox = RunningSandbox::in_process(SandboxOptions::default()).await?;
    let info = &sandbox.info;
    let dir = tempfile::Builder::new()
        .prefix("passerelle-retention-year-")
        .tempdir()?;
    let db = dir.path().join(DATABASE_FILE);
    let secrets = Arc::new(InMemorySecretStore::new());
    let config = fixture::config(info, dir.path(), RateLimits::hubrise());
    ensure(config.retention.is_none(), || "default retention".into())?;
    let policy = config.retention();
    let app =
        Arc::new(Passerelle::open(config, secrets, Arc::new(CountingListener::default())).await?);
    let pos = &info.seed.pos_accounts[0];
    app.sign_in(&pos.email, &pos.password).await?;
    let paris = seeded::connect(&app, &seeded::choice(&info.seed, 0, "3r4s3-1")?).await?;
    app.restart().await?;
    sandbox
        .place_order("3r4s3-1", &fixture::sample_order("Marie"))
        .await?;
    app.sync_now().await?;
    app.stop_sync().await?;
    let template = fixture::stored_order_json(&db)?;
    let probe_id = template["id"].as_str().unwrap_or_default().to_owned();
    let mut probe_latencies: Vec<Duration> = Vec::new();

    let now = ms(SystemTime::now());
    let start = now - days * DAY_MS;
    let mut longest_batch = 0u64;
    let mut longest_batch_day = 0;
    let mut batches = 0u64;
    let mut longest_wait = Duration::ZERO;
    let mut waits_over_goal = 0u32;
    let mut pruned = 0u64;
    let mut scrubbed = 0u64;
    let mut peak_bytes = 0u64;
    let started = Instant::now();
    for day in 0..days {
        let day_start = start + day * DAY_MS;
        // The day's orders, written while the previous day's pass runs.
        let mut writer = {
            let db = db.clone();
            let template = template.clone();
            let connection_id = paris.id.clone();
            let location_id = paris.location_id.clone();
            tokio::task::spawn_blocking(move || {
                write_day(
                    &db,
                    &template,
                    &connection_id,
                    &location_id,
                    day,
                    day_start,
                    per_day,
                )
            })
        };
        // With `--alone`, the day's orders are written first and the pass runs with only the
        // probe: the probe's latency is then the pass's effect alone, without SQLite's
        // busy-handler sleeps between two connections.
        let waits_first = if alone {
            Some(
                std::mem::replace(&mut writer, tokio::task::spawn(async { Ok(Vec::new()) }))
                    .await
                    .map_err(|e| BenchError(format!("writer: {e}")))??,
            )
        } else {
            None
        };
        let stop = Arc::new(AtomicBool::new(false));
        let probe = spawn_probe(app.clone(), probe_id.clone(), stop.clone());
        let report = app.apply_retention_as_of(at(day_start)).await?;
        stop.store(true, Ordering::Relaxed);
        probe_latencies.extend(
            probe
                .await
                .map_err(|e| BenchError(format!("probe: {e}")))??,
        );
        let mut waits = writer
            .await
            .map_err(|e| BenchError(format!("writer: {e}")))??;
        waits.extend(waits_first.unwrap_or_default());
        if report.longest_batch_micros > longest_batch {
            longest_batch = report.longest_batch_micros;
            longest_batch_day = day;
        }
        batches += u64::from(report.batches);
        pruned += u64::from(report.orders_pruned);
        scrubbed += u64::from(report.orders_scrubbed);
        for wait in waits {
            longest_wait = longest_wait.max(wait);
            if wait > GOAL_LOCK {
                waits_over_goal += 1;
            }
        }
        peak_bytes = peak_bytes.max(files_bytes(&db));
        if day % 30 == 29 {
            eprintln!(
                "day {}: {:.1} MB, longest batch so far {:.2} ms ({:.0} s elapsed)",
                day + 1,
                files_bytes(&db) as f64 / 1e6,
                longest_batch as f64 / 1000.0,
                started.elapsed().as_secs_f64()
            );
        }
    }
    let last = app.apply_retention_as_of(at(now)).await?;
    longest_batch = longest_batch.max(last.longest_batch_micros);
    app.close().await?;
    let conn = Connection::open(&db)?;
    let count = |sql: &str| -> Result<i64> { Ok(conn.query_row(sql, [], |row| row.get(0))?) };
    let orders = count("SELECT count(*) FROM orders")?;
    let unscrubbed_old = count(&format!(
        "SELECT count(*) FROM orders WHERE scrubbed_at IS NULL AND created_at_ms < {}",
        now - 30 * DAY_MS
    ))?;
    let events = count("SELECT count(*) FROM processed_events")?;
    let outbox = count("SELECT count(*) FROM outbox")?;
    let free_pages = count("PRAGMA freelist_count")?;
    let size = std::fs::metadata(&db)?.len();
    drop(conn);

    println!(
        "A year of a busy restaurant, default retention ({} d orders, {} d personal data, {} d event ids)",
        policy.finished_orders_secs / 86_400,
        policy.personal_data_secs / 86_400,
        policy.processed_events_secs / 86_400
    );
    println!("  orders written:            {}", days * per_day);
    println!(
        "  orders pruned / scrubbed:  {pruned} / {}",
        scrubbed + u64::from(last.orders_scrubbed)
    );
    println!(
        "  rows left: orders {orders}, processed events {events}, outbox {outbox}; old unscrubbed {unscrubbed_old}; free pages {free_pages}"
    );
    println!(
        "  database at the end:       {size} bytes = {:.1} MB (goal <= 50 MB); peak with WAL {:.1} MB",
        size as f64 / 1e6,
        peak_bytes as f64 / 1e6
    );
    println!(
        "  longest pruning batch:     {:.2} ms holding the write lock (day {longest_batch_day}; {batches} batches; goal <= 20 ms)",
        longest_batch as f64 / 1000.0
    );
    println!(
        "  longest wait of an order transaction during a pass: {:.2} ms ({waits_over_goal} over 20 ms)",
        longest_wait.as_secs_f64() * 1000.0
    );
    probe_latencies.sort();
    let longest_probe = probe_latencies.last().copied().unwrap_or_default();
    let p99 = probe_latencies
        .get(probe_latencies.len().saturating_mul(99) / 100)
        .copied()
        .unwrap_or_default();
    println!(
        "  the instance's own writes during passes: {} writes, p99 {:.2} ms, max {:.2} ms ({} over 20 ms)",
        probe_latencies.len(),
        p99.as_secs_f64() * 1000.0,
        longest_probe.as_secs_f64() * 1000.0,
        probe_latencies.iter().filter(|d| **d > GOAL_LOCK).count()
    );
    println!("  elapsed: {:.0} s", started.elapsed().as_secs_f64());
    ensure(unscrubbed_old == 0, || {
        "personal data older than 30 days left".into()
    })?;
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    println!(
        "  verdict: size {}, batch {}, sync delay {}",
        verdict(size <= GOAL_BYTES),
        verdict(Duration::from_micros(longest_batch) <= GOAL_LOCK),
        verdict(longest_probe <= GOAL_LOCK)
    );
    sandbox.stop().await;
    Ok(())
}

/// Writes through the instance (the sync engine's writer) every 2 ms until `stop`; returns each
/// write's latency, its wait for the writer included.
fn spawn_probe(
    app: Arc<Passerelle>,
    order_id: String,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<Result<Vec<Duration>>> {
    tokio::task::spawn_blocking(move || {
        let mut latencies = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            let asked = Instant::now();
            app.mark_orders_seen(vec![order_id.clone()])?;
            latencies.push(asked.elapsed());
            std::thread::sleep(Duration::from_millis(2));
        }
        Ok(latencies)
    })
}

/// The database and its WAL, in bytes.
fn files_bytes(db: &std::path::Path) -> u64 {
    let wal = std::path::PathBuf::from(format!("{}-wal", db.display()));
    [db.to_path_buf(), wal]
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

/// Writes a day's orders one transaction each, as the engine commits them; returns how long
/// each waited for the write lock.
fn write_day(
    db: &std::path::Path,
    template: &Value,
    connection_id: &str,
    location_id: &str,
    day: i64,
    day_start: i64,
    per_day: i64,
) -> Result<Vec<Duration>> {
    let mut conn = Connection::open(db)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    // NORMAL here only to keep a year within minutes; the instance's own writes stay FULL.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    let spacing = DAY_MS / per_day.max(1);
    let mut waits = Vec::with_capacity(usize::try_from(per_day).unwrap_or(0));
    for i in 0..per_day {
        let created_ms = day_start + i * spacing;
        let created_at =
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(created_ms) * 1_000_000)
                .map_err(|e| BenchError(format!("time: {e}")))?
                .format(&time::format_description::well_known::Rfc3339)
                .map_err(|e| BenchError(format!("time: {e}")))?;
        let status = match i % 50 {
            0 => "cancelled",
            1 => "rejected",
            _ => "completed",
        };
        let id = format!("y{day:03}-{i:04}");
        let mut json = template.clone();
        json["id"] = Value::String(id.clone());
        json["created_at"] = Value::String(created_at.clone());
        json["status"] = Value::String(status.into());
        let asked = Instant::now();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        waits.push(asked.elapsed());
        fixture::copy_order_row(
            &tx,
            template["id"].as_str().unwrap_or_default(),
            &fixture::OrderRow {
                id: &id,
                location_id,
                connection_id,
                status,
                service_type: json["service_type"].as_str(),
                created_at: &created_at,
                created_ms,
                total: json["total"].as_str(),
                json: &json.to_string(),
                received_at: created_ms + 2_000,
            },
        )?;
        tx.execute(
            "INSERT INTO processed_events (connection_id, event_id, processed_at) VALUES (?1, ?2, ?3)",
            params![connection_id, format!("ev-{id}"), created_ms + 2_000],
        )?;
        tx.execute(
            "INSERT INTO outbox (connection_id, order_id, kind, patch, created_at, attempts,
                 next_attempt_at, finished_at, outcome)
             VALUES (?1, ?2, 'received', '{\"status\":\"received\"}', ?3, 1, ?3, ?3, 'pushed')",
            params![connection_id, id, created_ms + 2_000],
        )?;
        tx.commit()?;
    }
    Ok(waits)
}
