//! A simulated day within HubRise's limits (issue 27, scenario 5; figures in BENCHMARKS.md, "A
//! day within HubRise's limits"). Not a test: it runs for minutes of real time, by hand.
//!
//! One location receives 600 orders a day on a lunch and dinner profile (the busiest hour, 19–20 h,
//! 100 orders); the till accepts each order as it arrives and completes it 24 minutes later, so
//! about 40 orders are open at the peak. HubRise's documented limits (500 a minute, 2,500 an hour,
//! 10,000 a day, heavy queries 10 a minute) hold on both sides, **scaled in time** by `--factor`
//! (30 by default): the client's `RateLimits.minute_ms` and the sandbox's window (`window_scale`)
//! are a minute / factor long, so a simulated hour lasts 120 s, and the poll interval is 1 s, the
//! shortest the configuration allows on loopback, which at factor 30 stands for the documented
//! 30 s. Every count below is a count of requests in a simulated hour or day; latencies are real
//! seconds, to be read against the 1 s poll interval (30 s in a real day).
//!
//! A whole day would take 48 minutes; the dinner peak (`--hours`, 18–21 h by default: 70, 100
//! and 90 orders) and one idle hour (no order, none open: the night) are simulated, and the day
//! is added up from them: the simulated hours as measured, the other hours with orders as a busy
//! hour's base cost (events polls, read-back, names, measured per busy hour) plus their orders
//! at the measured cost per order (order reads, PATCHes, DELETEs), the hours without orders as
//! the idle hour.

use std::collections::{BTreeMap, HashMap};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use passerelle_bench::stats::Samples;
use passerelle_bench::{BenchError, Result, arg, exit_with, flag};
use passerelle_core::{
    EventListener, InMemorySecretStore, OrderStatus, Passerelle, PasserelleEvent, RateLimits,
    SyncState,
};
use passerelle_sandbox::seed::sample_order;
use passerelle_sandbox::{Admin, RateLimits as SandboxLimits, Sandbox, SandboxOptions, ServerKind};
use passerelle_test_support::{config_for, seeded};

const COMMAND: &str = "cargo run --release -p passerelle-bench --bin day";
const LOCATION: &str = "3r4s3-1";
/// Orders per hour of a day (0 h to 23 h): 600 in all, lunch 11–14 h, dinner 18–22 h.
const PROFILE: [u32; 24] = [
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 40, 95, 70, 25, 10, 10, 25, 70, 100, 90, 45, 15, 0,
];
/// How long an accepted order stays open before the till completes it (real time).
const OPEN_FOR_REAL: Duration = Duration::from_secs(24 * 60);

/// Routes of HubRise's API, as the report counts them.
const ROUTES: [&str; 7] = [
    "events polls (GET /callback/events)",
    "event DELETEs",
    "order reads (GET /location/orders/:id)",
    "read-back (GET /location/orders, heavy)",
    "PATCHes (statuses)",
    "names (location, account, catalog, customers)",
    "other",
];

fn route(method: &str, path: &str) -> usize {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        ("GET", ["v1", "callback", "events"]) => 0,
        ("DELETE", ["v1", "callback", "events", _]) => 1,
        ("GET", ["v1", "location", "orders", _]) => 2,
        ("GET", ["v1", "location", "orders"]) => 3,
        ("PATCH", ["v1", "location", "orders", _]) => 4,
        (
            "GET",
            ["v1", "location"]
            | ["v1", "account"]
            | ["v1", "catalogs", ..]
            | ["v1", "customer_lists", ..],
        ) => 5,
        _ => 6,
    }
}

/// One simulated hour's requests, by route, and its 429s.
#[derive(Debug, Default, Clone)]
struct Hour {
    label: String,
    orders: u32,
    by_route: [u64; 7],
    too_many: u64,
    peak_open: usize,
}

impl Hour {
    fn total(&self) -> u64 {
        self.by_route.iter().sum()
    }
    /// Requests that come with orders: reads, PATCHes, DELETEs.
    fn per_order_part(&self) -> u64 {
        self.by_route[1] + self.by_route[2] + self.by_route[4]
    }
}

#[derive(Default)]
struct Till {
    /// Order id → when its `OrderReceived` came.
    received: HashMap<String, Instant>,
    /// Orders accepted and not yet completed, with when they are to be completed.
    open: BTreeMap<String, Instant>,
}

struct Listener {
    till: Arc<Mutex<Till>>,
    accepts: tokio::sync::mpsc::UnboundedSender<String>,
}

