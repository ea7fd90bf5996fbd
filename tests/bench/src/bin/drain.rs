//! Draining a backlog (issue 5, decision 11): 10,000 order events waiting at the sandbox on
//! loopback, drained by `sync_now()`: orders per second, HTTP requests per order (from the
//! sandbox's request log), and the client process's peak memory.
//!
//! ```text
//! cargo build --release -p passerelle-sandbox
//! cargo run --release -p passerelle-bench --bin drain [-- --events 10000 --in-process]
//! ```
//!
//! Rate limits are LIFTED on both sides (decision 11): 10,000 events at about 3 requests each
//! exceed HubRise's daily limit. The sandbox runs with `--unlimited`; the client's limits are
//! `u32::MAX` per window (its windows stay one minute long, so its end-of-window safety margin,
//! at most 1 s per minute, still applies). The paced drain inside HubRise's real limits is
//! `tests/e2e/tests/faults.rs`.
//!
//! By default the sandbox is a separate process (`target/release/passerelle-sandbox serve
//! --unlimited`) and the orders are placed by another process, so the peak memory is the
//! client's alone: this process runs only Passerelle (and the tokio runtime it needs).
//! `--in-process` runs the sandbox inside this process instead (the peak then includes it).
//!
//! Every stored order is announced with `order(id)`; the schema indexes orders by id
//! (`orders_by_id`), so the drain is linear in the backlog (before that index, it scanned the
//! whole table per order and was quadratic).

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use passerelle_bench::fixture::{self, CountingListener};
use passerelle_bench::sandbox::{self, RunningSandbox};
use passerelle_bench::{BenchError, Result, arg, ensure, exit_with, flag, rss};
use passerelle_core::{DATABASE_FILE, InMemorySecretStore, Passerelle};
use passerelle_sandbox::{RateLimits as SandboxLimits, SandboxOptions};
use passerelle_test_support::seeded;
use serde_json::Value;

const COMMAND: &str = "cargo run --release -p passerelle-bench --bin drain";
const LOCATION: &str = "3r4s3-1";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if flag(&args, "--help") || flag(&args, "-h") {
        println!("{COMMAND} [-- --events N (10000) --in-process --sandbox PATH]");
        return ExitCode::SUCCESS;
    }
    if args.first().map(String::as_str) == Some("--place") {
        return exit_with(place(&args));
    }
    exit_with(run(&args))
}

fn run(args: &[String]) -> Result<()> {
    let events: usize = arg(args, "--events")?.unwrap_or(10_000);
    let in_process = flag(args, "--in-process");
    let binary = match arg::<String>(args, "--sandbox")? {
        Some(path) => path.into(),
        None => sandbox::sibling_binary("passerelle-sandbox")?,
    };
    let runtime = passerelle_bench::runtime()?;
    runtime.block_on(async {
        let sandbox = if in_process {
            RunningSandbox::in_process(SandboxOptions {
                limits: SandboxLimits::unlimited(),
                ..SandboxOptions::default()
            })
            .await?
        } else {
            RunningSandbox::spawn(&binary, &["--unlimited"]).await?
        };
        let result = bench(&sandbox, events, in_process).await;
        sandbox.stop().await;
        result
    })
}

/// `drain --place ADMIN_URL LOCATION COUNT`: places orders from a separate process.
fn place(args: &[String]) -> Result<()> {
    let [_, admin, location, count] = args else {
        return Err(BenchError(
            "usage: drain --place ADMIN_URL LOCATION COUNT".into(),
        ));
    };
    let count: usize = count
        .parse()
        .map_err(|_| BenchError(format!("bad count {count}")))?;
    let runtime = passerelle_bench::runtime()?;
    runtime.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::new();
        let url = format!("{admin}/locations/{location}/orders");
        let workers = 4;
        let mut tasks = Vec::new();
        for w in 0..workers {
            let client = client.clone();
            let url = url.clone();
            let share = count / workers + usize::from(w < count % workers);
            tasks.push(tokio::spawn(async move {
                for i in 0..share {
                    let order = fixture::sample_order(&format!("Client {w}-{i}"));
                    let status = client.post(&url).json(&order).send().await?.status();
                    if !status.is_success() {
                        return Err(BenchError(format!("placing an order: {status}")));
                    }
                }
                Ok::<(), BenchError>(())
            }));
        }
        for task in tasks {
            task.await
                .map_err(|e| BenchError(format!("placer task: {e}")))??;
        }
        Ok(())
    })
}

