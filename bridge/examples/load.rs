//! Load on this machine: tills reloading their configuration at once (then again with the ETag,
//! 304s) and connects made through HubRise's back office, against the bridge on SQLite (or on
//! Postgres with `--database-url postgres://…`), the sandbox playing HubRise in-process. Then a
//! mixed minute: another restaurant's connects paced over a minute (100 a minute by default)
//! while every till reloads with its ETag every ten seconds.
//!
//! `cargo run --release -p passerelle-bridge --example load [-- --tills 1000 --connects 100]`
//! prints p50/p99/max per route; BENCHMARKS.md keeps the figures.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/support.rs"]
#[allow(dead_code)]
mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use passerelle_bridge::config::DatabaseUrl;
use passerelle_bridge::secret::Secret;
use reqwest::header::{ETAG, IF_NONE_MATCH};

struct Args {
    tills: usize,
    connects: usize,
    database_url: Option<String>,
}

fn args() -> Args {
    let mut args = Args {
        tills: 1000,
        connects: 100,
        database_url: None,
    };
    let mut rest = std::env::args().skip(1);
    while let Some(arg) = rest.next() {
        let value = rest.next().unwrap_or_default();
        match arg.as_str() {
            "--tills" => args.tills = value.parse().expect("--tills N"),
            "--connects" => args.connects = value.parse().expect("--connects N"),
            "--database-url" => args.database_url = Some(value),
            other => panic!("unknown argument {other}"),
        }
    }
    args
}

/// p50, p99 and max of a set of latencies, in milliseconds.
fn summary(name: &str, mut took: Vec<Duration>, wall: Duration) {
    if took.is_empty() {
        println!("{name:<44} n=0");
        return;
    }
    took.sort();
    let at = |q: f64| {
        took[((took.len() as f64 * q).ceil() as usize)
            .saturating_sub(1)
            .min(took.len() - 1)]
    };
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{name:<44} n={:<5} p50={:>7.1} ms  p99={:>7.1} ms  max={:>7.1} ms  wall={:>7.1} ms",
        took.len(),
        ms(at(0.5)),
        ms(at(0.99)),
        ms(*took.last().unwrap()),
        ms(wall)
    );
}

#[tokio::main]
async fn main() {
    let args = args();
    let dir = tempfile::tempdir().unwrap();
    let database = match &args.database_url {
        Some(url) => DatabaseUrl::Postgres(Secret::new(url.clone())),
        None => support::sqlite(dir.path()),
    };
    let kind = if args.database_url.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    let stack = support::start(database, support::keys()).await.unwrap();
    let seed = stack.sandbox.seed().clone();
    let pos = seed.pos_account().clone();
    println!(
        "passerelle-bridge load, {kind}, {} tills, {} connects",
        args.tills, args.connects
    );

    // One connection to show in every configuration.
    let connect_url = stack
        .sandbox
        .admin()
        .back_office_connect(&seed.client_id, "3r4s3-1", &seed.user().email)
        .await
        .unwrap();
    passerelle_bridge::check::open_connect_url(
        &support::client(),
        &connect_url,
        &stack.pos_url,
        &pos.email,
        &pos.password,
    )
    .await
    .unwrap();

    // The tills sign in (50 at a time, as they would over a morning).
    let started = Instant::now();
    let mut tokens = Vec::with_capacity(args.tills);
    let mut sign_ins = Vec::with_capacity(args.tills);
    for chunk in (0..args.tills).collect::<Vec<_>>().chunks(50) {
        let signed = join_all(chunk.iter().map(|_| async {
            let at = Instant::now();
            let token = support::sign_in(&stack.pos_url, &pos.email, &pos.password).await;
            (at.elapsed(), token.unwrap())
        }))
        .await;
        for (took, token) in signed {
            sign_ins.push(took);
            tokens.push(token);
        }
    }
    summary(
        "POST /oauth/token (password), 50 at a time",
        sign_ins,
        started.elapsed(),
    );
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.tills)
        .build()
        .unwrap();
    let url = format!("{}/hubrise/configuration", stack.pos_url);

    // Every till reloads at once, then again with the ETag: 304s.
    let reload = Reload {
        http: &http,
        url: &url,
        tokens: &tokens,
    };
    let mut etags = vec![String::new(); tokens.len()];
    let started = Instant::now();
    let (first, _) = reload.wave(&mut etags).await;
    summary(
        "GET /hubrise/configuration (200), all at once",
        first,
        started.elapsed(),
    );
    let started = Instant::now();
    let (changed, second) = reload.wave(&mut etags).await;
    assert!(changed.is_empty(), "nothing changed between the two waves");
    summary(
        "GET /hubrise/configuration (304), all at once",
        second,
        started.elapsed(),
    );

    // Connects through HubRise's back office, one after another: the Connect URL, sign-in, the
    // exchange and the callback registration at HubRise.
    let connector = Connector {
        stack: &stack,
        seed: &seed,
        pos: &pos,
    };
    let started = Instant::now();
    let mut connects = Vec::with_capacity(args.connects);
    for i in 0..args.connects {
        connects.push(connector.connect(i).await);
    }
    let wall = started.elapsed();
    summary("connect (Connect URL + sign-in + exchange)", connects, wall);
    println!(
        "connects per minute at that pace: {:.0}",
        args.connects as f64 / wall.as_secs_f64() * 60.0
    );

    // The mixed minute: the connects paced over a minute, made by another restaurant (the
    // seed's second POS account), while every till of the first reloads with its ETag every ten
    // seconds: 304s, their configuration unchanged, as a till's is nearly always.
    let other = Connector {
        pos: &seed.pos_accounts[1],
        ..connector
    };
    let pace = Duration::from_secs(60) / u32::try_from(args.connects.max(1)).unwrap();
    let done = AtomicBool::new(false);
    let connecting = async {
        let mut took = Vec::with_capacity(args.connects);
        for i in 0..args.connects {
            let next = Instant::now() + pace;
            took.push(other.connect(i).await);
            tokio::time::sleep_until(next.into()).await;
        }
        done.store(true, Ordering::SeqCst);
        took
    };
    let reloading = async {
        let (mut fresh, mut unchanged) = (Vec::new(), Vec::new());
        while !done.load(Ordering::SeqCst) {
            let next = Instant::now() + Duration::from_secs(10);
            let (changed, same) = reload.wave(&mut etags).await;
            fresh.extend(changed);
            unchanged.extend(same);
            tokio::time::sleep_until(next.into()).await;
        }
        (fresh, unchanged)
    };
    let started = Instant::now();
    let (connects, (fresh, unchanged)) = tokio::join!(connecting, reloading);
    let wall = started.elapsed();
    println!(
        "mixed minute: {} connects by another account paced {pace:?} apart, every till reloading every 10 s",
        args.connects
    );
    summary(
        "  connect (Connect URL + sign-in + exchange)",
        connects,
        wall,
    );
    summary("  GET /hubrise/configuration (200: changed)", fresh, wall);
    summary("  GET /hubrise/configuration (304)", unchanged, wall);
    stack.bridge.stop().await.unwrap();
    stack.sandbox.stop().await;
}

