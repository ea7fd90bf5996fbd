//! The service soak (issue 14; figures in BENCHMARKS.md, "Service soak"). Not a test: it runs
//! for more than ten minutes of real time and is run by hand.
//!
//! A simulated service: the sandbox (in this process) takes orders from "another app" at a
//! steady rate across two locations (Paris and Lyon), while Passerelle runs in a child process
//! (this binary with `--child`) that plays the till: it reports every `OrderReceived` on stdout
//! as a JSON line with the time it got it, marks the order seen after reporting it, and accepts
//! it. Meanwhile the soak injects, one at a time, random 5xx bursts, connection resets, slow
//! answers and 429s, two network cuts of 60 s (every path of the API server drops its
//! connections; the host's hint `network_available()` is given right when the first ends, not
//! for the second), poison orders (a persistent 500 on one order's GET) and poison changes (a
//! persistent 503 on the PATCH of an order whose accept the soak asks for), and it SIGKILLs the
//! child at random moments and starts it again.
//!
//! It asserts, and exits 1 unless all of it held: nothing lost (every placed order but the
//! poisoned ones reported by the child and stored in its SQLite file once), nothing duplicated
//! (no order stored twice, announced twice by one process, or changed twice in the outbox;
//! nothing appended to an order at HubRise), exactly the poisoned orders quarantined and exactly
//! the poisoned changes failed, the health state right during and after each fault, and no
//! attempt before the next attempt a connection announced after a 429 or a 5xx. It
//! prints the time from placing an order (sandbox side) to `OrderReceived` (child side): outside
//! fault windows, overall, and for the orders placed during each network cut, from the cut's end.
//!
//! Rate limits are lifted on both sides (decision 11: a throughput run; ~2,200 orders at five
//! requests each exceed HubRise's hourly limit): the sandbox's, and the child's own windows.
//! Every 429 here is an injected one.
//!
//! The sandbox runs on a current-thread runtime: a fault list change made of several admin calls
//! (clear, then put back the persistent faults) completes without yielding, so no request is
//! served in between (the sandbox has no call to remove one fault).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use passerelle_bench::fixture::{self, CountingListener};
use passerelle_bench::stats::Samples;
use passerelle_bench::{BenchError, Result, arg, exit_with, flag};
use passerelle_core::{
    DATABASE_FILE, EventListener, Order, OrderFilter, OrderStatus, Passerelle, PasserelleEvent,
    SyncHealth,
};
use passerelle_sandbox::seed::sample_order;
use passerelle_sandbox::{
    Admin, Fault, FaultKind, RateLimits as SandboxLimits, Sandbox, SandboxOptions, ServerKind,
};
use passerelle_test_support::file_secrets::FileSecretStore;
use passerelle_test_support::{config_for, config_from_json, config_to_json, seeded};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

const COMMAND: &str = "cargo run --release -p passerelle-bench --bin soak";
const LOCATIONS: [&str; 2] = ["3r4s3-1", "3r4s3-2"];
const ORDER_PATH: &str = "/v1/location/orders/";
const EVENTS_PATH: &str = "/v1/callback/events";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if flag(&args, "--help") || flag(&args, "-h") {
        println!(
            "{COMMAND} [-- --minutes 11 --rate 3.4 --poll 1 --kills 4 --poison 3 \
             --poison-patches 3 --cut-secs 60 --seed 14 --keep]"
        );
        return ExitCode::SUCCESS;
    }
    if args.first().map(String::as_str) == Some("--child") {
        return exit_with(child::main(&args[1..]));
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let options = match Options::parse(&args) {
        Ok(options) => options,
        Err(err) => {
            eprintln!("soak: {err}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("soak: runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(options)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("soak: some assertions failed (see the checks above)");
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("soak failed: {err}");
            ExitCode::FAILURE
        }
    }
}

// -- Options, time, randomness -----------------------------------------------------------------

#[derive(Debug, Clone)]
struct Options {
    minutes: f64,
    rate: f64,
    poll: u32,
    kills: usize,
    poison: usize,
    poison_patches: usize,
    cut_secs: u64,
    seed: u64,
    keep: bool,
    args: Vec<String>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Self> {
        let options = Options {
            minutes: arg(args, "--minutes")?.unwrap_or(11.0),
            rate: arg(args, "--rate")?.unwrap_or(3.4),
            poll: arg(args, "--poll")?.unwrap_or(1),
            kills: arg(args, "--kills")?.unwrap_or(4),
            poison: arg(args, "--poison")?.unwrap_or(3),
            poison_patches: arg(args, "--poison-patches")?.unwrap_or(3),
            cut_secs: arg(args, "--cut-secs")?.unwrap_or(60),
            seed: arg(args, "--seed")?.unwrap_or(14),
            keep: flag(args, "--keep"),
            args: args.to_vec(),
        };
        if options.rate <= 0.0 || options.minutes <= 0.0 || options.poll == 0 {
            return Err(BenchError(
                "--rate, --minutes and --poll must be positive".into(),
            ));
        }
        if options.duration().as_secs() < 3 * options.cut_secs + 60 {
            return Err(BenchError(
                "--minutes too short for two network cuts of --cut-secs".into(),
            ));
        }
        Ok(options)
    }

    fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.minutes * 60.0)
    }

    fn poll_interval(&self) -> Duration {
        Duration::from_secs(u64::from(self.poll))
    }
}

/// Microseconds since the Unix epoch (the child's timestamps use the same clock).
fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

fn us(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

fn secs(us: u64) -> f64 {
    us as f64 / 1e6
}

/// xorshift64*: reproducible runs from `--seed`, no dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = usize::try_from(self.range(0, i as u64)).unwrap_or(0);
            items.swap(i, j);
        }
    }
}

/// CPU time (user + system) of a process, from `/proc/PID/stat`, in seconds.
fn cpu_secs(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

// -- The child: Passerelle at the till ---------------------------------------------------------

mod child {
    //! `soak --child CONFIG.json SECRETS.json`: opens Passerelle on the soak's data directory and
    //! plays the till. Stdout: one JSON line per fact (`ready`, `order`, `health`, `quarantined`,
    //! `change_failed`, `conflict`, answers to commands). Stdin: one command per line (`hint`,
    //! `health N`, `accept ID`, `report`, `close`); end of file ends the process.

    use super::*;

    /// Hands each event, with the time it arrived, to the child's main loop.
    struct Forward(tokio::sync::mpsc::UnboundedSender<(u64, PasserelleEvent)>);

    impl EventListener for Forward {
        fn on_event(&self, event: PasserelleEvent) {
            let _ = self.0.send((now_us(), event));
        }
    }

    fn emit(line: &Value) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }

    fn emit_error(what: &str, err: &dyn std::fmt::Display) {
        emit(&json!({"t": "error", "at": now_us(), "what": what, "error": err.to_string()}));
    }

    pub fn main(args: &[String]) -> Result<()> {
        let [config, secrets] = args else {
            return Err(BenchError(
                "usage: soak --child CONFIG.json SECRETS.json".into(),
            ));
        };
        let _ = rustls::crypto::ring::default_provider().install_default();
        let runtime = passerelle_bench::runtime()?;
        runtime.block_on(run(config, secrets))
    }

    /// A till accepts what it is shown, except the orders the soak keeps for itself (their
    /// customer is "Hold …": the soak accepts them once their PATCH is poisoned).
    fn is_held(order: &Order) -> bool {
        order
            .customer
            .as_ref()
            .and_then(|c| c.first_name.as_deref())
            .is_some_and(|name| name.starts_with("Hold"))
    }

    /// Accepts the order unless it is already accepted or a change of it is waiting (read again
    /// from the store: the event may be older than the last accept).
    async fn maybe_accept(app: &Passerelle, order_id: &str, held_too: bool) -> bool {
        let order = match app.order(order_id) {
            Ok(Some(order)) => order,
            Ok(None) => return false,
            Err(err) => {
                emit_error("order", &err);
                return false;
            }
        };
        let open = matches!(order.status, OrderStatus::New | OrderStatus::Received);
        if !open || order.pending_status.is_some() || (!held_too && is_held(&order)) {
            return false;
        }
        let ready_at = SystemTime::now() + Duration::from_secs(20 * 60);
        match app.accept(order_id, Some(ready_at)).await {
            Ok(()) => true,
            Err(err) => {
                emit_error("accept", &err);
                false
            }
        }
    }

    fn signed_ms(t: SystemTime, now: SystemTime) -> i64 {
        match t.duration_since(now) {
            Ok(ahead) => i64::try_from(ahead.as_millis()).unwrap_or(i64::MAX),
            Err(behind) => -i64::try_from(behind.duration().as_millis()).unwrap_or(i64::MAX),
        }
    }

    fn health_line(health: &SyncHealth, at: u64, query: Option<u64>) -> Value {
        let now = SystemTime::now();
        let connections: Vec<Value> = health
            .connections
            .iter()
            .map(|c| {
                json!({
                    "id": c.connection_id,
                    "name": c.location_name,
                    "state": format!("{:?}", c.state),
                    "reason": c.delay_reason.map(|r| format!("{r:?}")),
                    "next_in_ms": c.next_attempt_at.map(|t| signed_ms(t, now)),
                    "since_ms": c.delayed_since.map(|t| signed_ms(t, now)),
                    "quarantined": c.quarantined,
                    "failed": c.failed_changes,
                    "code": c.error_code,
                })
            })
            .collect();
        json!({
            "t": "health",
            "at": at,
            "pid": std::process::id(),
            "q": query,
            "state": format!("{:?}", health.state),
            "attention": health.needs_attention,
            "conns": connections,
        })
    }

    async fn run(config: &str, secrets: &str) -> Result<()> {
        let json: Value = serde_json::from_str(&std::fs::read_to_string(config)?)?;
        let mut config = config_from_json(&json).map_err(BenchError)?;
        config.rate_limits = fixture::unlimited_client_limits();
        let (sender, mut events) = tokio::sync::mpsc::unbounded_channel();
        let app = Passerelle::open(
            config,
            Arc::new(FileSecretStore::new(secrets)),
            Arc::new(Forward(sender)),
        )
        .await?;
        let pid = std::process::id();
        emit(&json!({"t": "ready", "at": now_us(), "pid": pid}));
        // A kill between storing an order and accepting it: the till accepts it now.
        for status in [OrderStatus::New, OrderStatus::Received] {
            let waiting = OrderFilter {
                status: Some(status),
                limit: 1_000_000,
                ..Default::default()
            };
            for order in app.orders(waiting)? {
                maybe_accept(&app, &order.id, false).await;
            }
        }
        let mut commands = BufReader::new(tokio::io::stdin()).lines();
        loop {
            tokio::select! {
                event = events.recv() => match event {
                    Some((at, event)) => on_event(&app, pid, at, event).await,
                    None => break,
                },
                line = commands.next_line() => match line {
                    Ok(Some(command)) => {
                        if !on_command(&app, command.trim()).await {
                            break;
                        }
                    }
                    // The soak is gone.
                    Ok(None) | Err(_) => break,
                },
            }
        }
        Ok(())
    }

    async fn on_event(app: &Passerelle, pid: u32, at: u64, event: PasserelleEvent) {
        match event {
            PasserelleEvent::OrderReceived { order } => {
                emit(&json!({
                    "t": "order", "at": at, "pid": pid, "id": order.id,
                    "location": order.location_id, "seen": order.seen,
                }));
                // Reported (shown to the staff): seen, so not announced again after a restart.
                if let Err(err) = app.mark_orders_seen(vec![order.id.clone()]) {
                    emit_error("mark_orders_seen", &err);
                }
                maybe_accept(app, &order.id, false).await;
            }
            PasserelleEvent::SyncHealthChanged { health } => {
                emit(&health_line(&health, at, None));
            }
            PasserelleEvent::ItemQuarantined { item } => emit(&json!({
                "t": "quarantined", "at": at, "order_id": item.order_id,
                "is_event": item.is_event, "attempts": item.attempts, "reason": item.reason,
            })),
            PasserelleEvent::ChangeFailed { change } => emit(&json!({
                "t": "change_failed", "at": at, "order_id": change.order_id,
                "status": change.status, "attempts": change.attempts, "reason": change.reason,
            })),
            PasserelleEvent::OrderConflict { order_id, reason } => emit(&json!({
                "t": "conflict", "at": at, "order_id": order_id, "reason": reason,
            })),
            PasserelleEvent::ReconnectNeeded {
                connection_id,
                reason,
            } => emit(&json!({
                "t": "reconnect_needed", "at": at, "connection": connection_id, "reason": reason,
            })),
            _ => {}
        }
    }

    /// Runs one command; `false` when the child should end.
    async fn on_command(app: &Passerelle, command: &str) -> bool {
        let (verb, rest) = command.split_once(' ').unwrap_or((command, ""));
        match verb {
            "hint" => {
                if let Err(err) = app.network_available() {
                    emit_error("network_available", &err);
                }
                emit(&json!({"t": "hint", "at": now_us()}));
            }
            "health" => match app.sync_health() {
                Ok(health) => emit(&health_line(&health, now_us(), rest.parse().ok())),
                Err(err) => emit_error("sync_health", &err),
            },
            "accept" => {
                let done = maybe_accept(app, rest, true).await;
                emit(&json!({"t": "accepted", "at": now_us(), "id": rest, "done": done}));
            }
            "report" => {
                let quarantined = app.quarantined_items().map(|items| {
                    items
                        .iter()
                        .map(|i| json!({"order_id": i.order_id, "is_event": i.is_event, "attempts": i.attempts, "reason": i.reason}))
                        .collect::<Vec<_>>()
                });
                let failed = app.failed_changes().map(|changes| {
                    changes
                        .iter()
                        .map(|c| json!({"order_id": c.order_id, "status": c.status, "attempts": c.attempts, "reason": c.reason}))
                        .collect::<Vec<_>>()
                });
                let unseen = app.unseen_orders().map(|o| o.len());
                match (quarantined, failed, unseen, app.sync_health()) {
                    (Ok(quarantined), Ok(failed), Ok(unseen), Ok(health)) => emit(&json!({
                        "t": "report", "at": now_us(), "quarantined": quarantined,
                        "failed": failed, "unseen": unseen,
                        "health": health_line(&health, now_us(), None),
                    })),
                    _ => emit_error("report", &"a query failed"),
                }
            }
            "close" => {
                if let Err(err) = app.close().await {
                    emit_error("close", &err);
                }
                emit(&json!({"t": "closed", "at": now_us()}));
                return false;
            }
            other => emit_error("command", &format!("unknown command {other:?}")),
        }
        true
    }
}

