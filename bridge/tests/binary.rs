//! The real binary, configured by a file and the environment, in front of the sandbox: the
//! conformance check passes on it, SIGTERM stops it with exit 0, and its logs (JSON) hold no
//! secret: not the client secret, a POS password, a POS or HubRise token, nor a code.

use std::process::Stdio;
use std::time::Duration;

use passerelle_test_support::bridge_binary;
use serde_json::Value;
use tokio::io::AsyncReadExt;

use crate::support::{self, TestResult, client};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_passes_the_check_stops_on_sigterm_and_logs_no_secret() -> TestResult {
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_passerelle-bridge"));
    let bridge_binary::RunningBinary {
        sandbox,
        mut child,
        url,
        first_line: first,
        dir: _dir,
    } = bridge_binary::start(binary, "log_format = \"json\"\n", Stdio::piped())
        .await
        .map_err(|e| e.to_string())?;
    let seed = sandbox.seed().clone();
    assert!(
        first.starts_with("PASSERELLE_BRIDGE {") && first.contains(&url),
        "{first}"
    );

    let report = passerelle_bridge::check::run(support::target(&url, &sandbox)).await;
    assert!(report.passed(), "{}", report.table());
    // What must never be logged: tokens handed out during the run, a code, the secrets.
    let pos = seed.pos_account().clone();
    let pos_token = support::sign_in(&url, &pos.email, &pos.password).await?;
    let connect_url = sandbox
        .admin()
        .back_office_connect(&seed.client_id, "3r4s3-2", &seed.user().email)
        .await?;
    let code = url::Url::parse(&connect_url)?
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .ok_or("no code")?;
    passerelle_bridge::check::open_connect_url(
        &client(),
        &connect_url,
        &url,
        &pos.email,
        &pos.password,
    )
    .await?;
    let handed: Value = client()
        .get(format!("{url}/hubrise/connections/3r4s3-2/token"))
        .bearer_auth(&pos_token)
        .send()
        .await?
        .json()
        .await?;
    let hubrise_token = handed["access_token"]
        .as_str()
        .ok_or("no token")?
        .to_owned();

    let pid = child.id().ok_or("no pid")?;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGTERM,
    )?;
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait()).await??;
    assert!(status.success(), "SIGTERM: {status}");
    let mut logs = String::new();
    child
        .stderr
        .take()
        .ok_or("no stderr")?
        .read_to_string(&mut logs)
        .await?;
    assert!(
        logs.lines()
            .any(|l| l.starts_with('{') && l.contains("\"request\"")),
        "JSON request lines: {logs}"
    );
    for (what, secret) in [
        ("client secret", seed.client_secret.as_str()),
        ("POS password", pos.password.as_str()),
        ("POS token", pos_token.as_str()),
        ("HubRise token", hubrise_token.as_str()),
        ("code", code.as_str()),
    ] {
        assert!(!logs.contains(secret), "the {what} is in the logs");
    }
    sandbox.stop().await;
    Ok(())
}
