//! Runs one test alone in a child process of the test binary, for tests that install something
//! process-wide (the one global `tracing` subscriber): every test of the crate shares one binary,
//! and such a test must not meet another that installs its own.

use std::process::Command;

/// Set in the child process to the test it runs.
const ALONE: &str = "PASSERELLE_E2E_ALONE";

/// Call first in a test, with `concat!(module_path!(), "::", "<test fn name>")`. In the child
/// started for that test it returns `true`: run the test's body. Elsewhere it runs the test in a
/// child process (only that test, its output shown on failure), asserts it passed, and returns
/// `false`: return at once.
pub fn in_own_process(test: &str) -> bool {
    // `main::module::test` → `module::test`, the name the test harness knows it by.
    let name = test.split_once("::").map_or(test, |(_, rest)| rest);
    if std::env::var(ALONE).is_ok_and(|alone| alone == name) {
        return true;
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let output = Command::new(exe)
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(ALONE, name)
        .output()
        .expect("the test binary runs again");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report = format!(
        "{stdout}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "{name} failed in its own process:\n{report}"
    );
    assert!(
        stdout.contains("test result: ok. 1 passed"),
        "{name} did not run in its own process:\n{report}"
    );
    false
}