/// The tills reloading their configuration.
struct Reload<'a> {
    http: &'a reqwest::Client,
    url: &'a str,
    tokens: &'a [String],
}

impl Reload<'_> {
    /// Every till reloads at once, with the ETag it holds (none when empty), and keeps the new
    /// one; the latencies of the 200s and of the 304s.
    async fn wave(&self, etags: &mut [String]) -> (Vec<Duration>, Vec<Duration>) {
        let answers = join_all(self.tokens.iter().zip(etags.iter()).map(|(token, etag)| {
            let mut request = self.http.get(self.url).bearer_auth(token);
            if !etag.is_empty() {
                request = request.header(IF_NONE_MATCH, etag);
            }
            async move {
                let at = Instant::now();
                let answer = request.send().await.unwrap();
                let etag = answer
                    .headers()
                    .get(ETAG)
                    .map(|v| v.to_str().unwrap().to_owned());
                (at.elapsed(), answer.status().as_u16(), etag)
            }
        }))
        .await;
        let (mut fresh, mut unchanged) = (Vec::new(), Vec::new());
        for ((took, status, etag), kept) in answers.into_iter().zip(etags.iter_mut()) {
            match status {
                200 => {
                    fresh.push(took);
                    *kept = etag.expect("a 200 carries an ETag");
                }
                304 => unchanged.push(took),
                other => panic!("configuration answered {other}"),
            }
        }
        (fresh, unchanged)
    }
}

/// Connects one location through HubRise's back office, as the restaurant would.
#[derive(Clone, Copy)]
struct Connector<'a> {
    stack: &'a support::Stack,
    seed: &'a passerelle_sandbox::Seed,
    pos: &'a passerelle_sandbox::SeedPosAccount,
}

impl Connector<'_> {
    /// The `i`th connect (Paris and Lyon in turn); how long it took from the Connect URL on.
    async fn connect(&self, i: usize) -> Duration {
        let location = if i.is_multiple_of(2) {
            "3r4s3-1"
        } else {
            "3r4s3-2"
        };
        let url = self
            .stack
            .sandbox
            .admin()
            .back_office_connect(&self.seed.client_id, location, &self.seed.user().email)
            .await
            .unwrap();
        let at = Instant::now();
        let landing = passerelle_bridge::check::open_connect_url(
            &support::client(),
            &url,
            &self.stack.pos_url,
            &self.pos.email,
            &self.pos.password,
        )
        .await
        .unwrap();
        let took = at.elapsed();
        assert!(landing.contains("connected="), "{landing}");
        took
    }
}
