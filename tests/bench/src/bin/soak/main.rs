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
//! Issue 27 adds: a 5-minute outage of the orders route (`GET /location/orders/:id` answers 503
//! while the events list works and orders keep coming: nothing set aside, every order at the
//! till within a poll interval after it), windows of `429 Retry-After: 0` (requests counted: no
//! hot loop), a sibling till's accept racing a failed automatic `received` (HubRise keeps
//! `accepted`), the child's wall clock set forward and back an hour, and the child's secret
//! store 2 s slow for Paris's token (Lyon's orders within poll + 2 s).
//!
//! Rate limits are lifted on both sides (decision 11: a throughput run; ~2,200 orders at five
//! requests each exceed HubRise's hourly limit): the sandbox's, and the child's own windows.
//! Every 429 here is an injected one.
//!
//! The sandbox runs on a current-thread runtime: a fault list change made of several admin calls
//! (clear, then put back the persistent faults) completes without yielding, so no request is
//! served in between (the sandbox has no call to remove one fault).
//!
//! One module a role: `options` (options, clock), `plan` (the random plan), `orders` (the orders
//! placed), `child` (Passerelle at the till, in the child process), `process` (the child as the
//! soak runs and hears it), `faults` (the fault list and one module an episode), `checks` (the
//! assertions at the end) and `report`. This file holds the soak's state and runs the service.

mod checks;
mod child;
mod faults;
mod options;
mod orders;
mod plan;
mod process;
mod report;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use passerelle_bench::fixture::{self, CountingListener};
use passerelle_bench::{BenchError, Result, exit_with, flag};
use passerelle_core::Passerelle;
use passerelle_sandbox::{Admin, RateLimits as SandboxLimits, Sandbox, SandboxOptions};
use passerelle_test_support::file_secrets::FileSecretStore;
use passerelle_test_support::{config_for, config_to_json, seeded};

use checks::Tally;
use faults::Faults;
use faults::transient::TRANSIENT_KINDS;
use options::{Options, cpu_secs, load_average, now_us, secs};
use orders::{PlacedMap, place_orders};
use plan::{Anchor, AnchorKind, Rng, plan};
use process::{ChildProc, Shared};

const COMMAND: &str = "cargo run --release -p passerelle-bench --bin soak";
const LOCATIONS: [&str; 2] = ["3r4s3-1", "3r4s3-2"];
const ORDER_PATH: &str = "/v1/location/orders/";
const EVENTS_PATH: &str = "/v1/callback/events";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if flag(&args, "--help") || flag(&args, "-h") {
        println!(
            "{COMMAND} [-- --minutes 15 --rate 3.4 --poll 1 --kills 4 --poison 3 \
             --poison-patches 3 --cut-secs 60 --outage-secs 300 --rate-zero 2 \
             --rate-zero-secs 15 --siblings 2 --clock-secs 20 --slow-secs 20 --seed 14 --keep]"
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
    /// Orders a sibling till accepted while this one's automatic `received` failed.
    siblings: Vec<String>,
    /// Latencies of the orders placed during an episode, computed at the end.
    probes: Vec<report::Probe>,
    /// Rows of the report's figure table the episodes add (figure, value, goal).
    figures: Vec<(String, String, String)>,
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
        siblings: Vec::new(),
        probes: Vec::new(),
        figures: Vec::new(),
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
}

impl Soak {
    async fn run_anchor(&mut self, anchor: Anchor) -> Result<()> {
        match anchor.kind {
            AnchorKind::Cut { hint } => self.run_cut(hint).await,
            AnchorKind::Kill => self.run_kill().await,
            AnchorKind::Poison => self.run_poison().await,
            AnchorKind::Hold => self.run_hold().await,
            AnchorKind::Outage => self.run_outage().await,
            AnchorKind::RateZero => self.run_rate_zero().await,
            AnchorKind::Sibling => self.run_sibling().await,
            AnchorKind::Clock => self.run_clock().await,
            AnchorKind::SlowStore => self.run_slow_store().await,
        }
    }
}

impl Soak {
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
        self.check_probes(&end);
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
}
