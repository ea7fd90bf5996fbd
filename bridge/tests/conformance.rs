//! The conformance check passes on the sandbox's fake POS backend and on the bridge: the same
//! contract, two implementations.

use passerelle_bridge::check;
use passerelle_sandbox::{Sandbox, SandboxOptions};

use crate::support::{self, TestResult};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_check_passes_on_the_sandbox_fake() -> TestResult {
    let sandbox = Sandbox::start(SandboxOptions::default()).await?;
    let report = check::run(support::target(&sandbox.pos_url(), &sandbox)).await;
    println!("{}", report.table());
    assert!(report.passed(), "{}", report.table());
    assert!(report.rows.len() >= 10);
    sandbox.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_check_passes_on_the_bridge_with_sqlite() -> TestResult {
    let dir = tempfile::tempdir()?;
    let stack = support::start(support::sqlite(dir.path()), support::keys()).await?;
    let report = check::run(support::target(&stack.pos_url, &stack.sandbox)).await;
    println!("{}", report.table());
    assert!(report.passed(), "{}", report.table());
    stack.bridge.stop().await?;
    stack.sandbox.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_check_fails_on_a_backend_that_is_not_one() -> TestResult {
    // The sandbox's admin API is no POS backend: every step fails, and the report says so.
    let sandbox = Sandbox::start(SandboxOptions::default()).await?;
    let report = check::run(support::target(&sandbox.admin_url(), &sandbox)).await;
    assert!(!report.passed());
    assert!(report.table().contains("FAIL"));
    sandbox.stop().await;
    Ok(())
}