// -- What the soak saw of the child ------------------------------------------------------------

#[derive(Debug, Clone)]
struct ConnHealth {
    name: String,
    state: String,
    reason: Option<String>,
    next_in_ms: Option<i64>,
    quarantined: u64,
    failed: u64,
}

#[derive(Debug, Clone)]
struct HealthLine {
    at: u64,
    state: String,
    conns: Vec<ConnHealth>,
}

impl HealthLine {
    fn parse(v: &Value) -> Self {
        let conns = v["conns"]
            .as_array()
            .map(|conns| {
                conns
                    .iter()
                    .map(|c| ConnHealth {
                        name: c["name"].as_str().unwrap_or("?").to_owned(),
                        state: c["state"].as_str().unwrap_or("?").to_owned(),
                        reason: c["reason"].as_str().map(str::to_owned),
                        next_in_ms: c["next_in_ms"].as_i64(),
                        quarantined: c["quarantined"].as_u64().unwrap_or(0),
                        failed: c["failed"].as_u64().unwrap_or(0),
                    })
                    .collect()
            })
            .unwrap_or_default();
        HealthLine {
            at: v["at"].as_u64().unwrap_or(0),
            state: v["state"].as_str().unwrap_or("?").to_owned(),
            conns,
        }
    }

    fn all_flowing(&self) -> bool {
        self.state == "Flowing" && self.conns.iter().all(|c| c.state == "Flowing")
    }

    fn delayed_for(&self, reason: &str) -> impl Iterator<Item = &ConnHealth> {
        self.conns
            .iter()
            .filter(move |c| c.state == "Delayed" && c.reason.as_deref() == Some(reason))
    }

    fn brief(&self) -> String {
        self.conns
            .iter()
            .map(|c| match &c.reason {
                Some(reason) => format!("{} {}/{}", c.name, c.state, reason),
                None => format!("{} {}", c.name, c.state),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Default)]
struct Observed {
    /// Every report of each order: (time the child got the event, child pid).
    reports: HashMap<String, Vec<(u64, u32)>>,
    /// `SyncHealthChanged` events, in order.
    health: Vec<HealthLine>,
    /// Answers to `health N`.
    queries: HashMap<u64, HealthLine>,
    quarantined: Vec<(u64, String)>,
    failed: Vec<(u64, String, String)>,
    accepted: BTreeSet<String>,
    conflicts: Vec<String>,
    reconnect_needed: Vec<String>,
    ready: Vec<(u32, u64)>,
    report: Option<Value>,
    errors: Vec<String>,
}

type Shared = Arc<Mutex<Observed>>;

fn lock(shared: &Shared) -> MutexGuard<'_, Observed> {
    shared.lock().unwrap_or_else(|p| p.into_inner())
}

fn record(shared: &Shared, pid: u32, line: &str) {
    let Ok(v) = serde_json::from_str::<Value>(line) else {
        lock(shared).errors.push(format!("not JSON: {line}"));
        return;
    };
    let at = v["at"].as_u64().unwrap_or(0);
    let text = |key: &str| v[key].as_str().unwrap_or_default().to_owned();
    let mut observed = lock(shared);
    match v["t"].as_str().unwrap_or_default() {
        "ready" => observed.ready.push((pid, at)),
        "order" => observed
            .reports
            .entry(text("id"))
            .or_default()
            .push((at, pid)),
        "health" => {
            let health = HealthLine::parse(&v);
            match v["q"].as_u64() {
                Some(q) => {
                    observed.queries.insert(q, health);
                }
                None => observed.health.push(health),
            }
        }
        "quarantined" => observed.quarantined.push((at, text("order_id"))),
        "change_failed" => observed.failed.push((at, text("order_id"), text("status"))),
        "accepted" => {
            observed.accepted.insert(text("id"));
        }
        "conflict" => observed
            .conflicts
            .push(format!("{}: {}", text("order_id"), text("reason"))),
        "reconnect_needed" => observed.reconnect_needed.push(text("reason")),
        "report" => observed.report = Some(v),
        "error" => observed.errors.push(line.to_owned()),
        _ => {}
    }
}

/// Polls `found` on what was observed, every 50 ms, for at most `timeout`.
async fn wait_for<T>(
    shared: &Shared,
    timeout: Duration,
    found: impl Fn(&Observed) -> Option<T>,
) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        let result = found(&lock(shared));
        if result.is_some() {
            return result;
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// -- Orders placed -----------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Normal,
    /// A persistent 500 on its GET: must be quarantined.
    Poison,
    /// A persistent 503 on its PATCH once `received`: its accept must end as a failed change.
    Held,
}

#[derive(Debug, Clone)]
struct Placed {
    at: u64,
    location: &'static str,
    kind: Kind,
}

type PlacedMap = Arc<Mutex<BTreeMap<String, Placed>>>;

fn placed_lock(placed: &PlacedMap) -> MutexGuard<'_, BTreeMap<String, Placed>> {
    placed.lock().unwrap_or_else(|p| p.into_inner())
}

/// Places orders at `rate` per second, alternating the locations, until `until`.
async fn place_orders(admin: Admin, placed: PlacedMap, rate: f64, until: Instant) -> Vec<String> {
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut errors = Vec::new();
    let mut n = 0usize;
    loop {
        tick.tick().await;
        if Instant::now() >= until {
            return errors;
        }
        let location = LOCATIONS[n % 2];
        let at = now_us();
        match admin
            .place_order(location, sample_order(&format!("Client {n}")))
            .await
        {
            Ok(id) => {
                placed_lock(&placed).insert(
                    id,
                    Placed {
                        at,
                        location,
                        kind: Kind::Normal,
                    },
                );
            }
            Err(err) => errors.push(err.to_string()),
        }
        n += 1;
    }
}

// -- Faults ------------------------------------------------------------------------------------

