//! Health, readiness, and a configuration the binary refuses with a message naming the value.

use std::process::Command;

use serde_json::Value;

use crate::support::{self, TestResult, client};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_readiness_answer() -> TestResult {
    let dir = tempfile::tempdir()?;
    let stack = support::start(support::sqlite(dir.path()), support::keys()).await?;
    let health = client()
        .get(format!("{}/healthz", stack.pos_url))
        .send()
        .await?;
    assert_eq!(health.status(), 200);
    let ready: Value = client()
        .get(format!("{}/readyz", stack.pos_url))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(ready["ready"], true);
    assert_eq!(
        ready["schema_version"],
        passerelle_bridge::db::latest_version()
    );
    stack.bridge.stop().await?;
    stack.sandbox.stop().await;
    Ok(())
}

fn bridge() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_passerelle-bridge"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    command
}

#[test]
fn a_missing_or_wrong_value_refuses_to_start_and_names_it() -> TestResult {
    let dir = tempfile::tempdir()?;
    let out = bridge().arg("--data-dir").arg(dir.path()).output()?;
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("PASSERELLE_BRIDGE_HUBRISE_CLIENT_ID"),
        "{stderr}"
    );
    let out = bridge().output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("PASSERELLE_BRIDGE_PUBLIC_URL"), "{stderr}");
    let out = bridge()
        .arg("--data-dir")
        .arg(dir.path())
        .env("PASSERELLE_BRIDGE_PUBLIC_URL", "http://127.0.0.1:1")
        .env("PASSERELLE_BRIDGE_HUBRISE_CLIENT_ID", "x")
        .env(
            "PASSERELLE_BRIDGE_HUBRISE_CLIENT_SECRET",
            "top-secret-value",
        )
        .env("PASSERELLE_BRIDGE_LISTEN", "nowhere")
        .output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("PASSERELLE_BRIDGE_LISTEN") && !stderr.contains("top-secret-value"),
        "{stderr}"
    );
    let help = bridge().arg("--help").output()?;
    assert!(
        help.status.success() && String::from_utf8_lossy(&help.stdout).contains("encryption_key")
    );
    Ok(())
}
