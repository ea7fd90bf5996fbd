//! The walkthrough as a newcomer runs it: twice on the same data directory (two real processes),
//! the second showing the state the first left (the sandbox starts afresh each time, so the
//! second run reconnects what it restored and makes the off-device connect again). And a failing
//! step names itself and exits 1.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

fn demo(data_dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_passerelle-demo"))
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .expect("the demo binary runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn assert_contains(output: &str, wanted: &[&str]) {
    for line in wanted {
        assert!(output.contains(line), "missing {line:?} in:\n{output}");
    }
}

#[test]
fn two_runs_on_the_same_data_dir_restore_the_state() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("ipad");

    let first = demo(&data_dir);
    let out = text(&first);
    assert!(first.status.success(), "first run failed:\n{out}");
    assert_contains(
        &out,
        &[
            "new database created",
            "Bella Pizza (chef@bellapizza.fr)",
            "Paris pending, restart required",
            "Location       Paris (3r4s3-1)",
            "Catalog        Bella Pizza (psmlf)",
            "Customer list  Bella Pizza (xab66)",
            "HubRise: received",
            "HubRise shows accepted",
            "Lyon (3r4s3-2) active; 2 locations connected",
            "reconnect needed (from",
            "removing, restart required",
            "Lyon active; Paris removed; 1 order(s) kept",
            "Paris recorded by the POS backend; not on the iPad yet",
            "Made in        the POS vendor's web back office",
            "Paris pending, needs confirmation (POS back office)",
            "Paris active, sync running",
            "Paris (3r4s3-1) of Bella Pizza: active",
            "Summary",
            "arrived in",
            "through the bridge",
            "All 23 steps held.",
        ],
    );
    assert!(!out.contains('✗'), "a step failed:\n{out}");
    assert!(data_dir.join(passerelle_core_db()).exists());

    let second = demo(&data_dir);
    let out = text(&second);
    assert!(second.status.success(), "second run failed:\n{out}");
    assert_contains(
        &out,
        &[
            "existing database opened",
            "State restored from the previous run",
            "Account: Bella Pizza (pos-1001)",
            "Lyon (3r4s3-2) of Bella Pizza: active",
            "Paris (3r4s3-1) of Bella Pizza: active",
            "Orders kept: 3",
            "Bella Pizza, 2 connection(s), 3 order(s) restored",
            "Paris reconnected (was restored)",
            "Lyon was already in the list (restored from the previous run)",
            "HubRise shows accepted",
            "Lyon active; Paris removed; 4 order(s) kept",
            "Paris pending, needs confirmation (POS back office)",
            "Paris active, sync running",
            "All 24 steps held.",
        ],
    );
}

#[test]
fn a_failing_step_is_named_and_exits_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_dir = dir.path().join("a-file");
    std::fs::write(&not_a_dir, b"not a directory").unwrap();

    let run = demo(&not_a_dir);
    let out = text(&run);
    assert_eq!(run.status.code(), Some(1), "{out}");
    assert_contains(
        &out,
        &[
            "The walkthrough stopped at step 2 \u{201c}Open Passerelle",
            "step 2 \u{201c}Open Passerelle (the app starts on the iPad)\u{201d} failed",
            "Summary",
        ],
    );
}

#[test]
fn usage_errors_exit_2() {
    let run = Command::new(env!("CARGO_BIN_EXE_passerelle-demo"))
        .arg("--no-such-flag")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("Usage: passerelle-demo"));
}

/// The database's file name, as the core names it.
fn passerelle_core_db() -> &'static str {
    "passerelle.sqlite3"
}