impl EventListener for Listener {
    fn on_event(&self, event: PasserelleEvent) {
        if let PasserelleEvent::OrderReceived { order } = event {
            let mut till = self.till.lock().unwrap_or_else(|p| p.into_inner());
            if till
                .received
                .insert(order.id.clone(), Instant::now())
                .is_none()
            {
                let _ = self.accepts.send(order.id);
            }
        }
    }
}

struct Options {
    factor: u64,
    hours: Vec<usize>,
    seed: u64,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if flag(&args, "--help") {
        println!("{COMMAND} [-- --factor 30 --from 18 --to 21 --seed 27]");
        return ExitCode::SUCCESS;
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let parsed = (|| -> Result<Options> {
        let from: usize = arg(&args, "--from")?.unwrap_or(18);
        let to: usize = arg(&args, "--to")?.unwrap_or(21);
        let factor: u64 = arg(&args, "--factor")?.unwrap_or(30);
        if from >= to || to > 24 || factor == 0 || 60_000 % factor != 0 {
            return Err(BenchError(
                "--from < --to ≤ 24, --factor dividing 60,000".into(),
            ));
        }
        Ok(Options {
            factor,
            hours: (from..to).collect(),
            seed: arg(&args, "--seed")?.unwrap_or(27),
        })
    })();
    let options = match parsed {
        Ok(options) => options,
        Err(err) => {
            eprintln!("day: {err}");
            return ExitCode::from(2);
        }
    };
    exit_with(passerelle_bench::runtime().and_then(|rt| rt.block_on(run(options))))
}

/// xorshift64*: reproducible placement times.
struct Rng(u64);
impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The API requests logged since `from` (an index in the sandbox's log), and the log's length.
async fn requests_since(admin: &Admin, from: usize) -> (Hour, usize) {
    let log = admin.requests().await;
    let mut hour = Hour::default();
    for r in log
        .iter()
        .skip(from)
        .filter(|r| r.server == ServerKind::Api)
    {
        hour.by_route[route(&r.method, &r.path)] += 1;
        if r.status == 429 {
            hour.too_many += 1;
        }
    }
    (hour, log.len())
}

async fn run(options: Options) -> Result<()> {
    let minute = Duration::from_millis(60_000 / options.factor);
    let sim_hour = minute * 60;
    let open_for = OPEN_FOR_REAL / u32::try_from(options.factor).unwrap_or(1);
    let load_before = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let sandbox = Sandbox::start(SandboxOptions {
        limits: SandboxLimits::default(),
        window_scale: Some(minute),
        ..SandboxOptions::default()
    })
    .await?;
    let admin = sandbox.admin();
    let seed = sandbox.seed().clone();
    let dir = tempfile::tempdir()?;
    let mut config = config_for(&sandbox, dir.path());
    config.initial_settings.poll_interval_secs = 1;
    config.rate_limits = RateLimits {
        minute_ms: u64::try_from(minute.as_millis()).unwrap_or(60_000),
        ..RateLimits::hubrise()
    };
    let till = Arc::new(Mutex::new(Till::default()));
    let (accepts, mut to_accept) = tokio::sync::mpsc::unbounded_channel();
    let app = Arc::new(
        Passerelle::open(
            config,
            Arc::new(InMemorySecretStore::default()),
            Arc::new(Listener {
                till: till.clone(),
                accepts,
            }),
        )
        .await?,
    );
    seeded::sign_in(&app, &seed, 0).await?;
    seeded::connect(&app, &seeded::choice(&seed, 0, LOCATION)?).await?;
    app.restart().await?;
    // The set-up's requests (exchange, names at the restart) are not the day's: wait until the
    // connection flows, then start counting.
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let health = app.sync_health()?;
        if health
            .connections
            .iter()
            .all(|c| c.state == SyncState::Flowing)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;

    // The till: accepts what arrives (ready in 20 min), completes it `open_for` later.
    let till_task = {
        let (app, till) = (app.clone(), till.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            loop {
                tokio::select! {
                    id = to_accept.recv() => {
                        let Some(id) = id else { break };
                        let ready = SystemTime::now() + Duration::from_secs(20 * 60);
                        if let Err(err) = app.accept(&id, Some(ready)).await {
                            eprintln!("day: accept {id}: {err}");
                        }
                        till.lock().unwrap_or_else(|p| p.into_inner()).open.insert(id, Instant::now() + open_for);
                    }
                    _ = tick.tick() => {
                        let due: Vec<String> = {
                            let mut till = till.lock().unwrap_or_else(|p| p.into_inner());
                            let now = Instant::now();
                            let due: Vec<String> = till.open.iter().filter(|(_, at)| **at <= now).map(|(id, _)| id.clone()).collect();
                            for id in &due {
                                till.open.remove(id);
                            }
                            due
                        };
                        for id in due {
                            if let Err(err) = app.update_status(&id, OrderStatus::Completed).await {
                                eprintln!("day: complete {id}: {err}");
                            }
                        }
                    }
                }
            }
        })
    };

    let mut rng = Rng(options.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut placed: Vec<(String, Instant)> = Vec::new();
    let mut hours: Vec<Hour> = Vec::new();
    let (_, mut mark) = requests_since(&admin, usize::MAX).await;
    let started = Instant::now();
    for &h in &options.hours {
        let n = PROFILE[h];
        let start = Instant::now();
        let mut times: Vec<f64> = (0..n)
            .map(|i| (f64::from(i) + rng.unit()) / f64::from(n.max(1)))
            .collect();
        times.sort_by(f64::total_cmp);
        let mut peak_open = 0usize;
        for t in times {
            let at = start + sim_hour.mul_f64(t);
            tokio::time::sleep_until(at.into()).await;
            let placed_at = Instant::now();
            let id = admin
                .place_order(LOCATION, sample_order(&format!("Day {h} h")))
                .await?;
            placed.push((id, placed_at));
            peak_open = peak_open.max(till.lock().unwrap_or_else(|p| p.into_inner()).open.len());
        }
        tokio::time::sleep_until((start + sim_hour).into()).await;
        let (mut hour, len) = requests_since(&admin, mark).await;
        mark = len;
        hour.label = format!("{h}–{} h", h + 1);
        hour.orders = n;
        hour.peak_open = peak_open;
        eprintln!("day: {} {:?}", hour.label, hour);
        hours.push(hour);
    }
    // The last orders are completed; then an hour with nothing open (the night).
    let settle = Instant::now();
    while !till
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .open
        .is_empty()
    {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (mut closing, len) = requests_since(&admin, mark).await;
    closing.label = format!(
        "closing: the last orders completed ({:.0} s, {:.1} simulated min)",
        settle.elapsed().as_secs_f64(),
        settle.elapsed().as_secs_f64() / minute.as_secs_f64()
    );
    mark = len;
    let idle_start = Instant::now();
    tokio::time::sleep(sim_hour).await;
    let (mut idle, _) = requests_since(&admin, mark).await;
    idle.label = "idle hour (no order, none open)".into();
    let idle_real = idle_start.elapsed();
    let elapsed = started.elapsed();
    till_task.abort();

    // Latency, and what HubRise holds at the end.
    let received = till
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .received
        .clone();
    let mut latency = Samples::new();
    let mut missing = 0usize;
    for (id, at) in &placed {
        match received.get(id) {
            Some(got) => latency.push(got.saturating_duration_since(*at)),
            None => missing += 1,
        }
    }
    let statuses: BTreeMap<String, usize> =
        admin
            .orders(LOCATION)
            .await
            .iter()
            .fold(BTreeMap::new(), |mut m, o| {
                *m.entry(o["status"].as_str().unwrap_or("?").to_owned())
                    .or_default() += 1;
                m
            });
    let health = app.sync_health()?;
    let app = Arc::try_unwrap(app).map_err(|_| BenchError("the app is still shared".into()))?;
    app.close().await?;
    sandbox.stop().await;

    // The day, added up.
    let busy_hours = hours.len() as u64;
    let orders_simulated: u64 = hours.iter().map(|h| u64::from(h.orders)).sum();
    let per_order_requests: u64 =
        hours.iter().map(Hour::per_order_part).sum::<u64>() + closing.per_order_part();
    let per_order = per_order_requests as f64 / orders_simulated.max(1) as f64;
    let busy_base = hours
        .iter()
        .map(|h| h.total() - h.per_order_part())
        .sum::<u64>() as f64
        / busy_hours.max(1) as f64;
    let mut day_total = 0.0;
    let mut day_rows = Vec::new();
    for (h, &n) in PROFILE.iter().enumerate() {
        let simulated = hours.iter().find(|x| x.label.starts_with(&format!("{h}–")));
        let (cost, how) = match simulated {
            Some(hour) => (hour.total() as f64, "simulated"),
            None if n > 0 || (h > 0 && PROFILE[h - 1] > 0) => (
                busy_base + per_order * f64::from(n),
                "busy base + orders × cost per order",
            ),
            None => (idle.total() as f64, "idle hour"),
        };
        day_total += cost;
        day_rows.push((h, n, cost, how));
    }
    let peak = hours
        .iter()
        .max_by_key(|h| h.total())
        .cloned()
        .unwrap_or_default();
    let too_many: u64 =
        hours.iter().map(|h| h.too_many).sum::<u64>() + closing.too_many + idle.too_many;
    let poll = Duration::from_secs(1);

    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    line(format!("## A day within HubRise's limits: `{COMMAND}`"));
    line(String::new());
    line(format!(
        "Machine: {}; load average {} at the start, {} at the end. Factor {} (a minute is {} ms, an hour {} s); poll interval 1 s (a real {} s). Simulated: {} h to {} h, the closing, an idle hour; {:.0} s in all.",
        passerelle_bench::machine(),
        load_before
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
        options.factor,
        minute.as_millis(),
        sim_hour.as_secs(),
        options.factor,
        options.hours.first().copied().unwrap_or(0),
        options.hours.last().copied().unwrap_or(0) + 1,
        elapsed.as_secs_f64(),
    ));
    line(String::new());
    let mut header = "| simulated hour | orders | open at most |".to_owned();
    let mut rule = "|---|---:|---:|".to_owned();
    for r in ROUTES {
        header.push_str(&format!(" {r} |"));
        rule.push_str("---:|");
    }
    header.push_str(" all | 429 |");
    rule.push_str("---:|---:|");
    line(header);
    line(rule);
    for hour in hours.iter().chain([&closing, &idle]) {
        let mut row = format!("| {} | {} | {} |", hour.label, hour.orders, hour.peak_open);
        for n in hour.by_route {
            row.push_str(&format!(" {n} |"));
        }
        row.push_str(&format!(" {} | {} |", hour.total(), hour.too_many));
        line(row);
    }
    line(String::new());
    line("| figure | value | limit |".into());
    line("|---|---:|---|".into());
    line(format!(
        "| peak hour ({}, {} orders, up to {} open) | {} requests | 2,500 an hour: {} ({:.0} %) |",
        peak.label,
        peak.orders,
        peak.peak_open,
        peak.total(),
        if peak.total() <= 2_500 {
            "within"
        } else {
            "OVER"
        },
        peak.total() as f64 / 25.0
    ));
    line(format!(
        "| idle hour (the night) | {} requests ({} events polls; {:.1} s real) | |",
        idle.total(),
        idle.by_route[0],
        idle_real.as_secs_f64()
    ));
    line(format!(
        "| cost per order (order reads, PATCHes, DELETEs over the simulated hours and the closing) | {per_order:.2} requests | |"
    ));
    line(format!(
        "| a busy hour's base (events polls, read-back, names, other; mean of the simulated hours) | {busy_base:.0} requests | |"
    ));
    line(format!(
        "| the day (600 orders): simulated hours as measured, other hours with orders or open ones as base + orders × cost, the rest as the idle hour | {day_total:.0} requests | 10,000 a day: {} ({:.0} %) |",
        if day_total <= 10_000.0 {
            "within"
        } else {
            "OVER"
        },
        day_total / 100.0
    ));
    line(format!(
        "| 429s (simulated hours, closing, idle hour) | {too_many} | 0: {} |",
        if too_many == 0 { "met" } else { "MISSED" }
    ));
    line(format!(
        "| placed → OrderReceived ({} orders{}): p50 / p99 / max | {:.3} / {:.3} / {:.3} s | one poll interval (1 s): p99 {} |",
        latency.len(),
        if missing > 0 {
            format!(", {missing} never received")
        } else {
            String::new()
        },
        latency.median().as_secs_f64(),
        latency.percentile(99.0).as_secs_f64(),
        latency.max().as_secs_f64(),
        if latency.percentile(99.0) <= poll {
            "met"
        } else {
            "MISSED"
        }
    ));
    line(format!(
        "| statuses at HubRise at the end | {statuses:?} | all completed |"
    ));
    line(format!(
        "| health at the end | {:?} | Flowing |",
        health
            .connections
            .iter()
            .map(|c| (c.state, c.delay_reason))
            .collect::<Vec<_>>()
    ));
    line(String::new());
    line("| hour | orders | requests | how |".into());
    line("|---|---:|---:|---|".into());
    for (h, n, cost, how) in day_rows {
        line(format!("| {h}–{} h | {n} | {cost:.0} | {how} |", h + 1));
    }
    print!("{out}");
    let ok = too_many == 0 && missing == 0 && peak.total() <= 2_500 && day_total <= 10_000.0;
    if ok {
        Ok(())
    } else {
        Err(BenchError("a limit or a goal was missed (above)".into()))
    }
}
