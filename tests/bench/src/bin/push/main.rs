//! Issue 24's figures (BENCHMARKS.md, "Push: orders at the till through the bridge"): orders
//! reach the tills through HubRise's active callback, the bridge and its Server-Sent Events
//! stream instead of the 30 s poll. Not a test: minutes of real time, run by hand.
//!
//! Production settings: the tills poll every 30 s, HubRise's documented limits on both sides
//! (`RateLimits::hubrise()` in the core, the sandbox's default), the sandbox's delivery delay 0
//! (so nothing is subtracted: the figures are the bridge's and the tills' share).
//!
//! 1. 3 locations, 2 tills each: 6 real `Passerelle` instances, each with its own data dir,
//!    in this process (one clock for "placed" and "received", no IPC in the measurement; they
//!    share this process's runtime and the 2 cores with the sandbox and the bridge, so the
//!    figure is pessimistic). Orders are placed round-robin at `--rate` a second: placed →
//!    `OrderReceived` at each till of the location.
//! 2. One till of a location accepts an order both have: accept called → `OrderUpdated`
//!    (accepted) at the other till.
//! 3. The bridge stops for `--outage-secs`: orders placed meanwhile come by polling HubRise;
//!    then it starts again on the same port and database. Every order of the run is counted
//!    per till: received exactly once.
//! 4. Two more stacks sit idle meanwhile, one bridge with the active callback (the stream names
//!    the locations) and one without (the stream names none: tills poll as today): HubRise's
//!    request log per location over `--idle-secs`, extrapolated to a day.
//! 5. `streams.rs`: the passerelle-bridge binary as a child process with `--streams` SSE
//!    streams open: its RSS, and an event's fan-out to all of them.

mod streams;

use std::collections::{BTreeMap, HashMap};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use passerelle_bench::sandbox::SandboxInfo;
use passerelle_bench::stats::Samples;
use passerelle_bench::{BenchError, Result, arg, ensure, exit_with, flag};
use passerelle_bridge::Running;
use passerelle_bridge::config::DatabaseUrl;
use passerelle_bridge::crypto::{Key, Keyring};
use passerelle_core::{
    EventListener, InMemorySecretStore, OrderStatus, Passerelle, PasserelleEvent,
};
use passerelle_sandbox::seed::sample_order;
use passerelle_sandbox::{Sandbox, SandboxOptions, ServerKind};
use passerelle_test_support::bridge::bridge_config;
use passerelle_test_support::{config_for, health_shows, seeded, wait_until};

const COMMAND: &str = "cargo run --release -p passerelle-bench --bin push";
/// HubRise's documented poll interval.
const POLL_SECS: u32 = 30;
/// The locations and who connects them: (location, POS account, HubRise user).
const LOCATIONS: [(&str, usize, usize); 3] =
    [("3r4s3-1", 0, 0), ("3r4s3-2", 0, 0), ("7hq2c-1", 1, 1)];
const TILLS_PER_LOCATION: usize = 2;

pub struct Options {
    orders: usize,
    rate: f64,
    accepts: usize,
    outage: Duration,
    outage_orders: usize,
    idle: Duration,
    streams: usize,
    fanout_events: usize,
    /// Part 5 alone.
    streams_only: bool,
}

