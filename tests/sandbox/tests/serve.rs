//! The `serve` binary as Swift tests use it: output line, port file, signal mask, stdin EOF,
//! SIGTERM, and `--state` across a restart.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use passerelle_sandbox::drivers::consent::{self, ConsentChoice};
use serde_json::{Value, json};

use crate::common::{http, json_of};

const BIN: &str = env!("CARGO_BIN_EXE_passerelle-sandbox");
/// Execs a program with SIGTERM and SIGINT blocked (`src/bin/passerelle-sandbox-blocked-exec.rs`).
const BLOCKED_EXEC: &str = env!("CARGO_BIN_EXE_passerelle-sandbox-blocked-exec");
/// SIGINT (2) and SIGTERM (15) in a `/proc/<pid>/status` signal mask.
const SIGINT_AND_SIGTERM: u64 = (1 << (2 - 1)) | (1 << (15 - 1));

/// Starts `serve`, with SIGTERM and SIGINT blocked in the signal mask it inherits when
/// `block_sigterm` (as a Process started from a Swift async test would have).
fn spawn(args: &[&str], block_sigterm: bool) -> Child {
    let mut command = if block_sigterm {
        let mut c = Command::new(BLOCKED_EXEC);
        c.args([BIN, "serve"]);
        c
    } else {
        let mut c = Command::new(BIN);
        c.arg("serve");
        c
    };
    command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Reads stdout until the machine-readable line.
fn description(child: &mut Child) -> Value {
    banner_and_description(child).1
}

/// The banner printed before the machine-readable line, and that line.
fn banner_and_description(child: &mut Child) -> (String, Value) {
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut banner = String::new();
    loop {
        let line = lines.next().expect("serve printed its line").unwrap();
        if let Some(json) = line.strip_prefix("PASSERELLE_SANDBOX ") {
            return (banner, serde_json::from_str(json).unwrap());
        }
        banner.push_str(&line);
        banner.push('\n');
    }
}

fn wait_exit(child: &mut Child, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    false
}

/// The signal mask of a process's main thread (`SigBlk` of `/proc/<pid>/status`).
fn blocked_signals(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let mask = status
        .lines()
        .find_map(|l| l.strip_prefix("SigBlk:"))
        .unwrap()
        .trim();
    u64::from_str_radix(mask, 16).unwrap()
}

/// The program a process runs now (`Name` of `/proc/<pid>/status`).
fn program_name(pid: u32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Name:"))
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// The check below is only worth something if the helper really hands a blocked mask on: a
/// program that does not touch its mask (`sleep`) starts with SIGINT and SIGTERM blocked.
#[test]
fn the_helper_starts_programs_with_sigterm_and_sigint_blocked() {
    let mut sleeper = Command::new(BLOCKED_EXEC)
        .args(["sleep", "30"])
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while program_name(sleeper.id()) != "sleep" {
        assert!(Instant::now() < deadline, "the helper execs the program");
        std::thread::sleep(Duration::from_millis(5));
    }
    let mask = blocked_signals(sleeper.id());
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    assert_eq!(
        mask & SIGINT_AND_SIGTERM,
        SIGINT_AND_SIGTERM,
        "inherited mask {mask:016x}"
    );
}

#[tokio::test]
async fn serve_prints_its_urls_resets_its_signal_mask_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port_file = dir.path().join("sandbox.json");
    // Started with SIGTERM and SIGINT blocked (see the test above).
    let mut child = spawn(
        &[
            "--port-file",
            port_file.to_str().unwrap(),
            "--pos-ttl",
            "42",
        ],
        true,
    );
    let desc = description(&mut child);
    for key in [
        "hubrise_oauth_url",
        "hubrise_api_url",
        "pos_url",
        "admin_url",
        "client_id",
        "client_secret",
    ] {
        assert!(desc[key].is_string(), "{key}");
    }
    assert_eq!(desc["hubrise_user"]["email"], "manager@bellapizza.fr");
    assert_eq!(desc["pos_account"]["email"], "chef@bellapizza.fr");
    let from_file: Value =
        serde_json::from_str(&std::fs::read_to_string(&port_file).unwrap()).unwrap();
    assert_eq!(from_file, desc);

    assert_eq!(
        program_name(child.id()),
        "passerelle-sand",
        "serve itself, not the helper"
    );
    // glibc blocks every signal for an instant while a thread starts (serve starts its stdin
    // reader after printing its line): what is inherited stays, the instant passes.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut mask = blocked_signals(child.id());
    while mask != 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
        mask = blocked_signals(child.id());
    }
    assert_eq!(
        mask, 0,
        "serve resets the signal mask it inherited: {mask:016x}"
    );

    let seed = json_of(http().get(format!("{}/seed", desc["admin_url"].as_str().unwrap()))).await;
    assert_eq!(seed["seed"]["client_id"], desc["client_id"]);
    let pos = desc["pos_account"].clone();
    let tokens = json_of(
        http()
            .post(format!("{}/oauth/token", desc["pos_url"].as_str().unwrap()))
            .form(&[
                ("grant_type", "password"),
                ("client_id", "passerelle-ios"),
                ("username", pos["email"].as_str().unwrap()),
                ("password", pos["password"].as_str().unwrap()),
            ]),
    )
    .await;
    assert_eq!(tokens["expires_in"], 42);

    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    assert!(
        wait_exit(&mut child, Duration::from_secs(10)),
        "serve exits on SIGTERM"
    );
}

#[tokio::test]
async fn serve_exits_when_stdin_closes() {
    let mut child = spawn(&[], false);
    let _ = description(&mut child);
    drop(child.stdin.take());
    assert!(
        wait_exit(&mut child, Duration::from_secs(10)),
        "serve exits at stdin EOF"
    );
}

