//! Helpers of Passerelle's end-to-end tests that only they need: a canned HTTP server for token
//! endpoint oddities, the capture of every log line, a way to run a test alone in its own
//! process, and a watchdog that turns a frozen test into a failure. What the tests share with
//! the walkthrough and the benchmarks (the sandbox world, the event recorder, the configuration,
//! the file-backed secret store of processes that are killed) is in `passerelle-test-support`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod alone;
pub mod canned;
pub mod logs;
pub mod watchdog;

/// What `passerelle-crash-child sync` prints (and flushes) on stdout as its first sync cycle
/// starts: the kill tests wait for it, so a kill lands mid-sync, never before.
pub const CRASH_CHILD_SYNCING: &str = "passerelle-crash-child: first sync cycle started";