/// The sandbox's fault list: the persistent poison faults first (the first matching fault
/// applies), then at most one other. Every method completes without yielding (the sandbox's
/// admin calls are synchronous under their async signatures, and this runtime has one thread),
/// so a clear followed by the persistent faults put back is atomic for the servers.
struct Faults {
    admin: Admin,
    persistent: Vec<Fault>,
}

impl Faults {
    async fn add_persistent(&mut self, fault: Fault) {
        self.persistent.push(fault.clone());
        self.admin.inject_fault(fault).await;
    }

    async fn inject(&self, fault: Fault) {
        self.admin.inject_fault(fault).await;
    }

    /// Clears every fault but the persistent ones; `first` goes before them (a network cut
    /// takes every request, the poisoned ones too).
    async fn reset(&self, first: Option<Fault>) {
        self.admin.clear_faults().await;
        if let Some(fault) = first {
            self.admin.inject_fault(fault).await;
        }
        for fault in &self.persistent {
            self.admin.inject_fault(fault.clone()).await;
        }
    }

    /// Whether the last transient fault was used up.
    async fn transient_gone(&self) -> bool {
        self.admin.faults().await.len() <= self.persistent.len()
    }
}

fn api_fault(prefix: &str, method: Option<&str>, times: Option<u32>, kind: FaultKind) -> Fault {
    Fault {
        path_prefix: prefix.into(),
        server: Some(ServerKind::Api),
        method: method.map(str::to_owned),
        times,
        kind,
    }
}

/// What the health state must say during a transient fault.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// A connection reads `Delayed` with this reason.
    Delayed(&'static str),
    /// The fault concerns one order or one change, or only slows answers: orders keep flowing.
    Flowing,
}

struct Transient {
    label: String,
    fault: Fault,
    expect: Expect,
    /// How long after the fault is used up every connection must read `Flowing` again.
    recover_within: Duration,
}

fn draw_transient(kind: u64, rng: &mut Rng, poll: Duration) -> Transient {
    let margin = poll + Duration::from_secs(3);
    let times = |rng: &mut Rng, lo, hi| u32::try_from(rng.range(lo, hi)).unwrap_or(1);
    match kind {
        0 => {
            let n = times(rng, 2, 4);
            let status = [500u16, 502, 503][usize::try_from(rng.range(0, 2)).unwrap_or(0)];
            Transient {
                label: format!("{status} ×{n} on GET /callback/events"),
                fault: api_fault(
                    EVENTS_PATH,
                    Some("GET"),
                    Some(n),
                    FaultKind::Status { status },
                ),
                expect: Expect::Delayed("HubriseUnavailable"),
                // Growing backoff: at most 1 + 2 + 4 + … s of waits for n failures in a row.
                recover_within: Duration::from_secs(1 << n) + margin,
            }
        }
        1 => {
            let n = times(rng, 2, 3);
            let status = [500u16, 503][usize::try_from(rng.range(0, 1)).unwrap_or(0)];
            Transient {
                label: format!("{status} ×{n} on GET /location/orders/:id"),
                fault: api_fault(
                    ORDER_PATH,
                    Some("GET"),
                    Some(n),
                    FaultKind::Status { status },
                ),
                expect: Expect::Flowing,
                recover_within: margin,
            }
        }
        2 => {
            let n = times(rng, 1, 2);
            let status = [502u16, 503][usize::try_from(rng.range(0, 1)).unwrap_or(0)];
            Transient {
                label: format!("{status} ×{n} on PATCH /location/orders/:id"),
                fault: api_fault(
                    ORDER_PATH,
                    Some("PATCH"),
                    Some(n),
                    FaultKind::Status { status },
                ),
                expect: Expect::Flowing,
                recover_within: margin,
            }
        }
        3 => {
            let n = times(rng, 1, 3);
            Transient {
                label: format!("reset ×{n} on GET /callback/events"),
                fault: api_fault(EVENTS_PATH, Some("GET"), Some(n), FaultKind::DropConnection),
                expect: Expect::Delayed("Offline"),
                recover_within: poll * n + margin,
            }
        }
        4 => {
            let n = times(rng, 1, 2);
            Transient {
                label: format!("reset ×{n} on /location/orders/:id (GET or PATCH)"),
                fault: api_fault(ORDER_PATH, None, Some(n), FaultKind::DropConnection),
                expect: Expect::Delayed("Offline"),
                recover_within: poll * n + margin,
            }
        }
        5 => Transient {
            label: "reset ×1 on DELETE /callback/events/:id".into(),
            fault: api_fault(
                &format!("{EVENTS_PATH}/"),
                Some("DELETE"),
                Some(1),
                FaultKind::DropConnection,
            ),
            expect: Expect::Delayed("Offline"),
            recover_within: poll + margin,
        },
        6 => {
            let n = times(rng, 2, 4);
            let millis = rng.range(1_500, 3_000);
            let (prefix, what) = if rng.range(0, 1) == 0 {
                (EVENTS_PATH, "GET /callback/events")
            } else {
                (ORDER_PATH, "GET /location/orders/:id")
            };
            Transient {
                label: format!("slow answers ({millis} ms) ×{n} on {what}"),
                fault: api_fault(prefix, Some("GET"), Some(n), FaultKind::Delay { millis }),
                expect: Expect::Flowing,
                recover_within: margin,
            }
        }
        _ => {
            let retry_after = rng.range(2, 5);
            Transient {
                label: format!("429 Retry-After {retry_after} s on GET /callback/events"),
                fault: api_fault(
                    EVENTS_PATH,
                    Some("GET"),
                    Some(1),
                    FaultKind::TooManyRequests {
                        retry_after: Some(retry_after),
                    },
                ),
                expect: Expect::Delayed("RateLimited"),
                recover_within: Duration::from_secs(retry_after) + margin,
            }
        }
    }
}

const TRANSIENT_KINDS: u64 = 8;

// -- The plan ----------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AnchorKind {
    Cut { hint: bool },
    Kill,
    Poison,
    Hold,
}

#[derive(Debug, Clone, Copy)]
struct Anchor {
    at: Duration,
    kind: AnchorKind,
}

/// When the fixed faults happen: the cuts at 30 % and 68 % of the service, the poisons spread
/// over it, the kills at random moments away from the cuts and from each other.
fn plan(options: &Options, rng: &mut Rng) -> Vec<Anchor> {
    let total = options.duration().as_secs_f64();
    let cut = options.cut_secs as f64;
    let cuts = [(0.30 * total, true), (0.68 * total, false)];
    let quiet = |t: f64| {
        cuts.iter()
            .any(|(start, _)| t > start - 15.0 && t < start + cut + 15.0)
    };
    let mut anchors: Vec<Anchor> = cuts
        .iter()
        .map(|&(start, hint)| Anchor {
            at: Duration::from_secs_f64(start),
            kind: AnchorKind::Cut { hint },
        })
        .collect();
    let spread = |count: usize, offset: f64, kind: AnchorKind, anchors: &mut Vec<Anchor>| {
        for i in 0..count {
            let mut t = total * (0.05 + offset + 0.8 * (i as f64 + 0.5) / count as f64);
            while quiet(t) {
                t += 5.0;
            }
            if t < total - 60.0 {
                anchors.push(Anchor {
                    at: Duration::from_secs_f64(t),
                    kind,
                });
            }
        }
    };
    spread(options.poison, 0.0, AnchorKind::Poison, &mut anchors);
    spread(options.poison_patches, 0.04, AnchorKind::Hold, &mut anchors);
    let mut kills: Vec<f64> = Vec::new();
    for _ in 0..10_000 {
        if kills.len() == options.kills {
            break;
        }
        let t = total * (0.08 + 0.86 * rng.unit());
        let near = |other: f64, gap: f64| (t - other).abs() < gap;
        if quiet(t)
            || kills.iter().any(|&k| near(k, 40.0))
            || anchors.iter().any(|a| near(a.at.as_secs_f64(), 12.0))
        {
            continue;
        }
        kills.push(t);
    }
    anchors.extend(kills.into_iter().map(|t| Anchor {
        at: Duration::from_secs_f64(t),
        kind: AnchorKind::Kill,
    }));
    anchors.sort_by_key(|a| a.at);
    anchors
}

// -- The soak ----------------------------------------------------------------------------------

struct ChildProc {
    child: Child,
    stdin: ChildStdin,
    pid: u32,
}

/// A period during which a fault was active or its effects lasted (until every connection
/// read `Flowing` again, and at least one poll interval after the fault ended).
#[derive(Debug, Clone)]
struct Window {
    start: u64,
    end: u64,
}

struct EpisodeRow {
    at: f64,
    what: String,
    health: String,
    recovered: String,
    ok: bool,
}

struct Check {
    name: String,
    ok: bool,
    detail: String,
}

struct CutRecord {
    hint: bool,
    start: u64,
    end: u64,
    flowing_after: Option<u64>,
    first_offline: Vec<(String, Option<u64>)>,
}

struct KillRecord {
    at: u64,
    signal: Option<i32>,
    in_flight: usize,
    reported_last_2s: usize,
    down: u64,
    spawned: u64,
    ready: u64,
    flowing: Option<u64>,
}

/// What the end of the run gathered, for the checks and the report.
struct End {
    placed: BTreeMap<String, Placed>,
    /// Every placed order but the poisoned ones.
    expected: BTreeSet<String>,
    poison: BTreeSet<String>,
    held: BTreeSet<String>,
    observed: Observed,
    /// The child's `report` answer.
    report: Value,
    at_hubrise: HashMap<String, Value>,
    all_reported: bool,
    settled: bool,
    closed: bool,
    service_end: u64,
    drained: u64,
    cpu_soak: f64,
}

/// Counts the report shows.
struct Tally {
    again_after_restart: usize,
    repeated_patches: usize,
    api: usize,
    dropped: usize,
    too_many: usize,
    server_errors: usize,
}

/// Placed → first `OrderReceived`.
struct Latencies {
    all: Samples,
    /// Orders whose way from placement to the till crossed no fault window.
    clean: Samples,
    clean_goal: Duration,
    /// For the orders placed during each cut: from the cut's end; with the goal.
    cuts: Vec<(bool, Samples, Duration)>,
    /// For the orders placed while each killed child was down: from its restart.
    kills: Vec<Samples>,
}