fn options(args: &[String]) -> Result<Options> {
    let quick = flag(args, "--quick");
    Ok(Options {
        orders: arg(args, "--orders")?.unwrap_or(if quick { 60 } else { 1000 }),
        rate: arg(args, "--rate")?.unwrap_or(3.0),
        accepts: arg(args, "--accepts")?.unwrap_or(if quick { 15 } else { 300 }),
        outage: Duration::from_secs(arg(args, "--outage-secs")?.unwrap_or(if quick {
            40
        } else {
            120
        })),
        outage_orders: arg(args, "--outage-orders")?.unwrap_or(if quick { 6 } else { 24 }),
        idle: Duration::from_secs(arg(args, "--idle-secs")?.unwrap_or(if quick {
            60
        } else {
            900
        })),
        streams: arg(args, "--streams")?.unwrap_or(if quick { 50 } else { 1000 }),
        fanout_events: arg(args, "--fanout-events")?.unwrap_or(if quick { 5 } else { 50 }),
        streams_only: flag(args, "--streams-only"),
    })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if flag(&args, "--help") {
        println!(
            "{COMMAND} [-- --quick | --orders 1000 --rate 3 --accepts 300 --outage-secs 120 \
             --outage-orders 24 --idle-secs 900 --streams 1000 --fanout-events 50 [--streams-only]]"
        );
        return ExitCode::SUCCESS;
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let options = match options(&args) {
        Ok(options) => options,
        Err(err) => {
            eprintln!("push: {err}");
            return ExitCode::from(2);
        }
    };
    exit_with(passerelle_bench::runtime().and_then(|rt| rt.block_on(run(options))))
}

/// Every event a till announced, with when.
#[derive(Default)]
struct Timed(Mutex<Vec<(Instant, PasserelleEvent)>>);

impl EventListener for Timed {
    fn on_event(&self, event: PasserelleEvent) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((Instant::now(), event));
    }
}

impl Timed {
    /// When each matching event came, by order id (every one, in order).
    fn by_order(
        &self,
        matches: impl Fn(&PasserelleEvent) -> Option<&str>,
    ) -> HashMap<String, Vec<Instant>> {
        let mut found: HashMap<String, Vec<Instant>> = HashMap::new();
        for (at, event) in self.0.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            if let Some(id) = matches(event) {
                found.entry(id.to_owned()).or_default().push(*at);
            }
        }
        found
    }

    fn received(&self) -> HashMap<String, Vec<Instant>> {
        self.by_order(|e| match e {
            PasserelleEvent::OrderReceived { order } => Some(&order.id),
            _ => None,
        })
    }

    fn accepted(&self) -> HashMap<String, Vec<Instant>> {
        self.by_order(|e| match e {
            PasserelleEvent::OrderUpdated { order } if order.status == OrderStatus::Accepted => {
                Some(&order.id)
            }
            _ => None,
        })
    }
}

struct Till {
    app: Passerelle,
    events: Arc<Timed>,
    _dir: tempfile::TempDir,
}

/// A sandbox (HubRise's documented limits, delivery delay 0) and a bridge on SQLite in front of
/// it, with or without the active callback, and the 6 tills.
struct Stack {
    sandbox: Sandbox,
    info: SandboxInfo,
    bridge: Option<Running>,
    addr: std::net::SocketAddr,
    keys: Keyring,
    active: bool,
    tills: Vec<(usize, Till)>,
    dir: tempfile::TempDir,
}

impl Stack {
    async fn start(active: bool) -> Result<Stack> {
        let dir = tempfile::tempdir()?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let pos_url = format!("http://{addr}");
        let sandbox = Sandbox::start(SandboxOptions {
            pos_backend_url: Some(pos_url.clone()),
            ..SandboxOptions::default()
        })
        .await?;
        let info = SandboxInfo {
            hubrise_oauth_url: sandbox.hubrise_oauth_url(),
            hubrise_api_url: sandbox.hubrise_api_url(),
            pos_url,
            admin_url: sandbox.admin_url(),
            seed: sandbox.seed().clone(),
        };
        let mut stack = Stack {
            sandbox,
            info,
            bridge: None,
            addr,
            keys: Keyring::new(Key::generate(), vec![]),
            active,
            tills: Vec::new(),
            dir,
        };
        stack.start_bridge_on(listener).await?;
        for (location, (id, pos, user)) in LOCATIONS.iter().enumerate() {
            for _ in 0..TILLS_PER_LOCATION {
                let till = stack.till(id, *pos, *user).await?;
                stack.tills.push((location, till));
            }
        }
        for (_, till) in &stack.tills {
            ensure(
                health_shows(&till.app, None, Duration::from_secs(20)).await,
                || "a till never showed its orders flowing".into(),
            )?;
        }
        Ok(stack)
    }