/// CPU time (user + system) of a process so far, from `/proc/PID/stat` (clock ticks of 1/100 s,
/// Linux's fixed USER_HZ for /proc).
fn cpu_secs(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

fn status_kib_of(pid: u32, field: &str) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

async fn bench(sandbox: &RunningSandbox, events: usize, in_process: bool) -> Result<()> {
    let info = &sandbox.info;
    let dir = tempfile::Builder::new()
        .prefix("passerelle-drain-")
        .tempdir()?;
    let secrets = Arc::new(InMemorySecretStore::new());
    let listener = Arc::new(CountingListener::default());
    let config = fixture::config(info, dir.path(), fixture::unlimited_client_limits());
    let app = Passerelle::open(config, secrets, listener.clone()).await?;
    seeded::sign_in(&app, &info.seed, 0).await?;
    let connection = seeded::connect(&app, &seeded::choice(&info.seed, 0, LOCATION)?).await?;
    app.restart().await?;
    // First cycle (callback check, catch-up query) done before the backlog builds up.
    app.sync_now().await?;
    app.stop_sync().await?;
    // `order(id)` announces every stored order: the schema must index orders by id.
    let indexed: i64 = rusqlite::Connection::open(dir.path().join(DATABASE_FILE))?.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'orders_by_id'",
        [],
        |row| row.get(0),
    )?;
    ensure(indexed == 1, || {
        "the database has no orders_by_id index: is the core older than schema 1 with it?".into()
    })?;

    let placing = Instant::now();
    let placer = tokio::process::Command::new(std::env::current_exe()?)
        .args(["--place", &info.admin_url, LOCATION, &events.to_string()])
        .output()
        .await?;
    ensure(placer.status.success(), || {
        format!(
            "the order placer failed: {}",
            String::from_utf8_lossy(&placer.stderr)
        )
    })?;
    eprintln!(
        "backlog: {events} orders placed in {:.1} s",
        placing.elapsed().as_secs_f64()
    );
    let waiting: u64 = sandbox
        .connections()
        .await?
        .iter()
        .filter(|c| c["client_id"] == info.seed.client_id.as_str())
        .filter_map(|c| c["pending_events"].as_u64())
        .sum();
    ensure(waiting == events as u64, || {
        format!("{waiting} events waiting at the sandbox, expected {events}")
    })?;
    sandbox.reset_requests().await?;

    let sandbox_pid = sandbox.child_pid().map(|p| p.to_string());
    let client_cpu_before = cpu_secs("self");
    let sandbox_cpu_before = sandbox_pid.as_deref().and_then(cpu_secs);
    let rss_before = rss::current_kib()?;
    let peak_before = rss::peak_kib()?;
    rss::reset_peak()?;
    let wall_start = std::time::SystemTime::now();
    let started = Instant::now();
    // When the last order was announced (stored and committed), sampled every 5 ms.
    let watcher = {
        let listener = listener.clone();
        let target = events as u64;
        tokio::spawn(async move {
            loop {
                if listener.received.load(Ordering::Relaxed) >= target {
                    return Instant::now();
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let report = app.sync_now().await?;
    let elapsed = started.elapsed();
    let client_cpu = cpu_secs("self")
        .zip(client_cpu_before)
        .map(|(after, before)| after - before);
    let sandbox_cpu = sandbox_pid
        .as_deref()
        .and_then(cpu_secs)
        .zip(sandbox_cpu_before)
        .map(|(after, before)| after - before);
    let peak = rss::peak_kib()?;
    let rss_after = rss::current_kib()?;
    let stored_at = tokio::time::timeout(Duration::from_secs(5), watcher)
        .await
        .map_err(|_| BenchError("not every order was announced".into()))?
        .map_err(|e| BenchError(format!("watcher: {e}")))?;
    let wall_end = std::time::SystemTime::now();
    let minute = |t: std::time::SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs()
            / 60
    };
    let minute_boundaries = minute(wall_end) - minute(wall_start);
    app.stop_sync().await?;

    // Checked on the file, not through orders(), which would add 10,000 decoded orders to the
    // process (after the peak was read, but still).
    let db = rusqlite::Connection::open(dir.path().join(DATABASE_FILE))?;
    let stored: i64 = db.query_row(
        "SELECT count(*) FROM orders WHERE connection_id = ?1",
        [&connection.id],
        |row| row.get(0),
    )?;
    let unfinished: i64 = db.query_row(
        "SELECT count(*) FROM outbox WHERE finished_at IS NULL",
        [],
        |row| row.get(0),
    )?;
    // The backlog only: no order existed before it.
    ensure(stored == events as i64, || {
        format!("{stored} orders stored, expected {events}")
    })?;
    ensure(unfinished == 0, || {
        format!("{unfinished} status pushes left in the outbox")
    })?;
    let left: u64 = sandbox
        .connections()
        .await?
        .iter()
        .filter(|c| c["client_id"] == info.seed.client_id.as_str())
        .filter_map(|c| c["pending_events"].as_u64())
        .sum();

    let requests = sandbox.requests("api").await?;
    let classify = |r: &Value| -> &'static str {
        let method = r["method"].as_str().unwrap_or_default();
        let path = r["path"].as_str().unwrap_or_default();
        match (method, path) {
            ("GET", "/v1/callback/events") => "GET /callback/events (list pages)",
            ("GET", p) if p.starts_with("/v1/location/orders/") => "GET /location/orders/:id",
            ("PATCH", p) if p.starts_with("/v1/location/orders/") => "PATCH /location/orders/:id",
            ("DELETE", p) if p.starts_with("/v1/callback/events/") => "DELETE /callback/events/:id",
            _ => "other",
        }
    };
    let mut tally: std::collections::BTreeMap<&str, (usize, u64)> = Default::default();
    for r in &requests {
        let entry = tally.entry(classify(r)).or_default();
        entry.0 += 1;
        entry.1 += r["duration_ms"].as_u64().unwrap_or(0);
    }
    let too_many = requests.iter().filter(|r| r["status"] == 429).count();
    let failed = requests
        .iter()
        .filter(|r| r["status"].as_u64().is_none_or(|s| s >= 400))
        .count();
    let per_order = requests.len() as f64 / events as f64;
    let rate = events as f64 / elapsed.as_secs_f64();
    let stored_rate = events as f64 / (stored_at - started).as_secs_f64();
    let sandbox_peak = sandbox
        .child_pid()
        .and_then(|pid| status_kib_of(pid, "VmHWM:"));

    let mode = if in_process { " -- --in-process" } else { "" };
    let events_arg = if events == 10_000 {
        String::new()
    } else if mode.is_empty() {
        format!(" -- --events {events}")
    } else {
        format!(" --events {events}")
    };
    println!("## Backlog drain: `{COMMAND}{mode}{events_arg}` ({events} events)");
    println!();
    println!("Machine: {}", passerelle_bench::machine());
    println!(
        "Rate limits lifted on both sides (decision 11): sandbox `--unlimited`, client u32::MAX per window."
    );
    println!(
        "Sandbox: {}.",
        if in_process {
            "in this process (the peak memory includes it)"
        } else {
            "separate process; orders placed by another process (the peak memory is the client's)"
        }
    );
    println!();
    println!("| figure | value | goal |");
    println!("|---|---:|---|");
    println!(
        "| drain time (`sync_now()`: events, orders stored, `received` pushed) | {:.2} s | |",
        elapsed.as_secs_f64()
    );
    println!("| orders per second (until the last push) | {rate:.0} | |");
    println!("| orders per second (until the last order stored) | {stored_rate:.0} | |");
    println!(
        "| HTTP requests per order | {per_order:.4} ({} requests) | ≤ 3.05: {} |",
        requests.len(),
        if per_order <= 3.05 { "met" } else { "MISSED" }
    );
    let whose = if in_process {
        "process (client AND in-process sandbox)"
    } else {
        "client"
    };
    let verdict = match (in_process, peak * 1024 <= 40_000_000) {
        (true, _) => "n/a: includes the sandbox",
        (false, true) => "met",
        (false, false) => "MISSED",
    };
    println!(
        "| {whose} peak RSS during the drain (VmHWM after reset) | {} MiB | ≤ 40 MB: {verdict} |",
        rss::mib(peak)
    );
    println!(
        "| {whose} RSS before / after the drain | {} / {} MiB | |",
        rss::mib(rss_before),
        rss::mib(rss_after)
    );
    println!(
        "| {whose} peak RSS during setup (before the reset) | {} MiB | |",
        rss::mib(peak_before)
    );
    if let Some(kib) = sandbox_peak {
        println!(
            "| sandbox process peak RSS (not the client's) | {} MiB | |",
            rss::mib(kib)
        );
    }
    let secs = |cpu: Option<f64>| cpu.map_or("n/a".to_owned(), |c| format!("{c:.1} s"));
    println!(
        "| CPU time during the drain: client / sandbox process | {} / {} | |",
        secs(client_cpu),
        secs(sandbox_cpu)
    );
    println!("| 429 answers / failed requests | {too_many} / {failed} | 0 |");
    println!(
        "| sync report (received, updated, pushed) | {}, {}, {} | |",
        report.orders_received, report.orders_updated, report.changes_pushed
    );
    println!("| events left at the sandbox | {left} | 0 |");
    println!(
        "| minute boundaries crossed (client limiter margin ≤ 1 s each) | {minute_boundaries} | |"
    );
    println!();
    println!("| request | count | per order | mean time in the sandbox (its log, whole ms) |");
    println!("|---|---:|---:|---:|");
    for (kind, (count, total_ms)) in &tally {
        println!(
            "| {kind} | {count} | {:.4} | {:.2} |",
            *count as f64 / events as f64,
            *total_ms as f64 / *count as f64
        );
    }
    Ok(())
}