struct Soak {
    options: Options,
    rng: Rng,
    admin: Admin,
    work: PathBuf,
    exe: PathBuf,
    config_file: PathBuf,
    secrets_file: PathBuf,
    shared: Shared,
    placed: PlacedMap,
    faults: Faults,
    child: Option<ChildProc>,
    children: u32,
    query_seq: u64,
    t0: u64,
    windows: Vec<Window>,
    episodes: Vec<EpisodeRow>,
    checks: Vec<Check>,
    cuts: Vec<CutRecord>,
    kills: Vec<KillRecord>,
    poison: Vec<String>,
    held: Vec<String>,
    /// Accepts of held orders asked of a child that did not confirm them (killed first).
    unconfirmed_accepts: BTreeSet<String>,
    child_cpu: f64,
    next_location: usize,
    /// Location id → name (health lines name connections by location).
    names: HashMap<String, String>,
    /// Passerelle's HubRise client id (its connections' event queues are checked at the end).
    client_id: String,
}

async fn run(options: Options) -> Result<bool> {
    let sandbox = Sandbox::start(SandboxOptions {
        limits: SandboxLimits::unlimited(),
        ..SandboxOptions::default()
    })
    .await?;
    let dir = tempfile::Builder::new()
        .prefix("passerelle-soak-")
        .tempdir()?;
    let work = dir.path().to_path_buf();
    let result = soak(&sandbox, &work, options.clone()).await;
    sandbox.stop().await;
    if options.keep || !matches!(result, Ok(true)) {
        let kept = dir.keep();
        eprintln!("soak: work directory kept: {}", kept.display());
    }
    result
}

async fn soak(sandbox: &Sandbox, work: &Path, options: Options) -> Result<bool> {
    let started_wall = now_us();
    let load_before = load_average();
    let seed = sandbox.seed().clone();
    let data_dir = work.join("data");
    let secrets_file = work.join("keychain.json");
    let config_file = work.join("config.json");

    // Set-up in this process: sign in, connect both locations on the consent page, apply.
    let mut config = config_for(sandbox, &data_dir);
    config.initial_settings.poll_interval_secs = options.poll;
    config.rate_limits = fixture::unlimited_client_limits();
    std::fs::write(&config_file, config_to_json(&config).to_string())?;
    {
        let app = Passerelle::open(
            config,
            Arc::new(FileSecretStore::new(&secrets_file)),
            Arc::new(CountingListener::default()),
        )
        .await?;
        seeded::sign_in(&app, &seed, 0).await?;
        for location in LOCATIONS {
            seeded::connect(&app, &seeded::choice(&seed, 0, location)?).await?;
        }
        app.restart().await?;
        app.sync_now().await?;
        app.close().await?;
    }

    let admin = sandbox.admin();
    let mut s = Soak {
        rng: Rng::new(options.seed),
        options,
        admin: admin.clone(),
        work: work.to_path_buf(),
        exe: std::env::current_exe()?,
        config_file,
        secrets_file,
        shared: Shared::default(),
        placed: PlacedMap::default(),
        faults: Faults {
            admin: admin.clone(),
            persistent: Vec::new(),
        },
        child: None,
        children: 0,
        query_seq: 0,
        t0: 0,
        windows: Vec::new(),
        episodes: Vec::new(),
        checks: Vec::new(),
        cuts: Vec::new(),
        kills: Vec::new(),
        poison: Vec::new(),
        held: Vec::new(),
        unconfirmed_accepts: BTreeSet::new(),
        child_cpu: 0.0,
        next_location: 0,
        names: seed
            .account()
            .locations
            .iter()
            .map(|l| (l.id.clone(), l.name.clone()))
            .collect(),
        client_id: seed.client_id.clone(),
    };
    s.spawn_child().await?;
    if s.wait_flowing(Duration::from_secs(30)).await.is_none() {
        return Err(BenchError("the child never read Flowing at start".into()));
    }
    let mut anchors = plan(&s.options, &mut s.rng);
    eprintln!(
        "soak: plan ({} s of service):",
        s.options.duration().as_secs()
    );
    for a in &anchors {
        eprintln!("  t={:>6.1} s  {:?}", a.at.as_secs_f64(), a.kind);
    }

    let cpu_before = cpu_secs("self").unwrap_or(0.0);
    let service = s.options.duration();
    let start = Instant::now();
    s.t0 = now_us();
    let placer = tokio::spawn(place_orders(
        admin.clone(),
        s.placed.clone(),
        s.options.rate,
        start + service,
    ));

    let mut kinds: Vec<u64> = Vec::new();
    loop {
        let elapsed = start.elapsed();
        if elapsed >= service {
            break;
        }
        s.ensure_alive().await?;
        if let Some(anchor) = anchors.first().copied()
            && anchor.at <= elapsed
        {
            anchors.remove(0);
            s.run_anchor(anchor).await?;
            continue;
        }
        let until_next = anchors
            .first()
            .map_or(service, |a| a.at)
            .min(service)
            .saturating_sub(elapsed);
        if until_next >= Duration::from_secs(15) {
            if kinds.is_empty() {
                kinds = (0..TRANSIENT_KINDS).collect();
                s.rng.shuffle(&mut kinds);
            }
            let kind = kinds.pop().unwrap_or(0);
            s.run_transient(kind).await?;
            let gap = Duration::from_millis(s.rng.range(4_000, 10_000));
            tokio::time::sleep(gap.min(until_next)).await;
        } else {
            tokio::time::sleep(until_next.min(Duration::from_secs(1))).await;
        }
    }
    let placing_errors = placer
        .await
        .map_err(|e| BenchError(format!("placer: {e}")))?;
    let service_end = now_us();
    eprintln!("soak: service over; waiting for the last orders");
    s.check(
        "every order was placed",
        placing_errors.is_empty(),
        format!(
            "{} placement errors {:?}",
            placing_errors.len(),
            placing_errors.first()
        ),
    );
    s.finish(service_end, started_wall, &load_before, cpu_before)
        .await
}

impl Soak {
    fn rel(&self, at: u64) -> f64 {
        secs(at.saturating_sub(self.t0))
    }

    fn check(&mut self, name: &str, ok: bool, detail: String) {
        if !ok {
            eprintln!("soak: CHECK FAILED: {name}: {detail}");
        }
        self.checks.push(Check {
            name: name.to_owned(),
            ok,
            detail,
        });
    }