    /// Starts the bridge on `listener`, on the stack's database and keys.
    async fn start_bridge_on(&mut self, listener: tokio::net::TcpListener) -> Result<()> {
        let database = DatabaseUrl::Sqlite(self.dir.path().join("bridge.sqlite3"));
        let mut config = bridge_config(
            &self.sandbox,
            &self.info.pos_url,
            database,
            self.keys.clone(),
        );
        config.active_callback = self.active;
        let running = passerelle_bridge::start_on(listener, config)
            .await
            .map_err(|e| BenchError(format!("bridge: {e}")))?;
        self.bridge = Some(running);
        Ok(())
    }

    /// Starts the bridge again at its address after [`Stack::stop_bridge`].
    async fn start_bridge(&mut self) -> Result<()> {
        let listener = tokio::net::TcpListener::bind(self.addr).await?;
        self.start_bridge_on(listener).await
    }

    async fn stop_bridge(&mut self) -> Result<()> {
        if let Some(running) = self.bridge.take() {
            running.stop().await?;
        }
        Ok(())
    }

    async fn till(&self, location: &str, pos: usize, user: usize) -> Result<Till> {
        let dir = tempfile::tempdir()?;
        let mut config = config_for(&self.info, dir.path());
        config.initial_settings.poll_interval_secs = POLL_SECS;
        let events = Arc::new(Timed::default());
        let app =
            Passerelle::open(config, Arc::new(InMemorySecretStore::new()), events.clone()).await?;
        seeded::sign_in(&app, &self.info.seed, pos).await?;
        seeded::connect(&app, &seeded::choice(&self.info.seed, user, location)?).await?;
        app.restart().await?;
        Ok(Till {
            app,
            events,
            _dir: dir,
        })
    }

    /// HubRise API requests logged per location, by route.
    async fn requests(&self) -> BTreeMap<String, BTreeMap<String, usize>> {
        let mut by_location: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
        for r in self.sandbox.admin().requests().await {
            if r.server != ServerKind::Api {
                continue;
            }
            let location = r
                .connection
                .as_ref()
                .and_then(|c| c.location_id.clone())
                .unwrap_or_else(|| "(none)".into());
            *by_location
                .entry(location)
                .or_default()
                .entry(route(&r.method, &r.path, r.status))
                .or_default() += 1;
        }
        by_location
    }

    async fn close(mut self) -> Result<()> {
        for (_, till) in std::mem::take(&mut self.tills) {
            till.app.close().await?;
        }
        self.stop_bridge().await?;
        self.sandbox.stop().await;
        Ok(())
    }
}

/// A route of HubRise's API, as the idle figures count them.
fn route(method: &str, path: &str, status: u16) -> String {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let name = match (method, segments.as_slice()) {
        ("GET", ["v1", "callback", "events"]) => "events polls",
        ("DELETE", ["v1", "callback", "events", _]) => "event DELETEs",
        ("GET", ["v1", "callback"]) => "callback reads",
        ("GET", ["v1", "location", "orders", _]) => "order reads",
        ("GET", ["v1", "location", "orders"]) => "read-back",
        ("PATCH", ["v1", "location", "orders", _]) => "PATCHes",
        _ => "other",
    };
    if status == 429 {
        format!("{name} (429)")
    } else {
        name.to_owned()
    }
}

fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

fn line(s: &Samples) -> String {
    format!(
        "n={} p50 {} p99 {} max {}",
        s.len(),
        secs(s.percentile(50.0)),
        secs(s.percentile(99.0)),
        secs(s.max())
    )
}

