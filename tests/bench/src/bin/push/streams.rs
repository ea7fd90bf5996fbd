//! Part 5: the passerelle-bridge binary (release, next to this benchmark) as a child process, so
//! that its RSS is its own, with `--streams` Server-Sent Events streams open from a lightweight
//! client (one HTTP request per stream, no core behind it), all of the same location: its RSS
//! before and after, and orders placed at the sandbox (active callback, delay 0) → read on every
//! stream, with the bridge's CPU time per event.

use std::collections::HashMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use passerelle_bench::stats::Samples;
use passerelle_bench::{BenchError, Result, ensure};
use passerelle_sandbox::seed::sample_order;
use passerelle_test_support::bridge_binary;
use tokio::sync::mpsc;

use crate::{Options, line};

const LOCATION: &str = "3r4s3-1";

/// `VmRSS` and `VmHWM` of process `pid`, KiB.
fn memory_kib(pid: u32) -> Result<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| BenchError(format!("no {name} for {pid}")))
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}

/// User + system CPU time of process `pid` (`/proc/PID/stat`, clock ticks of 10 ms).
fn cpu_time(pid: u32) -> Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after_name = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are the 14th and 15th fields: 12th and 13th after the name.
    Ok(Duration::from_millis((ticks(11) + ticks(12)) * 10))
}

fn mib(kib: u64) -> String {
    passerelle_bench::rss::mib(kib)
}

/// What one stream saw: opened (its `ready`), or an order id on an event.
enum Seen {
    Ready,
    Order(String, Instant),
}

/// Holds one stream open, reporting what it reads.
async fn hold(
    http: reqwest::Client,
    url: String,
    token: String,
    seen: mpsc::UnboundedSender<Seen>,
) {
    let Ok(mut response) = http
        .get(url)
        .header("accept", "text/event-stream")
        .bearer_auth(token)
        .send()
        .await
    else {
        return;
    };
    if !response.status().is_success() {
        return;
    }
    let mut buffer = String::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let at = Instant::now();
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            if frame.contains("event: ready") || frame.contains("event:ready") {
                let _ = seen.send(Seen::Ready);
            } else if let Some(rest) = frame.split("\"order_id\":\"").nth(1)
                && let Some(id) = rest.split('"').next()
            {
                let _ = seen.send(Seen::Order(id.to_owned(), at));
            }
        }
    }
}