    fn next_location(&mut self) -> &'static str {
        self.next_location += 1;
        LOCATIONS[self.next_location % 2]
    }

    /// Starts a child and waits for it to be open; returns when it was spawned and when it said
    /// it was ready (its `open()` returned; its workers may have synced already).
    async fn spawn_child(&mut self) -> Result<(u64, u64)> {
        self.children += 1;
        let spawned = now_us();
        let stderr =
            std::fs::File::create(self.work.join(format!("child-{}.stderr", self.children)))?;
        let mut child = Command::new(&self.exe)
            .arg("--child")
            .arg(&self.config_file)
            .arg(&self.secrets_file)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .kill_on_drop(true)
            .spawn()?;
        let pid = child
            .id()
            .ok_or_else(|| BenchError("the child has no pid".into()))?;
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| BenchError("no stdin pipe".into()))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| BenchError("no stdout pipe".into()))?;
        let transcript = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.work.join("child.jsonl"))?;
        spawn_reader(stdout, pid, self.shared.clone(), transcript);
        self.child = Some(ChildProc { child, stdin, pid });
        let ready = wait_for(&self.shared, Duration::from_secs(60), |o| {
            o.ready.iter().find(|(p, _)| *p == pid).map(|(_, at)| *at)
        })
        .await;
        let Some(ready) = ready else {
            return Err(BenchError(format!("child {pid} never got ready")));
        };
        // Accepts of held orders the last child never confirmed: the till asks again.
        for id in self.unconfirmed_accepts.clone() {
            self.send(&format!("accept {id}")).await?;
        }
        Ok((spawned, ready))
    }

    async fn send(&mut self, command: &str) -> Result<()> {
        let child = self
            .child
            .as_mut()
            .ok_or_else(|| BenchError("no child".into()))?;
        child
            .stdin
            .write_all(format!("{command}\n").as_bytes())
            .await?;
        child.stdin.flush().await?;
        Ok(())
    }

    /// A child that ended without being killed is a failure; it is started again.
    async fn ensure_alive(&mut self) -> Result<()> {
        let Some(child) = self.child.as_mut() else {
            return Ok(());
        };
        if let Some(status) = child.child.try_wait()? {
            let pid = child.pid;
            self.child = None;
            self.check(
                "the child never ends by itself",
                false,
                format!("child {pid} ended: {status}"),
            );
            self.spawn_child().await?;
        }
        Ok(())
    }

    /// `sync_health()` read in the child now.
    async fn query_health(&mut self) -> Result<Option<HealthLine>> {
        self.query_seq += 1;
        let q = self.query_seq;
        self.send(&format!("health {q}")).await?;
        Ok(wait_for(&self.shared, Duration::from_secs(5), |o| {
            o.queries.get(&q).cloned()
        })
        .await)
    }

    /// Reads the child's health every 100 ms until every connection is `Flowing`; when it was.
    async fn wait_flowing(&mut self, within: Duration) -> Option<u64> {
        let deadline = Instant::now() + within;
        loop {
            if let Ok(Some(health)) = self.query_health().await
                && health.all_flowing()
            {
                return Some(health.at);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn health_events(&self, from: u64, to: u64) -> Vec<HealthLine> {
        lock(&self.shared)
            .health
            .iter()
            .filter(|h| h.at >= from && h.at <= to)
            .cloned()
            .collect()
    }

    async fn run_anchor(&mut self, anchor: Anchor) -> Result<()> {
        match anchor.kind {
            AnchorKind::Cut { hint } => self.run_cut(hint).await,
            AnchorKind::Kill => self.run_kill().await,
            AnchorKind::Poison => self.run_poison().await,
            AnchorKind::Hold => self.run_hold().await,
        }
    }

    async fn run_transient(&mut self, kind: u64) -> Result<()> {
        let poll = self.options.poll_interval();
        let t = draw_transient(kind, &mut self.rng, poll);
        let start = now_us();
        self.faults.inject(t.fault.clone()).await;
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut used_up = true;
        while !self.faults.transient_gone().await {
            if Instant::now() >= deadline {
                used_up = false;
                self.faults.reset(None).await;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let gone = now_us();
        let flowing = self.wait_flowing(t.recover_within).await;
        let min_end = gone + us(poll + Duration::from_secs(1));
        let end = flowing.unwrap_or_else(now_us).max(min_end);
        if now_us() < end {
            tokio::time::sleep(Duration::from_micros(end - now_us())).await;
        }
        self.windows.push(Window { start, end });
        let seen = self.health_events(start, end);
        let (health_ok, health) = match t.expect {
            Expect::Delayed(reason) => {
                let first = seen.iter().find(|h| h.delayed_for(reason).next().is_some());
                match first {
                    Some(h) => (
                        true,
                        format!(
                            "{} after {:.2} s",
                            h.brief(),
                            secs(h.at.saturating_sub(start))
                        ),
                    ),
                    None => (
                        false,
                        format!(
                            "never Delayed/{reason}; saw [{}]",
                            seen.iter()
                                .map(HealthLine::brief)
                                .collect::<Vec<_>>()
                                .join("; ")
                        ),
                    ),
                }
            }
            Expect::Flowing => {
                let other: Vec<String> = seen
                    .iter()
                    .filter(|h| h.state != "Flowing")
                    .map(HealthLine::brief)
                    .collect();
                if other.is_empty() {
                    (true, "Flowing throughout".into())
                } else {
                    (false, format!("left Flowing: {}", other.join("; ")))
                }
            }
        };
        let recovered = match flowing {
            Some(at) => format!("{:.2} s", secs(at.saturating_sub(gone))),
            None => format!("not within {:.0} s", t.recover_within.as_secs_f64()),
        };
        let mut ok = health_ok && flowing.is_some();
        let mut health = health;
        // After an answer from HubRise (a 429, a 5xx) the worker announces its next attempt
        // (Retry-After, growing backoff): no attempt may come sooner.
        if let Expect::Delayed(reason @ ("RateLimited" | "HubriseUnavailable")) = t.expect {
            let early = attempt_before_due(&seen, reason);
            let what = if reason == "RateLimited" {
                "the wait a 429's Retry-After asked for is kept"
            } else {
                "the growing backoff after a 5xx is kept"
            };
            let mut detail = early
                .clone()
                .unwrap_or_else(|| "no attempt before it".into());
            if let FaultKind::TooManyRequests {
                retry_after: Some(wait),
            } = t.fault.kind
            {
                detail.push_str(&format!(
                    "; {}",
                    self.requests_during_retry_after(wait).await
                ));
            }
            self.check(
                &format!("{what} (next attempt not before next_attempt_at)"),
                early.is_none(),
                detail.clone(),
            );
            if early.is_some() {
                ok = false;
                health.push_str(&format!("; EARLY ATTEMPT: {detail}"));
            }
        }
        let what = if used_up {
            t.label.clone()
        } else {
            format!("{} (not used up in 30 s: cleared)", t.label)
        };
        self.check(
            &format!("health during: {}", t.label),
            ok,
            format!("{health}; Flowing again {recovered} after the fault was used up"),
        );
        self.episodes.push(EpisodeRow {
            at: self.rel(start),
            what,
            health,
            recovered,
            ok,
        });
        Ok(())
    }

    /// The API requests the connection that got the last 429 made while its Retry-After ran (the
    /// sandbox's log has whole seconds: strictly inside the wait, with a second of slack).
    async fn requests_during_retry_after(&self, wait: u64) -> String {
        let requests = self.admin.requests().await;
        let second = |at: &str| {
            time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
                .map_or(0, |t| t.unix_timestamp())
        };
        // A faulted request carries no connection (the fault answers before authentication):
        // every location's requests are counted, the health line says which one was limited.
        let Some(limited) = requests.iter().rev().find(|r| r.status == 429) else {
            return "no 429 in the sandbox's log".into();
        };
        let from = second(&limited.at);
        let until = from + i64::try_from(wait).unwrap_or(0);
        let counts: Vec<String> = LOCATIONS
            .iter()
            .map(|location| {
                let inside: Vec<&str> = requests
                    .iter()
                    .filter(|r| {
                        r.connection.as_ref().and_then(|c| c.location_id.as_deref())
                            == Some(*location)
                            && second(&r.at) > from
                            && second(&r.at) < until
                    })
                    .map(|r| r.method.as_str())
                    .collect();
                let gets = inside.iter().filter(|m| **m == "GET").count();
                format!(
                    "{}: {} ({gets} GET)",
                    self.names.get(*location).map_or(*location, String::as_str),
                    inside.len()
                )
            })
            .collect();
        format!(
            "API requests strictly inside the {wait} s the 429 asked for (whole seconds {}..={}): {}",
            from + 1,
            until - 1,
            counts.join(", ")
        )
    }

    async fn run_cut(&mut self, hint: bool) -> Result<()> {
        let poll = self.options.poll_interval();
        let cut = Duration::from_secs(self.options.cut_secs);
        let start = now_us();
        let started = Instant::now();
        self.faults
            .reset(Some(api_fault("/", None, None, FaultKind::DropConnection)))
            .await;
        let label = if hint {
            "network cut 1 (host's hint at its end)"
        } else {
            "network cut 2 (no hint)"
        };
        // sync_health() read during the cut: Delayed, Offline, next attempt within one poll.
        let mut queries = Vec::new();
        for offset in [5, cut.as_secs() / 2, cut.as_secs().saturating_sub(3)] {
            let at = Duration::from_secs(offset);
            if let Some(wait) = at.checked_sub(started.elapsed()) {
                tokio::time::sleep(wait).await;
            }
            let health = self.query_health().await?;
            let ok = health.as_ref().is_some_and(|h| {
                !h.conns.is_empty()
                    && h.conns.iter().all(|c| {
                        c.state == "Delayed"
                            && c.reason.as_deref() == Some("Offline")
                            && c.next_in_ms.is_some_and(|ms| {
                                ms <= i64::try_from(poll.as_millis()).unwrap_or(0) + 250
                            })
                    })
            });
            let brief = health.as_ref().map_or("no answer".into(), |h| {
                let next: Vec<String> = h
                    .conns
                    .iter()
                    .map(|c| format!("{} next in {:?} ms", c.name, c.next_in_ms))
                    .collect();
                format!("{} ({})", h.brief(), next.join(", "))
            });
            self.check(
                &format!("{label}: sync_health() at +{offset} s reads Delayed/Offline, next attempt within one poll"),
                ok,
                brief.clone(),
            );
            queries.push(format!("+{offset} s: {brief}"));
        }
        if let Some(wait) = cut.checked_sub(started.elapsed()) {
            tokio::time::sleep(wait).await;
        }
        let end = now_us();
        self.faults.reset(None).await;
        if hint {
            self.send("hint").await?;
        }
        let bound = if hint {
            Duration::from_secs(3)
        } else {
            poll + Duration::from_secs(3)
        };
        let flowing = self.wait_flowing(Duration::from_secs(20)).await;
        self.windows.push(Window {
            start,
            end: flowing.unwrap_or_else(now_us) + us(poll),
        });
        // When each connection first read Delayed/Offline after the cut began (its events).
        let seen = self.health_events(start, end);
        let names: BTreeSet<String> = seen
            .iter()
            .flat_map(|h| h.conns.iter().map(|c| c.name.clone()))
            .collect();
        let first_offline: Vec<(String, Option<u64>)> = names
            .into_iter()
            .map(|name| {
                let at = seen
                    .iter()
                    .find(|h| h.delayed_for("Offline").any(|c| c.name == name))
                    .map(|h| h.at - start);
                (name, at)
            })
            .collect();
        let quick = first_offline.len() == 2
            && first_offline
                .iter()
                .all(|(_, at)| at.is_some_and(|at| at <= us(Duration::from_secs(5))));
        self.check(
            &format!("{label}: each connection reads Delayed/Offline within 5 s"),
            quick,
            first_offline
                .iter()
                .map(|(n, at)| format!("{n}: {:?} s", at.map(secs)))
                .collect::<Vec<_>>()
                .join(", "),
        );
        let recovered = flowing.map(|at| at.saturating_sub(end));
        self.check(
            &format!(
                "{label}: Flowing again within {:.0} s of its end",
                bound.as_secs_f64()
            ),
            recovered.is_some_and(|r| r <= us(bound)),
            format!("{:?} s", recovered.map(secs)),
        );
        self.episodes.push(EpisodeRow {
            at: self.rel(start),
            what: format!("{label}, {} s", cut.as_secs()),
            health: format!(
                "Delayed/Offline first after {}; {}",
                first_offline
                    .iter()
                    .map(|(n, at)| format!("{n} {:.2} s", at.map_or(f64::NAN, secs)))
                    .collect::<Vec<_>>()
                    .join(", "),
                queries.join("; ")
            ),
            recovered: recovered.map_or("never".into(), |r| format!("{:.2} s", secs(r))),
            ok: quick && recovered.is_some_and(|r| r <= us(bound)),
        });
        self.cuts.push(CutRecord {
            hint,
            start,
            end,
            flowing_after: recovered,
            first_offline,
        });
        Ok(())
    }

    /// Orders placed and not yet reported (the poisoned ones aside), and orders the child `pid`
    /// reported in the 2 s before `at`.
    fn in_flight(&self, pid: u32, at: u64) -> (usize, usize) {
        let observed = lock(&self.shared);
        let in_flight = placed_lock(&self.placed)
            .iter()
            .filter(|(id, p)| p.kind != Kind::Poison && !observed.reports.contains_key(*id))
            .count();
        let recent = observed
            .reports
            .values()
            .filter(|r| {
                r.iter()
                    .any(|(t, p)| *p == pid && *t + us(Duration::from_secs(2)) >= at)
            })
            .count();
        (in_flight, recent)
    }

    async fn run_kill(&mut self) -> Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let pid = child.pid;
        // Mid-work: the moment is random, but the kill waits (at most 3 s) for an order to be
        // on its way, placed and not yet reported.
        let deadline = Instant::now() + Duration::from_secs(3);
        let (at, in_flight, reported_last_2s) = loop {
            let at = now_us();
            let (in_flight, recent) = self.in_flight(pid, at);
            if in_flight > 0 || Instant::now() >= deadline {
                break (at, in_flight, recent);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        self.child_cpu += cpu_secs(&pid.to_string()).unwrap_or(0.0);
        child.child.start_kill()?;
        let status = child.child.wait().await?;
        let down = Duration::from_millis(self.rng.range(1_000, 3_000));
        tokio::time::sleep(down).await;
        let (spawned, ready) = self.spawn_child().await?;
        let flowing = self.wait_flowing(Duration::from_secs(15)).await;
        self.windows.push(Window {
            start: at,
            end: flowing.unwrap_or_else(now_us) + us(self.options.poll_interval()),
        });
        let signal = status.signal();
        self.check(
            "each kill is a SIGKILL of a child in the middle of its work",
            signal == Some(9) && in_flight > 0 && reported_last_2s > 0,
            format!("signal {signal:?}, {in_flight} orders in flight, {reported_last_2s} reported in its last 2 s"),
        );
        self.check(
            "the restarted child reads Flowing within 15 s",
            flowing.is_some(),
            format!(
                "{:?} s after it was ready",
                flowing.map(|f| secs(f.saturating_sub(ready)))
            ),
        );
        self.episodes.push(EpisodeRow {
            at: self.rel(at),
            what: format!(
                "SIGKILL of the child (pid {pid}), restarted {:.1} s later",
                down.as_secs_f64()
            ),
            health: format!("signal {signal:?}; {in_flight} orders in flight"),
            recovered: flowing.map_or("never".into(), |f| {
                format!("{:.2} s after ready", secs(f.saturating_sub(ready)))
            }),
            ok: signal == Some(9) && flowing.is_some(),
        });
        self.kills.push(KillRecord {
            at,
            signal,
            in_flight,
            reported_last_2s,
            down: spawned - at,
            spawned,
            ready,
            flowing,
        });
        Ok(())
    }

    async fn run_poison(&mut self) -> Result<()> {
        let location = self.next_location();
        let name = format!("Poison {}", self.poison.len() + 1);
        let at = now_us();
        // No await point between placing and poisoning yields (see `Faults`): the child cannot
        // fetch the order in between.
        let id = self
            .admin
            .place_order(location, sample_order(&name))
            .await?;
        self.faults
            .add_persistent(api_fault(
                &format!("{ORDER_PATH}{id}"),
                Some("GET"),
                None,
                FaultKind::Status { status: 500 },
            ))
            .await;
        placed_lock(&self.placed).insert(
            id.clone(),
            Placed {
                at,
                location,
                kind: Kind::Poison,
            },
        );
        self.episodes.push(EpisodeRow {
            at: self.rel(at),
            what: format!("poison order {id} ({location}): persistent 500 on its GET"),
            health: "must be quarantined".into(),
            recovered: "(checked at the end)".into(),
            ok: true,
        });
        self.poison.push(id);
        Ok(())
    }

    async fn run_hold(&mut self) -> Result<()> {
        let location = self.next_location();
        let name = format!("Hold {}", self.held.len() + 1);
        let at = now_us();
        let id = self
            .admin
            .place_order(location, sample_order(&name))
            .await?;
        placed_lock(&self.placed).insert(
            id.clone(),
            Placed {
                at,
                location,
                kind: Kind::Held,
            },
        );
        self.held.push(id.clone());
        let key = id.clone();
        let reported = wait_for(&self.shared, Duration::from_secs(30), |o| {
            o.reports.contains_key(&key).then_some(())
        })
        .await;
        // Marked `received` at HubRise before its PATCHes start failing.
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut received = false;
        while Instant::now() < deadline {
            let status = self.admin.order(location, &id).await;
            if status.as_ref().and_then(|o| o["status"].as_str()) == Some("received") {
                received = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        self.faults
            .add_persistent(api_fault(
                &format!("{ORDER_PATH}{id}"),
                Some("PATCH"),
                None,
                FaultKind::Status { status: 503 },
            ))
            .await;
        self.unconfirmed_accepts.insert(id.clone());
        self.send(&format!("accept {id}")).await?;
        let key = id.clone();
        let confirmed = wait_for(&self.shared, Duration::from_secs(10), |o| {
            o.accepted.contains(&key).then_some(())
        })
        .await;
        if confirmed.is_some() {
            self.unconfirmed_accepts.remove(&id);
        }
        self.check(
            "a held order is received, then accepted at the till",
            reported.is_some() && received && confirmed.is_some(),
            format!(
                "{id}: reported {}, received at HubRise {received}, accept confirmed {}",
                reported.is_some(),
                confirmed.is_some()
            ),
        );
        self.episodes.push(EpisodeRow {
            at: self.rel(at),
            what: format!(
                "poison change: order {id} ({location}) accepted with a persistent 503 on its PATCH"
            ),
            health: "its accept must end as a failed change".into(),
            recovered: "(checked at the end)".into(),
            ok: reported.is_some() && received,
        });
        Ok(())
    }

    async fn finish(
        &mut self,
        service_end: u64,
        started_wall: u64,
        load_before: &str,
        cpu_before: f64,
    ) -> Result<bool> {
        let end = self.settle_and_close(service_end, cpu_before).await?;
        let again_after_restart = self.check_reports(&end);
        self.check_database(&end)?;
        self.check_quarantine(&end);
        let tally = self.check_hubrise(&end).await;
        let latencies = self.latencies(&end);
        let out = self.report(
            &end,
            &latencies,
            &Tally {
                again_after_restart,
                ..tally
            },
            started_wall,
            load_before,
        );
        print!("{out}");
        std::fs::write(self.work.join("report.md"), &out)?;
        Ok(self.checks.iter().all(|c| c.ok))
    }

    /// Waits for the last orders, the quarantine and the failed changes, and HubRise's accepts;
    /// asks the child for its account, closes it, and takes what was observed.
    async fn settle_and_close(&mut self, service_end: u64, cpu_before: f64) -> Result<End> {
        let placed = placed_lock(&self.placed).clone();
        let expected: BTreeSet<String> = placed
            .iter()
            .filter(|(_, p)| p.kind != Kind::Poison)
            .map(|(id, _)| id.clone())
            .collect();
        let poison: BTreeSet<String> = self.poison.iter().cloned().collect();
        let held: BTreeSet<String> = self.held.iter().cloned().collect();

        // Every order reported, every poison set aside, every poisoned change failed.
        let all_reported = {
            let expected = expected.clone();
            wait_for(&self.shared, Duration::from_secs(180), move |o| {
                expected
                    .iter()
                    .all(|id| o.reports.contains_key(id))
                    .then_some(())
            })
            .await
            .is_some()
        };
        let settled = {
            let (poison, held) = (poison.clone(), held.clone());
            wait_for(&self.shared, Duration::from_secs(240), move |o| {
                let q: BTreeSet<String> = o.quarantined.iter().map(|(_, id)| id.clone()).collect();
                let f: BTreeSet<String> = o.failed.iter().map(|(_, id, _)| id.clone()).collect();
                (poison.is_subset(&q) && held.is_subset(&f)).then_some(())
            })
            .await
            .is_some()
        };
        // HubRise has every accept.
        let deadline = Instant::now() + Duration::from_secs(180);
        let mut at_hubrise: HashMap<String, Value> = HashMap::new();
        loop {
            at_hubrise.clear();
            for location in LOCATIONS {
                for order in self.admin.orders(location).await {
                    if let Some(id) = order["id"].as_str() {
                        at_hubrise.insert(id.to_owned(), order.clone());
                    }
                }
            }
            let pending = placed
                .iter()
                .filter(|(id, p)| {
                    p.kind == Kind::Normal
                        && at_hubrise.get(*id).and_then(|o| o["status"].as_str())
                            != Some("accepted")
                })
                .count();
            if pending == 0 || Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        let drained = now_us();

        // The child's own account, then a clean close.
        self.send("report").await?;
        let report = wait_for(&self.shared, Duration::from_secs(10), |o| o.report.clone())
            .await
            .unwrap_or(Value::Null);
        if let Some(child) = &self.child {
            self.child_cpu += cpu_secs(&child.pid.to_string()).unwrap_or(0.0);
        }
        self.send("close").await?;
        let closed = match self.child.take() {
            Some(mut child) => {
                drop(child.stdin);
                matches!(
                    tokio::time::timeout(Duration::from_secs(30), child.child.wait()).await,
                    Ok(Ok(status)) if status.success()
                )
            }
            None => false,
        };
        let cpu_soak = cpu_secs("self").unwrap_or(0.0) - cpu_before;

        let observed = std::mem::take(&mut *lock(&self.shared));
        Ok(End {
            placed,
            expected,
            poison,
            held,
            observed,
            report,
            at_hubrise,
            all_reported,
            settled,
            closed,
            service_end,
            drained,
            cpu_soak,
        })
    }

    /// Lost and duplicated, as the child reported them; returns how many orders were announced
    /// again by a restarted child.
    fn check_reports(&mut self, end: &End) -> usize {
        let missing: Vec<&String> = end
            .expected
            .iter()
            .filter(|id| !end.observed.reports.contains_key(*id))
            .collect();
        self.check(
            "0 lost: every placed order but the poisoned ones reported (OrderReceived)",
            end.all_reported && missing.is_empty(),
            format!(
                "{} of {} reported; missing {:?}",
                end.expected.len() - missing.len(),
                end.expected.len(),
                missing.iter().take(10).collect::<Vec<_>>()
            ),
        );
        let unexpected: Vec<&String> = end
            .observed
            .reports
            .keys()
            .filter(|id| !end.expected.contains(*id))
            .collect();
        self.check(
            "no poisoned order and nothing unknown reported",
            unexpected.is_empty(),
            format!("{unexpected:?}"),
        );
        let mut twice_in_one_process = Vec::new();
        let mut again_after_restart = 0usize;
        for (id, reports) in &end.observed.reports {
            let pids: BTreeSet<u32> = reports.iter().map(|(_, p)| *p).collect();
            if pids.len() < reports.len() {
                twice_in_one_process.push(id.clone());
            }
            if pids.len() > 1 {
                again_after_restart += 1;
            }
        }
        self.check(
            "0 duplicated: no order announced twice by one process",
            twice_in_one_process.is_empty(),
            format!(
                "{} orders: {:?}",
                twice_in_one_process.len(),
                twice_in_one_process.iter().take(10).collect::<Vec<_>>()
            ),
        );

        again_after_restart
    }

    /// Lost and duplicated in the child's SQLite file, and its outbox.
    fn check_database(&mut self, end: &End) -> Result<()> {
        let db = rusqlite::Connection::open_with_flags(
            self.work.join("data").join(DATABASE_FILE),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )?;
        let (rows, distinct): (i64, i64) =
            db.query_row("SELECT count(*), count(DISTINCT id) FROM orders", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        let stored: BTreeSet<String> = db
            .prepare("SELECT id FROM orders")?
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<_>>()?;
        self.check(
            "0 lost, 0 duplicated in the child's SQLite: each order stored once, no poisoned one",
            stored == end.expected
                && rows == distinct
                && usize::try_from(rows).ok() == Some(end.expected.len()),
            format!(
                "{rows} rows, {distinct} distinct ids, {} expected; missing {}, extra {}",
                end.expected.len(),
                end.expected.difference(&stored).count(),
                stored.difference(&end.expected).count()
            ),
        );
        let twice: Vec<(String, String, i64)> = db
            .prepare(
                "SELECT order_id, kind, count(*) FROM outbox GROUP BY order_id, kind HAVING count(*) > 1",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        self.check(
            "0 duplicated in the outbox: one `received` and one accept per order at most",
            twice.is_empty(),
            format!("{twice:?}"),
        );
        let waiting: i64 = db.query_row(
            "SELECT count(*) FROM outbox WHERE finished_at IS NULL AND failed_at IS NULL",
            [],
            |r| r.get(0),
        )?;
        let failed_rows: BTreeSet<String> = db
            .prepare(
                "SELECT order_id FROM outbox WHERE failed_at IS NOT NULL AND finished_at IS NULL",
            )?
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<_>>()?;
        self.check(
            "the outbox is empty but for the poisoned changes",
            waiting == 0 && failed_rows == end.held,
            format!("{waiting} changes waiting; failed {failed_rows:?}"),
        );

        Ok(())
    }

    /// Exactly the poisoned orders quarantined, exactly the poisoned changes failed.
    fn check_quarantine(&mut self, end: &End) {
        let quarantined_events: BTreeSet<String> = end
            .observed
            .quarantined
            .iter()
            .map(|(_, id)| id.clone())
            .collect();
        let quarantined_items: BTreeSet<String> = end.report["quarantined"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i["order_id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let quarantined_count = end.report["quarantined"].as_array().map_or(0, Vec::len);
        self.check(
            "exactly the poisoned orders quarantined (quarantined_items() and ItemQuarantined)",
            end.settled && quarantined_items == end.poison && quarantined_events == end.poison && quarantined_count == end.poison.len(),
            format!(
                "poisoned {:?}; quarantined_items() {quarantined_items:?} ({quarantined_count} items); events {quarantined_events:?}",
                end.poison
            ),
        );
        let failed_changes: Vec<(String, String)> = end.report["failed"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|i| {
                        (
                            i["order_id"].as_str().unwrap_or_default().to_owned(),
                            i["status"].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let failed_ids: BTreeSet<String> =
            failed_changes.iter().map(|(id, _)| id.clone()).collect();
        let failed_events: BTreeSet<String> = end
            .observed
            .failed
            .iter()
            .map(|(_, id, _)| id.clone())
            .collect();
        self.check(
            "exactly the poisoned changes failed, each an accept (failed_changes() and ChangeFailed)",
            failed_ids == end.held
                && failed_changes.len() == end.held.len()
                && failed_changes.iter().all(|(_, status)| status == "accepted")
                && failed_events == end.held,
            format!(
                "poisoned {:?}; failed_changes() {failed_changes:?}; events {failed_events:?}",
                end.held
            ),
        );
        let final_health = HealthLine::parse(&end.report["health"]);
        let q_total: u64 = final_health.conns.iter().map(|c| c.quarantined).sum();
        let f_total: u64 = final_health.conns.iter().map(|c| c.failed).sum();
        self.check(
            "the final health needs attention and counts them",
            end.report["health"]["attention"] == true
                && q_total == end.poison.len() as u64
                && f_total == end.held.len() as u64
                && final_health.all_flowing(),
            format!(
                "{}: {q_total} quarantined, {f_total} failed changes",
                final_health.brief()
            ),
        );
        self.check(
            "no order conflict, no reconnect needed, no error in the child",
            end.observed.conflicts.is_empty()
                && end.observed.reconnect_needed.is_empty()
                && end.observed.errors.is_empty(),
            format!(
                "conflicts {:?}; reconnect {:?}; errors {:?}",
                end.observed.conflicts,
                end.observed.reconnect_needed,
                end.observed.errors.iter().take(5).collect::<Vec<_>>()
            ),
        );
        self.check(
            "unseen_orders() is empty at the end",
            end.report["unseen"] == 0,
            format!("{}", end.report["unseen"]),
        );
        self.check("the child closes cleanly", end.closed, String::new());
    }

    /// HubRise's side: statuses, nothing appended, queues empty, PATCHes counted.
    async fn check_hubrise(&mut self, end: &End) -> Tally {
        let mut wrong = Vec::new();
        for (id, p) in &end.placed {
            let want = match p.kind {
                Kind::Normal => "accepted",
                Kind::Held => "received",
                Kind::Poison => "new",
            };
            let Some(order) = end.at_hubrise.get(id) else {
                wrong.push(format!("{id}: not at HubRise"));
                continue;
            };
            let len = |k: &str| order[k].as_array().map_or(0, Vec::len);
            let status = order["status"].as_str().unwrap_or_default();
            let confirmed = p.kind != Kind::Normal || order["confirmed_time"].is_string();
            if status != want
                || !confirmed
                || len("items") != 2
                || len("charges") != 1
                || len("payments") != 1
            {
                wrong.push(format!(
                    "{id}: {status} (want {want}), items {}, charges {}, payments {}",
                    len("items"),
                    len("charges"),
                    len("payments")
                ));
            }
        }
        self.check(
            "HubRise: every order accepted (held: received; poisoned: new), nothing appended",
            wrong.is_empty(),
            format!(
                "{} wrong: {:?}",
                wrong.len(),
                wrong.iter().take(5).collect::<Vec<_>>()
            ),
        );
        let left: usize = self
            .admin
            .connections()
            .await
            .iter()
            .filter(|c| c.client_id == self.client_id)
            .map(|c| c.pending_events)
            .sum();
        self.check(
            "HubRise: no event left in the queues",
            left == 0,
            format!("{left} left"),
        );
        let requests = self.admin.requests().await;
        let api: Vec<_> = requests
            .iter()
            .filter(|r| r.server == ServerKind::Api)
            .collect();
        let mut patches: HashMap<String, Vec<i64>> = HashMap::new();
        for r in &api {
            if r.method == "PATCH"
                && r.status == 200
                && let Some(id) = r.path.strip_prefix(ORDER_PATH)
            {
                let at = time::OffsetDateTime::parse(
                    &r.at,
                    &time::format_description::well_known::Rfc3339,
                )
                .map_or(0, |t| t.unix_timestamp());
                patches.entry(id.to_owned()).or_default().push(at);
            }
        }
        let kills_s: Vec<i64> = self
            .kills
            .iter()
            .map(|k| i64::try_from(k.at / 1_000_000).unwrap_or(0))
            .collect();
        let mut repeated = 0usize;
        let mut repeated_without_kill = Vec::new();
        for (id, p) in &end.placed {
            let want = match p.kind {
                Kind::Normal => 2,
                Kind::Held => 1,
                Kind::Poison => 0,
            };
            let got = patches.get(id).map_or(0, Vec::len);
            if got > want {
                repeated += 1;
                let near_kill = patches.get(id).is_some_and(|times| {
                    times
                        .iter()
                        .any(|t| kills_s.iter().any(|k| (t - k).abs() <= 3))
                });
                if !near_kill {
                    repeated_without_kill.push(id.clone());
                }
            }
        }
        self.check(
            "a status PATCH repeated only across a kill (sent, then the child died before recording it)",
            repeated_without_kill.is_empty(),
            format!("{repeated} orders had a status PATCH applied twice; without a kill within 3 s: {repeated_without_kill:?}"),
        );
        let by_status = |pred: &dyn Fn(u16) -> bool| api.iter().filter(|r| pred(r.status)).count();

        Tally {
            again_after_restart: 0,
            repeated_patches: repeated,
            api: api.len(),
            dropped: by_status(&|s| s == 0),
            too_many: by_status(&|s| s == 429),
            server_errors: by_status(&|s| s >= 500),
        }
    }

    /// Placed → first `OrderReceived`: every order, outside fault windows, after each cut's end
    /// and after each restart.
    fn latencies(&self, end: &End) -> Latencies {
        let first: HashMap<&String, u64> = end
            .observed
            .reports
            .iter()
            .filter_map(|(id, r)| r.iter().map(|(t, _)| *t).min().map(|t| (id, t)))
            .collect();
        let mut all = Samples::new();
        let mut clean = Samples::new();
        for (id, p) in &end.placed {
            let Some(&got) = first.get(id) else { continue };
            let latency = Duration::from_micros(got.saturating_sub(p.at));
            all.push(latency);
            if !self.windows.iter().any(|w| w.start < got && w.end > p.at) {
                clean.push(latency);
            }
        }
        let poll = self.options.poll_interval();
        let clean_goal = poll + Duration::from_secs(2);
        let mut cut_rows = Vec::new();
        for cut in &self.cuts {
            let mut after = Samples::new();
            for (id, p) in &end.placed {
                if p.kind == Kind::Poison || p.at < cut.start || p.at > cut.end {
                    continue;
                }
                if let Some(&got) = first.get(id) {
                    after.push(Duration::from_micros(got.saturating_sub(cut.end)));
                }
            }
            let goal = if cut.hint {
                Duration::from_secs(2)
            } else {
                poll
            };
            cut_rows.push((cut.hint, after, goal));
        }
        let mut kill_rows = Vec::new();
        for kill in &self.kills {
            let mut after = Samples::new();
            for (id, p) in &end.placed {
                if p.kind == Kind::Poison || p.at < kill.at || p.at > kill.spawned {
                    continue;
                }
                if let Some(&got) = first.get(id) {
                    after.push(Duration::from_micros(got.saturating_sub(kill.spawned)));
                }
            }
            kill_rows.push(after);
        }
        Latencies {
            all,
            clean,
            clean_goal,
            cuts: cut_rows,
            kills: kill_rows,
        }
    }

    fn report(
        &self,
        end: &End,
        latencies: &Latencies,
        tally: &Tally,
        started_wall: u64,
        load_before: &str,
    ) -> String {
        let counts = |kind: Kind| end.placed.values().filter(|p| p.kind == kind).count();
        let at_location = |location: &str| {
            end.placed
                .values()
                .filter(|p| p.location == location)
                .count()
        };
        let service = secs(end.service_end.saturating_sub(self.t0));
        let Latencies {
            all,
            clean,
            clean_goal,
            ..
        } = latencies;
        let clean_ok = !clean.is_empty() && clean.percentile(99.0) <= *clean_goal;
        let mut out = String::new();
        let line = |out: &mut String, s: String| {
            out.push_str(&s);
            out.push('\n');
        };
        let args = if self.options.args.is_empty() {
            String::new()
        } else {
            format!(" -- {}", self.options.args.join(" "))
        };
        line(&mut out, format!("## Service soak: `{COMMAND}{args}`"));
        line(&mut out, String::new());
        line(
            &mut out,
            format!(
                "Machine: {}; load average {load_before} at the start, {} at the end.",
                passerelle_bench::machine(),
                load_average()
            ),
        );
        line(
            &mut out,
            format!(
                "Started {} (Unix s); service {service:.0} s; drained {:.1} s after the last placement; whole run {:.0} s. Seed {}, poll interval {} s.",
                started_wall / 1_000_000,
                secs(end.drained.saturating_sub(end.service_end)),
                secs(now_us().saturating_sub(started_wall)),
                self.options.seed,
                self.options.poll,
            ),
        );
        line(
            &mut out,
            format!(
                "CPU: soak process (sandbox, orchestration) {:.1} s; the child processes {:.1} s in all.",
                end.cpu_soak, self.child_cpu
            ),
        );
        line(&mut out, String::new());
        line(&mut out, "| figure | value | goal |".into());
        line(&mut out, "|---|---:|---|".into());
        line(
            &mut out,
            format!(
                "| orders placed (normal / poisoned GET / poisoned PATCH) | {} ({} / {} / {}) over {service:.0} s, {:.2}/s; Paris {}, Lyon {} | ≥ 2,000 over ≥ 10 min |",
                end.placed.len(),
                counts(Kind::Normal),
                counts(Kind::Poison),
                counts(Kind::Held),
                end.placed.len() as f64 / service.max(1.0),
                at_location(LOCATIONS[0]),
                at_location(LOCATIONS[1])
            ),
        );
        line(
            &mut out,
            format!(
                "| placed → OrderReceived, outside fault windows ({} orders): p50 / p99 / max | {:.3} / {:.3} / {:.3} s | p99 ≤ {:.0} s: {} |",
                clean.len(),
                clean.median().as_secs_f64(),
                clean.percentile(99.0).as_secs_f64(),
                clean.max().as_secs_f64(),
                clean_goal.as_secs_f64(),
                if clean_ok { "met" } else { "MISSED" }
            ),
        );
        line(
            &mut out,
            format!(
                "| placed → OrderReceived, every order ({}): p50 / p99 / max | {:.3} / {:.3} / {:.3} s | |",
                all.len(),
                all.median().as_secs_f64(),
                all.percentile(99.0).as_secs_f64(),
                all.max().as_secs_f64()
            ),
        );
        for (cut, (_, after, goal)) in self.cuts.iter().zip(&latencies.cuts) {
            let ok = !after.is_empty() && after.max() <= *goal;
            line(
                &mut out,
                format!(
                    "| network cut {} ({}; {} orders placed during it): cut's end → OrderReceived, p50 / max | {:.3} / {:.3} s (first {:.3} s; Delayed/Offline read after {}; Flowing again {}) | max ≤ {:.0} s: {} |",
                    if cut.hint { 1 } else { 2 },
                    if cut.hint {
                        "host's hint at its end"
                    } else {
                        "no hint"
                    },
                    after.len(),
                    after.median().as_secs_f64(),
                    after.max().as_secs_f64(),
                    after.min().as_secs_f64(),
                    cut.first_offline
                        .iter()
                        .map(|(n, at)| format!(
                            "{n} {}",
                            at.map_or("never".into(), |a| format!("{:.2} s", secs(a)))
                        ))
                        .collect::<Vec<_>>()
                        .join(", "),
                    cut.flowing_after.map_or("never".into(), |f| format!(
                        "{:.2} s after its end",
                        secs(f)
                    )),
                    goal.as_secs_f64(),
                    if ok { "met" } else { "MISSED" }
                ),
            );
        }
        for (i, (kill, after)) in self.kills.iter().zip(&latencies.kills).enumerate() {
            line(
                &mut out,
                format!(
                    "| kill {} at {:.0} s (signal {:?}; {} orders in flight, {} reported in its last 2 s): down {:.2} s; restarted → open() returned {:.2} s → Flowing {}; {} placed while down, restarted → OrderReceived max | {:.3} s | |",
                    i + 1,
                    self.rel(kill.at),
                    kill.signal,
                    kill.in_flight,
                    kill.reported_last_2s,
                    secs(kill.down),
                    secs(kill.ready.saturating_sub(kill.spawned)),
                    kill.flowing.map_or("never".into(), |f| format!(
                        "{:.2} s",
                        secs(f.saturating_sub(kill.ready))
                    )),
                    after.len(),
                    after.max().as_secs_f64()
                ),
            );
        }
        line(
            &mut out,
            format!(
                "| orders announced again after a restart (unseen at the kill; counted once) | {} | |",
                tally.again_after_restart
            ),
        );
        line(
            &mut out,
            format!(
                "| orders whose status PATCH reached HubRise twice (across a kill) | {} | |",
                tally.repeated_patches
            ),
        );
        line(
            &mut out,
            format!(
                "| API requests: all / dropped by a fault / 429 / 5xx | {} / {} / {} / {} | |",
                tally.api, tally.dropped, tally.too_many, tally.server_errors,
            ),
        );
        line(
            &mut out,
            format!(
                "| fault episodes (transient / cuts / kills / poisons) | {} / {} / {} / {} + {} | |",
                self.episodes.len().saturating_sub(
                    self.cuts.len() + self.kills.len() + self.poison.len() + self.held.len()
                ),
                self.cuts.len(),
                self.kills.len(),
                self.poison.len(),
                self.held.len()
            ),
        );
        let passed = self.checks.iter().filter(|c| c.ok).count();
        line(
            &mut out,
            format!("| checks held | {passed} of {} | all |", self.checks.len()),
        );
        line(&mut out, String::new());
        line(
            &mut out,
            "| t (s) | fault | health seen | Flowing again | ok |".into(),
        );
        line(&mut out, "|---:|---|---|---|---|".into());
        for e in &self.episodes {
            line(
                &mut out,
                format!(
                    "| {:.1} | {} | {} | {} | {} |",
                    e.at,
                    e.what,
                    e.health,
                    e.recovered,
                    if e.ok { "yes" } else { "**NO**" }
                ),
            );
        }
        line(&mut out, String::new());
        line(&mut out, "| check | held | detail |".into());
        line(&mut out, "|---|---|---|".into());
        let mut grouped: BTreeMap<&str, (usize, usize, Vec<&str>)> = BTreeMap::new();
        for c in &self.checks {
            let entry = grouped.entry(c.name.as_str()).or_default();
            entry.0 += 1;
            if c.ok {
                entry.1 += 1;
            } else {
                entry.2.push(c.detail.as_str());
            }
        }
        for c in &self.checks {
            let Some((total, ok, failures)) = grouped.remove(c.name.as_str()) else {
                continue;
            };
            let detail = if total == 1 {
                c.detail.replace('|', "/")
            } else if failures.is_empty() {
                format!("{total} times")
            } else {
                format!(
                    "failed {} of {total}: {}",
                    total - ok,
                    failures.join("; ").replace('|', "/")
                )
            };
            line(
                &mut out,
                format!(
                    "| {} | {} | {} |",
                    c.name,
                    if ok == total { "yes" } else { "**NO**" },
                    detail
                ),
            );
        }
        out
    }
}

/// An attempt made before the time a connection announced for its next one after a failure
/// with `reason`: the connection read `Flowing` again, or `Delayed` with another next attempt
/// (a new failure), sooner than 100 ms before it. Health lines carry the next attempt relative
/// to when they were printed, so the due time is known to a few milliseconds.
fn attempt_before_due(seen: &[HealthLine], reason: &str) -> Option<String> {
    const SLACK_US: i64 = 100_000;
    let absolute = |h: &HealthLine, c: &ConnHealth| {
        c.next_in_ms
            .map(|ms| i64::try_from(h.at).unwrap_or(i64::MAX) + ms * 1_000)
    };
    for (i, h) in seen.iter().enumerate() {
        for c in h.delayed_for(reason) {
            let Some(due) = absolute(h, c) else { continue };
            for later in &seen[i + 1..] {
                let Some(now) = later.conns.iter().find(|x| x.name == c.name) else {
                    continue;
                };
                let attempted = now.state == "Flowing"
                    || (now.state == "Delayed"
                        && absolute(later, now).is_some_and(|d| (d - due).abs() > 50_000));
                if !attempted {
                    continue;
                }
                let at = i64::try_from(later.at).unwrap_or(i64::MAX);
                if at < due - SLACK_US {
                    return Some(format!(
                        "{} read {} {:.2} s after announcing its next attempt in {:.2} s",
                        c.name,
                        now.state,
                        secs(later.at.saturating_sub(h.at)),
                        c.next_in_ms.unwrap_or(0) as f64 / 1_000.0
                    ));
                }
                break;
            }
        }
    }
    None
}

fn spawn_reader(stdout: ChildStdout, pid: u32, shared: Shared, mut transcript: std::fs::File) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let _ = writeln!(transcript, "{line}");
            record(&shared, pid, &line);
        }
    });
}