async fn run(options: Options) -> Result<()> {
    println!("push (issue 24): {}", passerelle_bench::machine());
    println!("load average at start: {}", load_average());
    if options.streams_only {
        streams::run(&options).await?;
        println!("load average at the end: {}", load_average());
        return Ok(());
    }
    // Part 4 runs beside parts 1–3: two more stacks, idle.
    let idle = tokio::spawn(idle_day(options.idle));
    let mut stack = Stack::start(true).await?;
    let mut placed: HashMap<String, (usize, Instant)> = HashMap::new();

    // 1. Orders through the stream.
    let started = Instant::now();
    let every = Duration::from_secs_f64(1.0 / options.rate);
    for n in 0..options.orders {
        let due = started + every * n as u32;
        tokio::time::sleep_until(due.into()).await;
        let (id, placed_at) = place(&stack, "Push", n).await?;
        placed.insert(id, placed_at);
    }
    let all_in = |stack: &Stack, placed: &HashMap<String, (usize, Instant)>| {
        stack.tills.iter().all(|(location, till)| {
            let received = till.events.received();
            placed
                .iter()
                .filter(|(_, (l, _))| l == location)
                .all(|(id, _)| received.contains_key(id))
        })
    };
    ensure(
        wait_until(Duration::from_secs(60), || async {
            all_in(&stack, &placed)
        })
        .await,
        || "orders never reached every till".into(),
    )?;
    let mut through_stream = Samples::new();
    for (location, till) in &stack.tills {
        let received = till.events.received();
        for (id, (l, at)) in &placed {
            if l == location {
                through_stream.push(received[id][0] - *at);
            }
        }
    }
    println!(
        "1. {} orders at {}/s over {} locations x {} tills, placed -> OrderReceived at each till: {}",
        options.orders,
        options.rate,
        LOCATIONS.len(),
        TILLS_PER_LOCATION,
        line(&through_stream)
    );
    println!("   requests so far: {:?}", stack.requests().await);

    // 2. A sibling's accept.
    let mut sibling = Samples::new();
    let mut accepted = 0;
    let mut ids: Vec<(&String, &usize)> = placed.iter().map(|(id, (l, _))| (id, l)).collect();
    ids.sort();
    for (id, location) in ids.into_iter().take(options.accepts) {
        let mut of_location = stack
            .tills
            .iter()
            .filter(|(l, _)| l == location)
            .map(|(_, t)| t);
        let (Some(first), Some(second)) = (of_location.next(), of_location.next()) else {
            continue;
        };
        let at = Instant::now();
        first.app.accept(id, None).await?;
        ensure(
            wait_until(Duration::from_secs(POLL_SECS.into()), || async {
                second.events.accepted().contains_key(id)
            })
            .await,
            || format!("the accept of {id} never reached the sibling"),
        )?;
        sibling.push(second.events.accepted()[id][0] - at);
        accepted += 1;
    }
    println!(
        "2. {accepted} accepts, accept called at one till -> OrderUpdated (accepted) at its sibling: {}",
        line(&sibling)
    );

    // 3. The bridge down, then up.
    stack.stop_bridge().await?;
    let down = Instant::now();
    let mut during: HashMap<String, (usize, Instant)> = HashMap::new();
    let spacing = options.outage / (options.outage_orders as u32 + 1);
    for n in 0..options.outage_orders {
        tokio::time::sleep_until((down + spacing * (n as u32 + 1)).into()).await;
        let (id, placed_at) = place(&stack, "Outage", n).await?;
        during.insert(id, placed_at);
    }
    tokio::time::sleep_until((down + options.outage).into()).await;
    stack.start_bridge().await?;
    let up = Instant::now();
    let mut reconnected = Duration::ZERO;
    for (_, till) in &stack.tills {
        ensure(
            health_shows(&till.app, None, Duration::from_secs(120)).await,
            || "a till never showed its orders flowing after the restart".into(),
        )?;
        reconnected = reconnected.max(up.elapsed());
    }
    let mut after: HashMap<String, (usize, Instant)> = HashMap::new();
    for n in 0..LOCATIONS.len() * 2 {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let (id, placed_at) = place(&stack, "After", n).await?;
        after.insert(id, placed_at);
    }
    let mut everything = placed.clone();
    everything.extend(during.clone());
    everything.extend(after.clone());
    let arrived = wait_until(Duration::from_secs(2 * u64::from(POLL_SECS)), || async {
        all_in(&stack, &everything)
    })
    .await;
    // HubRise retries the callbacks the bridge missed (1, 2, 4 … minutes after): wait for the
    // retries due within the outage's span, then count.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let mut by_polling = Samples::new();
    let mut after_up = Samples::new();
    let (mut lost, mut duplicated) = (0, 0);
    for (location, till) in &stack.tills {
        let received = till.events.received();
        for (id, (l, at)) in &everything {
            if l != location {
                continue;
            }
            match received.get(id).map(Vec::as_slice) {
                None | Some([]) => lost += 1,
                Some([first, rest @ ..]) => {
                    duplicated += rest.len();
                    if during.contains_key(id) {
                        by_polling.push(*first - *at);
                    } else if after.contains_key(id) {
                        after_up.push(*first - *at);
                    }
                }
            }
        }
        duplicated += received
            .keys()
            .filter(|id| !everything.contains_key(*id))
            .count();
    }
    println!(
        "3. bridge down {} s then up: {} orders in all, {} (till, order) pairs; lost {lost}, duplicated {duplicated}; all in: {arrived}",
        options.outage.as_secs(),
        everything.len(),
        through_stream.len() + by_polling.len() + after_up.len()
    );
    println!(
        "   placed during the outage -> OrderReceived (by polling): {}",
        line(&by_polling)
    );
    println!(
        "   placed after the restart -> OrderReceived: {}",
        line(&after_up)
    );
    println!(
        "   bridge back after {}; every till flowing again {} after the restart",
        secs(up - down),
        secs(reconnected)
    );
    println!("   requests in all: {:?}", stack.requests().await);
    stack.close().await?;

    // 4. Idle.
    let idle = idle.await.map_err(|e| BenchError(format!("idle: {e}")))??;
    println!("{idle}");

    // 5. The bridge binary with streams open.
    streams::run(&options).await?;
    println!("load average at the end: {}", load_average());
    ensure(lost == 0 && duplicated == 0 && arrived, || {
        format!("lost {lost}, duplicated {duplicated}, all in {arrived}")
    })
}

