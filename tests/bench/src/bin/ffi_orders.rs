//! The order list across the FFI (issues 7 and 17): `orders(filter limit 1000)`, the inbox's
//! summaries (a page of 50, and 1,000) and one full order, called from Rust and from Swift
//! through the generated bindings, in the same run, on the same database. Goals: the full list
//! from Swift within 2× of Rust; 50 summaries from Swift ≤ 1 ms and ≤ 1.5× Rust; 1,000
//! summaries ≤ 10 ms; one full order ≤ 0.5 ms.
//!
//! ```text
//! cargo build --release -p passerelle-ffi          # the library the Swift package links
//! cargo run --release -p passerelle-bench --bin ffi_orders [-- --orders 5000 --runs 50]
//! ```
//!
//! The database (under target/bench/ffi_orders, because `with-swift` only sees the project):
//! Paris connected through the public API against an in-process sandbox, one order synced by the
//! engine, then `--orders` more written with rusqlite from its JSON. Both sides then open it
//! with every server on a closed port and an empty secret store, stop the sync at once, warm up
//! with 5 calls and time `--runs` calls. The Swift side is `tests/bench/swift/OrdersBench`, built and run by
//! `../shared/tools/with-swift env PASSERELLE_FFI=local PASSERELLE_RUST_PROFILE=<profile> swift run -c release …`
//! (the environment variable is set inside with-swift, which clears the caller's environment).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use passerelle_bench::fixture::{self, CountingListener, OrderTarget};
use passerelle_bench::sandbox::{RunningSandbox, SandboxInfo};
use passerelle_bench::stats::{self, Samples, Summary};
use passerelle_bench::{BenchError, Result, arg, ensure, exit_with, flag};
use passerelle_core::{DATABASE_FILE, InMemorySecretStore, OrderFilter, Passerelle, RateLimits};
use passerelle_sandbox::SandboxOptions;
use passerelle_test_support::seeded;

const COMMAND: &str = "cargo run --release -p passerelle-bench --bin ffi_orders";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if flag(&args, "--help") || flag(&args, "-h") {
        println!(
            "{COMMAND} [-- --orders N (5000) --runs N (50) --limit N (1000) --profile release|debug --no-swift]"
        );
        return ExitCode::SUCCESS;
    }
    exit_with(run(&args))
}

/// The repository's root (this crate is tests/bench).
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run(args: &[String]) -> Result<()> {
    let orders: usize = arg(args, "--orders")?.unwrap_or(5_000);
    let runs: usize = arg(args, "--runs")?.unwrap_or(50);
    let limit: u32 = arg(args, "--limit")?.unwrap_or(1_000);
    let profile: String = arg(args, "--profile")?.unwrap_or_else(|| {
        if cfg!(debug_assertions) {
            "debug".into()
        } else {
            "release".into()
        }
    });
    let root = workspace_root().canonicalize()?;
    let dir = root.join("target/bench/ffi_orders");
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    let runtime = passerelle_bench::runtime()?;
    let rust = runtime.block_on(async {
        let info = build(&dir, orders).await?;
        measure_rust(&info, &dir, runs, limit).await
    })?;
    drop(runtime);

    let swift = if flag(args, "--no-swift") {
        None
    } else {
        Some(measure_swift(&root, &dir, runs, limit, &profile)?)
    };
    let rust_list = &rust.list;
    let rust_trivial = &rust.trivial;

    println!("## Order list across the FFI: `{COMMAND} -- --orders {orders} --runs {runs}`");
    println!();
    println!("Machine: {}", passerelle_bench::machine());
    println!(
        "Database: {} orders; `orders(OrderFilter {{ limit: {limit} }})` returns {limit} orders with items, options, charges, payments, customer.",
        orders + 1
    );
    println!(
        "Swift links target/{profile}/libpasserelle_ffi.so; both sides in release mode unless the profile says debug."
    );
    println!();
    println!("{}", stats::HEADER);
    println!(
        "{}",
        stats::row(
            &format!("Rust: orders(limit {limit})"),
            &rust_list.summary()
        )
    );
    if let Some(swift) = &swift {
        let (swift_list, swift_trivial) = (&swift.list, &swift.trivial);
        println!(
            "{}",
            stats::row(
                &format!("Swift through the bindings: orders(filter: limit {limit})"),
                swift_list
            )
        );
        println!(
            "{}",
            stats::row("Rust: device_id()", &rust_trivial.summary())
        );
        println!(
            "{}",
            stats::row("Swift through the bindings: deviceId()", swift_trivial)
        );
        print_inbox(&rust, swift);
        let ratio = swift_list.median.as_secs_f64() / rust_list.median().as_secs_f64();
        println!();
        println!(
            "- Swift / Rust (medians): {ratio:.2}× (goal ≤ 2×: {})",
            if ratio <= 2.0 { "met" } else { "MISSED" }
        );
        println!(
            "- per order: Rust {:.2} µs, Swift {:.2} µs",
            rust_list.median().as_secs_f64() * 1e6 / f64::from(limit),
            swift_list.median.as_secs_f64() * 1e6 / f64::from(limit)
        );
    } else {
        println!(
            "{}",
            stats::row("Rust: device_id()", &rust_trivial.summary())
        );
        for (call, samples) in [
            ("order_summaries(limit 50)", &rust.summaries_50),
            ("order_summaries(limit 1000)", &rust.summaries_1000),
            ("order(id), one full order", &rust.order),
        ] {
            println!(
                "{}",
                stats::row(&format!("Rust: {call}"), &samples.summary())
            );
        }
        println!();
        println!("- Swift not run (--no-swift)");
    }
    Ok(())
}

