//! Turns a freeze into a failure: a test's body runs on a thread of its own, with a runtime of
//! its own, and the test fails within seconds, saying what froze, when the body has not finished
//! in time (a deadlock would otherwise hang the test binary until CI's timeout).

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::time::{Duration, Instant};

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
    let (done, finished) = mpsc::channel();
    let started = Instant::now();
    std::thread::Builder::new()
        .name(format!("watched: {what}"))
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a runtime for the watched body");
            let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| runtime.block_on(body())));
            // Bounded: what the library left running (aborted workers) must not keep the
            // test waiting.
            runtime.shutdown_timeout(Duration::from_secs(1));
            let _ = done.send(outcome);
        })
        .expect("the watched thread starts");
    match finished.recv_timeout(limit) {
        Ok(Ok(())) => {}
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(mpsc::RecvTimeoutError::Timeout) => panic!(
            "froze: {what} did not finish within {limit:?} (failed by the watchdog after \
             {:.1} s): a deadlock, a lock of the library held across a call to the host?",
            started.elapsed().as_secs_f64()
        ),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            panic!("{what}: the watched thread ended without a result")
        }
    }
}