pub async fn run(options: &Options) -> Result<()> {
    let binary = std::env::current_exe()?
        .parent()
        .map(|dir| dir.join("passerelle-bridge"))
        .ok_or_else(|| BenchError("no directory for the bridge binary".into()))?;
    ensure(binary.exists(), || {
        format!(
            "{} is missing: cargo build --release -p passerelle-bridge",
            binary.display()
        )
    })?;
    let bridge_binary::RunningBinary {
        sandbox,
        mut child,
        url,
        first_line,
        dir: _dir,
    } = bridge_binary::start(&binary, "active_callback = true\n", Stdio::null())
        .await
        .map_err(|e| BenchError(format!("the bridge binary: {e}")))?;
    ensure(first_line.starts_with("PASSERELLE_BRIDGE"), || {
        format!("the bridge's first line: {first_line}")
    })?;
    let seed = sandbox.seed().clone();
    let pid = child.id().ok_or_else(|| BenchError("no pid".into()))?;

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let pos = seed.pos_account().clone();
    let connect_url = sandbox
        .admin()
        .back_office_connect(&seed.client_id, LOCATION, &seed.user().email)
        .await?;
    passerelle_bridge::check::open_connect_url(
        &http,
        &connect_url,
        &url,
        &pos.email,
        &pos.password,
    )
    .await
    .map_err(|e| BenchError(format!("connect: {e:?}")))?;
    let token = bridge_binary::pos_token(&http, &url, &pos.email, &pos.password)
        .await
        .map_err(|e| BenchError(format!("POS token: {e}")))?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (idle_rss, _) = memory_kib(pid)?;

    let streams = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()?;
    let (sender, mut seen) = mpsc::unbounded_channel();
    let opening = Instant::now();
    for i in 0..options.streams {
        tokio::spawn(hold(
            streams.clone(),
            format!("{url}/hubrise/events?device_id=bench-stream-{i}"),
            token.clone(),
            sender.clone(),
        ));
    }
    drop(sender);
    let mut ready = 0;
    while ready < options.streams {
        match tokio::time::timeout(Duration::from_secs(60), seen.recv()).await {
            Ok(Some(Seen::Ready)) => ready += 1,
            Ok(Some(Seen::Order(..))) => {}
            _ => break,
        }
    }
    let opened_in = opening.elapsed();
    ensure(ready == options.streams, || {
        format!("{ready} of {} streams opened", options.streams)
    })?;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (open_rss, _) = memory_kib(pid)?;
    // Idle with the streams open: keep-alives and each stream's safety look at the database.
    let idle_for = Duration::from_secs(30);
    let cpu_idle = cpu_time(pid)?;
    tokio::time::sleep(idle_for).await;
    let cpu_idle = cpu_time(pid)? - cpu_idle;
    let log = sandbox.admin().requests().await;
    let checks = log
        .iter()
        .filter(|r| r.method == "GET" && r.path == "/v1/callback")
        .count();
    let refused = log.iter().filter(|r| r.status == 429).count();

    let admin = sandbox.admin();
    let mut each = Samples::new();
    let mut all = Samples::new();
    let cpu_before = cpu_time(pid)?;
    for n in 0..options.fanout_events {
        let at = Instant::now();
        let id = admin
            .place_order(LOCATION, sample_order(&format!("Fan-out {n}")))
            .await?;
        let mut got = 0;
        let mut last = at;
        let mut early: HashMap<String, usize> = HashMap::new();
        while got < options.streams {
            match tokio::time::timeout(Duration::from_secs(30), seen.recv()).await {
                Ok(Some(Seen::Order(order, when))) if order == id => {
                    got += 1;
                    last = last.max(when);
                    each.push(when - at);
                }
                Ok(Some(Seen::Order(order, _))) => *early.entry(order).or_default() += 1,
                Ok(Some(Seen::Ready)) => {}
                _ => break,
            }
        }
        ensure(got == options.streams, || {
            format!("order {n}: on {got} of {} streams", options.streams)
        })?;
        all.push(last - at);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let cpu = cpu_time(pid)? - cpu_before;
    let (after_rss, peak) = memory_kib(pid)?;
    let per_thousand = |kib: u64| kib as f64 * 1000.0 / options.streams as f64 / 1024.0;
    println!(
        "5. passerelle-bridge (child process, SQLite) with {} SSE streams of one location:\n   \
         RSS idle (location connected, no stream) {} MiB; {} streams open {} MiB (+{:.1} MiB per 1,000 streams); \
         after {} events {} MiB, peak {} MiB; opened in {}",
        options.streams,
        mib(idle_rss),
        options.streams,
        mib(open_rss),
        per_thousand(open_rss.saturating_sub(idle_rss)),
        options.fanout_events,
        mib(after_rss),
        mib(peak),
        crate::secs(opened_in),
    );
    println!(
        "   order placed -> read on each stream: {}\n   order placed -> read on all {} streams: {}\n   \
         bridge CPU {} ms per event fanned out to {} streams ({:.1} µs per stream)",
        line(&each),
        options.streams,
        line(&all),
        cpu.as_millis() / options.fanout_events.max(1) as u128,
        options.streams,
        cpu.as_secs_f64() * 1e6 / (options.fanout_events * options.streams).max(1) as f64,
    );
    println!(
        "   idle {} s with the streams open: bridge CPU {} ms ({:.1} % of one core); \
         HubRise GET /v1/callback while opening: {checks} ({refused} answered 429)",
        idle_for.as_secs(),
        cpu_idle.as_millis(),
        cpu_idle.as_secs_f64() * 100.0 / idle_for.as_secs_f64(),
    );
    let _ = child.start_kill();
    let _ = child.wait().await;
    sandbox.stop().await;
    Ok(())
}