async fn build(dir: &Path, orders: usize) -> Result<SandboxInfo> {
    let sandbox = RunningSandbox::in_process(SandboxOptions::default()).await?;
    let info = sandbox.info.clone();
    let secrets = Arc::new(InMemorySecretStore::new());
    let config = fixture::config(&info, dir, RateLimits::hubrise());
    let app = Passerelle::open(config, secrets, Arc::new(CountingListener::default())).await?;
    seeded::sign_in(&app, &info.seed, 0).await?;
    let paris = seeded::connect(&app, &seeded::choice(&info.seed, 0, "3r4s3-1")?).await?;
    app.restart().await?;
    sandbox
        .place_order("3r4s3-1", &fixture::sample_order("Marie"))
        .await?;
    app.sync_now().await?;
    app.stop_sync().await?;
    drop(app);
    sandbox.stop().await;
    let db = dir.join(DATABASE_FILE);
    let template = fixture::stored_order_json(&db)?;
    let targets = [OrderTarget {
        connection_id: paris.id,
        location_id: paris.location_id,
    }];
    fixture::bulk_insert_orders(&db, &template, &targets, orders, now_ms() - 60_000)?;
    Ok(info)
}

fn now_ms() -> i64 {
    let elapsed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
}

/// What each side measured.
struct Figures<T> {
    list: T,
    trivial: T,
    summaries_50: T,
    summaries_1000: T,
    order: T,
}

