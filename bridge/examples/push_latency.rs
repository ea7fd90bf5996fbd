//! Push latency on this machine (issue 24): an event HubRise POSTs to the bridge's active
//! callback → the same event read on a till's Server-Sent Events stream, over loopback. Events
//! are posted one at a time (signed as HubRise signs them) to one location with `--tills`
//! streams open; each till's latency is measured from just before the POST (so it includes
//! the callback request, the commit, the wake-up and the stream).
//!
//! `cargo run --release -p passerelle-bridge --example push_latency [-- --events 1000 --tills 2
//! --database-url postgres://…]` prints p50/p99/max; BENCHMARKS.md keeps the figures.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/support.rs"]
#[allow(dead_code)]
mod support;

#[path = "../tests/stream.rs"]
#[allow(dead_code, unused_imports)]
mod stream;

use std::time::{Duration, Instant};

use passerelle_bridge::config::DatabaseUrl;
use passerelle_bridge::secret::Secret;
use serde_json::json;

struct Args {
    events: usize,
    tills: usize,
    database_url: Option<String>,
}

fn args() -> Args {
    let mut args = Args {
        events: 1000,
        tills: 2,
        database_url: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().expect("a value after each flag");
        match flag.as_str() {
            "--events" => args.events = value.parse().expect("a number"),
            "--tills" => args.tills = value.parse().expect("a number"),
            "--database-url" => args.database_url = Some(value),
            other => panic!("unknown flag {other}"),
        }
    }
    args
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = args();
    let dir = tempfile::tempdir().unwrap();
    let database = match &args.database_url {
        Some(url) => DatabaseUrl::Postgres(Secret::new(url.clone())),
        None => support::sqlite(dir.path()),
    };
    let stack = support::start_with(support::compressed_callbacks(), database, support::keys())
        .await
        .unwrap();
    let (token, _) = support::connect_off_device(&stack.sandbox, &stack.pos_url, "3r4s3-1")
        .await
        .unwrap();
    let mut tills = Vec::new();
    for i in 0..args.tills {
        let till = stream::SseReader::open(&stack.pos_url, &token, &format!("bench-{i}"), None)
            .await
            .unwrap();
        tills.push(till);
    }
    let secret = stack.sandbox.seed().client_secret.clone();
    let http = support::client();
    let mut latencies = Vec::with_capacity(args.events * args.tills);
    let run = std::process::id();
    for n in 0..args.events {
        let body = json!({"id": format!("bench-{run}-{n}"), "resource_type": "order",
                          "event_type": "create", "location_id": "3r4s3-1", "order_id": format!("o{n}"),
                          "new_state": {"id": format!("o{n}"), "status": "new"}})
        .to_string();
        let signature = support::hubrise_signature(&secret, body.as_bytes());
        let sent = Instant::now();
        let answer = http
            .post(format!("{}/hubrise/callback", stack.pos_url))
            .header("content-type", "application/json")
            .header("X-HubRise-Hmac-SHA256", signature)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        for till in &mut tills {
            let message = till.next(Duration::from_secs(10)).await.unwrap();
            assert_eq!(message.data["event"]["order_id"], format!("o{n}"));
            latencies.push(sent.elapsed());
        }
    }
    latencies.sort();
    println!(
        "{} events x {} tills ({}): callback POST -> on the till's stream p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        args.events,
        args.tills,
        if args.database_url.is_some() {
            "Postgres"
        } else {
            "SQLite"
        },
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3,
    );
    drop(tills);
    stack.bridge.stop().await.unwrap();
    stack.sandbox.stop().await;
}