/// Places order #`n` at location `n % 3`: its id, with its location and when it was placed.
async fn place(stack: &Stack, label: &str, n: usize) -> Result<(String, (usize, Instant))> {
    let location = n % LOCATIONS.len();
    let at = Instant::now();
    let id = stack
        .sandbox
        .admin()
        .place_order(LOCATIONS[location].0, sample_order(&format!("{label} {n}")))
        .await?;
    Ok((id, (location, at)))
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Part 4: two stacks idle for `stretch`, one streamed, one not; HubRise requests per location,
/// extrapolated to a day.
async fn idle_day(stretch: Duration) -> Result<String> {
    let streamed = Stack::start(true).await?;
    let polled = Stack::start(false).await?;
    // Let the first cycles and the streams' ready settle.
    tokio::time::sleep(Duration::from_secs(POLL_SECS.into()) + Duration::from_secs(5)).await;
    let before = (streamed.requests().await, polled.requests().await);
    tokio::time::sleep(stretch).await;
    let after = (streamed.requests().await, polled.requests().await);
    let per_day = |before: &BTreeMap<String, BTreeMap<String, usize>>,
                   after: &BTreeMap<String, BTreeMap<String, usize>>| {
        let mut routes: BTreeMap<String, usize> = BTreeMap::new();
        for (location, by_route) in after {
            if !LOCATIONS.iter().any(|(l, _, _)| l == location) {
                continue;
            }
            for (route, n) in by_route {
                let was = before
                    .get(location)
                    .and_then(|b| b.get(route))
                    .copied()
                    .unwrap_or(0);
                *routes.entry(route.clone()).or_default() += n - was;
            }
        }
        let total: usize = routes.values().sum();
        let day = total as f64 / LOCATIONS.len() as f64 * 86_400.0 / stretch.as_secs_f64();
        (routes, total, day)
    };
    let (s_routes, s_total, s_day) = per_day(&before.0, &after.0);
    let (p_routes, p_total, p_day) = per_day(&before.1, &after.1);
    streamed.close().await?;
    polled.close().await?;
    Ok(format!(
        "4. idle {} s, {} locations x {} tills:\n   stream up (active callback): {s_total} requests {s_routes:?} -> {s_day:.0} per location per day\n   \
         stream off (no active callback, poll every {POLL_SECS} s): {p_total} requests {p_routes:?} -> {p_day:.0} per location per day\n   \
         ratio {:.1}x fewer",
        stretch.as_secs(),
        LOCATIONS.len(),
        TILLS_PER_LOCATION,
        p_day / s_day.max(f64::MIN_POSITIVE)
    ))
}