/// The inbox's rows and the detail screen: the rows of the table and the goals' verdicts.
fn print_inbox(rust: &Figures<Samples>, swift: &Figures<Summary>) {
    let rows = [
        (
            "order_summaries(limit 50)",
            &rust.summaries_50,
            &swift.summaries_50,
        ),
        (
            "order_summaries(limit 1000)",
            &rust.summaries_1000,
            &swift.summaries_1000,
        ),
        ("order(id), one full order", &rust.order, &swift.order),
    ];
    for (call, rust, swift) in rows {
        println!("{}", stats::row(&format!("Rust: {call}"), &rust.summary()));
        println!(
            "{}",
            stats::row(&format!("Swift through the bindings: {call}"), swift)
        );
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    let page = ms(swift.summaries_50.median);
    let page_ratio = page / ms(rust.summaries_50.median());
    println!();
    println!(
        "- 50 summaries from Swift: {page:.3} ms, {page_ratio:.2}× Rust (goals ≤ 1 ms: {}, ≤ 1.5×: {})",
        verdict(page <= 1.0),
        verdict(page_ratio <= 1.5)
    );
    let thousand = ms(swift.summaries_1000.median);
    println!(
        "- 1,000 summaries from Swift: {thousand:.3} ms (goal ≤ 10 ms: {})",
        verdict(thousand <= 10.0)
    );
    let one = ms(swift.order.median);
    println!(
        "- one full order from Swift: {one:.3} ms (goal ≤ 0.5 ms: {})",
        verdict(one <= 0.5)
    );
}

/// Times `call` `runs` times after 5 warm-up calls.
fn time_calls<T>(runs: usize, mut call: impl FnMut() -> Result<T>) -> Result<Samples> {
    for _ in 0..5 {
        call()?;
    }
    let mut samples = Samples::new();
    for _ in 0..runs {
        let started = Instant::now();
        let value = call()?;
        samples.push(started.elapsed());
        drop(value);
    }
    Ok(samples)
}

async fn measure_rust(
    info: &SandboxInfo,
    dir: &Path,
    runs: usize,
    limit: u32,
) -> Result<Figures<Samples>> {
    // The same situation as the Swift side: servers unreachable, no secrets, sync stopped.
    let config = fixture::closed_port_config(info, dir);
    let app = Passerelle::open(
        config,
        Arc::new(InMemorySecretStore::new()),
        Arc::new(CountingListener::default()),
    )
    .await?;
    app.stop_sync().await?;
    let filter = OrderFilter {
        limit,
        ..OrderFilter::default()
    };
    for _ in 0..5 {
        let n = app.orders(filter.clone())?.len();
        ensure(n == limit as usize, || {
            format!("orders() returned {n}, expected {limit}")
        })?;
    }
    let mut list = Samples::new();
    for _ in 0..runs {
        let started = Instant::now();
        let orders = app.orders(filter.clone())?;
        list.push(started.elapsed());
        ensure(orders.len() == limit as usize, || {
            format!("orders() returned {}", orders.len())
        })?;
        drop(orders);
    }
    let trivial = time_calls(runs, || Ok(app.device_id()?))?;
    let page = |limit| OrderFilter {
        limit,
        ..OrderFilter::default()
    };
    let summaries_50 = time_calls(runs, || counted(app.order_summaries(page(50))?, 50))?;
    let summaries_1000 = time_calls(runs, || counted(app.order_summaries(page(1000))?, 1000))?;
    let first = app.order_summaries(page(1))?;
    let id = first.first().map(|s| s.id.clone()).unwrap_or_default();
    let order = time_calls(runs, || {
        app.order(&id)?.ok_or_else(|| BenchError("no order".into()))
    })?;
    drop(app);
    Ok(Figures {
        list,
        trivial,
        summaries_50,
        summaries_1000,
        order,
    })
}

/// `items` when there are `expected` of them.
fn counted<T>(items: Vec<T>, expected: usize) -> Result<Vec<T>> {
    ensure(items.len() == expected, || {
        format!("{} returned, expected {expected}", items.len())
    })?;
    Ok(items)
}

/// Parses `KEY median_ns=… p90_ns=… min_ns=… max_ns=… runs=…` (the Swift program reports a
/// summary, computed as `stats` does: nearest-rank p90).
fn parse_summary(line: &str) -> Result<Summary> {
    let value = |key: &str| -> Result<u64> {
        line.split_whitespace()
            .find_map(|part| part.strip_prefix(&format!("{key}=")))
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| BenchError(format!("no {key} in {line:?}")))
    };
    Ok(Summary {
        runs: usize::try_from(value("runs")?).unwrap_or(0),
        median: Duration::from_nanos(value("median_ns")?),
        p90: Duration::from_nanos(value("p90_ns")?),
        min: Duration::from_nanos(value("min_ns")?),
        max: Duration::from_nanos(value("max_ns")?),
    })
}

fn measure_swift(
    root: &Path,
    dir: &Path,
    runs: usize,
    limit: u32,
    profile: &str,
) -> Result<Figures<Summary>> {
    let library = root.join(format!("target/{profile}/libpasserelle_ffi.so"));
    ensure(library.exists(), || {
        format!(
            "{} is missing: build it first (cargo build {}-p passerelle-ffi)",
            library.display(),
            if profile == "release" {
                "--release "
            } else {
                ""
            }
        )
    })?;
    let with_swift = root.join("../shared/tools/with-swift");
    let started = Instant::now();
    let output = std::process::Command::new(&with_swift)
        .current_dir(root)
        .args([
            "env",
            "PASSERELLE_FFI=local",
            &format!("PASSERELLE_RUST_PROFILE={profile}"),
            "swift",
            "run",
            "-c",
            "release",
            "--package-path",
            "tests/bench/swift/OrdersBench",
            "passerelle-swift-bench",
        ])
        .arg(dir)
        .arg(runs.to_string())
        .arg(limit.to_string())
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    ensure(output.status.success(), || {
        format!("the Swift benchmark failed:\n{stdout}\n{stderr}")
    })?;
    eprintln!(
        "swift: built and ran in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let line = |key: &str| -> Result<String> {
        stdout
            .lines()
            .find(|l| l.starts_with(key))
            .map(str::to_owned)
            .ok_or_else(|| BenchError(format!("the Swift benchmark printed no {key}:\n{stdout}")))
    };
    Ok(Figures {
        list: parse_summary(&line("SWIFT_ORDERS ")?)?,
        trivial: parse_summary(&line("SWIFT_DEVICE_ID ")?)?,
        summaries_50: parse_summary(&line("SWIFT_SUMMARIES_50 ")?)?,
        summaries_1000: parse_summary(&line("SWIFT_SUMMARIES_1000 ")?)?,
        order: parse_summary(&line("SWIFT_ORDER ")?)?,
    })
}
