//! Turns a freeze into a failure: a test's body runs on a thread of its own, with a runtime of
//! its own, and the test fails within seconds, saying what froze, when the body has not finished
//! in time (a deadlock would otherwise hang the test binary until CI's timeout). The thread and
//! the verdict are the core's watchdog (`passerelle_core::testing::watchdog`); this adds the
//! runtime.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

/// How long a re-entrancy scenario may take: each finishes in a second or two on loopback.
pub const FREEZE_LIMIT: Duration = Duration::from_secs(10);

/// Runs `body` (an async scenario) on a new thread with a two-worker runtime and waits up to
/// `limit` for it. A panic in the body fails the test as usual; a body still running after
/// `limit` fails it with "froze". The frozen thread is left behind (a thread cannot be killed):
/// it ends with the test process.
pub fn within<F, Fut>(limit: Duration, what: &str, body: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    passerelle_core::testing::watchdog::within_limit(limit, what, move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime for the watched body");
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| runtime.block_on(body())));
        // Bounded: what the library left running (aborted workers) must not keep the test
        // waiting.
        runtime.shutdown_timeout(Duration::from_secs(1));
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    });
}