async fn connect_and_order(desc: &Value) -> (String, String) {
    let authorize = format!(
        "{}/authorize?client_id={}&redirect_uri=urn:ietf:wg:oauth:2.0:oob&scope=location%5Borders.write%5D",
        desc["hubrise_oauth_url"].as_str().unwrap(),
        desc["client_id"].as_str().unwrap()
    );
    let user = &desc["hubrise_user"];
    let choice = ConsentChoice {
        email: user["email"].as_str().unwrap().into(),
        password: user["password"].as_str().unwrap().into(),
        location_id: Some("3r4s3-1".into()),
        ..Default::default()
    };
    let code = consent::approve(&authorize, &choice).await.unwrap();
    let token = json_of(
        http()
            .post(format!(
                "{}/token",
                desc["hubrise_oauth_url"].as_str().unwrap()
            ))
            .basic_auth(
                desc["client_id"].as_str().unwrap(),
                desc["client_secret"].as_str(),
            )
            .form(&[("code", code.as_str())]),
    )
    .await;
    let placed = json_of(
        http()
            .post(format!(
                "{}/locations/3r4s3-1/orders",
                desc["admin_url"].as_str().unwrap()
            ))
            .json(&json!({ "status": "new", "ref": "kept" })),
    )
    .await;
    (
        token["access_token"].as_str().unwrap().to_owned(),
        placed["id"].as_str().unwrap().to_owned(),
    )
}

fn stop(mut child: Child) {
    drop(child.stdin.take());
    assert!(wait_exit(&mut child, Duration::from_secs(10)));
}

#[tokio::test]
async fn state_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let state_arg = state.to_str().unwrap();
    let mut first = spawn(&["--state", state_arg], false);
    let desc = description(&mut first);
    let (token, order_id) = connect_and_order(&desc).await;
    stop(first);
    assert!(Path::new(&state).exists());

    let mut second = spawn(&["--state", state_arg], false);
    let again = description(&mut second);
    assert_eq!(again["client_secret"], desc["client_secret"]);
    let order = http()
        .get(format!(
            "{}/location/orders/{order_id}",
            again["hubrise_api_url"].as_str().unwrap()
        ))
        .header("X-Access-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(order.status(), 200);
    assert_eq!(order.json::<Value>().await.unwrap()["ref"], "kept");
    stop(second);
}

/// `serve --listen 0.0.0.0` (a demo on a real iPad): a warning, a token, and an admin API that
/// wants the token, its own host name and no other site's page; the fake HubRise and POS backend
/// answer the iPad without it.
#[tokio::test]
async fn serve_on_the_network_guards_its_admin_api() {
    let mut child = spawn(&["--listen", "0.0.0.0", "--host", "127.0.0.1"], false);
    let (banner, desc) = banner_and_description(&mut child);
    assert!(
        banner.starts_with("WARNING: listening on 0.0.0.0"),
        "{banner}"
    );
    let token = desc["admin_token"].as_str().expect("a token").to_owned();
    assert!(
        banner.contains(&format!("admin token      {token}")),
        "{banner}"
    );
    assert_eq!(desc["listen"], "0.0.0.0");
    let admin = desc["admin_url"].as_str().unwrap().to_owned();
    assert!(admin.starts_with("http://127.0.0.1:"), "{admin}");
    let port = url::Url::parse(&admin).unwrap().port().unwrap();
    let seed = format!("{admin}/seed");

    let without = http().get(&seed).send().await.unwrap();
    assert_eq!(without.status(), 401);
    let wrong = http()
        .get(&seed)
        .bearer_auth("abcd-efgh-jkmn-pqrs")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let with = http().get(&seed).bearer_auth(&token).send().await.unwrap();
    assert_eq!(with.status(), 200);
    // DNS rebinding: a page of another name resolved to this machine.
    let rebound = http()
        .get(&seed)
        .bearer_auth(&token)
        .header("Host", format!("evil.example:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status(), 421);
    // A page of another site placing an order, even one that learnt the token.
    let order = json!({"service_type": "collection", "items": [
        {"product_name": "Margherita", "price": "10.90 EUR", "quantity": "1"}]});
    let count = || async {
        let orders = json_of(
            http()
                .get(format!("{admin}/locations/3r4s3-1/orders"))
                .bearer_auth(&token),
        )
        .await;
        orders.as_array().map(Vec::len)
    };
    let before = count().await;
    assert!(before.is_some());
    let cross = http()
        .post(format!("{admin}/locations/3r4s3-1/orders"))
        .bearer_auth(&token)
        .header("Origin", "http://192.0.2.7:3000")
        .json(&order)
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);
    assert_eq!(count().await, before, "the refused order was not placed");

    // HubRise's consent page and the POS backend need no admin token.
    let pos = desc["pos_account"].clone();
    let sign_in = http()
        .post(format!("{}/oauth/token", desc["pos_url"].as_str().unwrap()))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "passerelle-ios"),
            ("username", pos["email"].as_str().unwrap()),
            ("password", pos["password"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(sign_in.status(), 200);
    stop(child);
}

/// `--admin-token` on loopback: the same check without leaving this machine.
#[tokio::test]
async fn serve_on_loopback_can_require_a_token() {
    let mut child = spawn(&["--admin-token", "test-token-1234"], false);
    let (banner, desc) = banner_and_description(&mut child);
    assert!(!banner.contains("WARNING"), "{banner}");
    assert_eq!(desc["admin_token"], "test-token-1234");
    let seed = format!("{}/seed", desc["admin_url"].as_str().unwrap());
    assert_eq!(http().get(&seed).send().await.unwrap().status(), 401);
    let with = http()
        .get(&seed)
        .bearer_auth("test-token-1234")
        .send()
        .await
        .unwrap();
    assert_eq!(with.status(), 200);
    stop(child);
}
