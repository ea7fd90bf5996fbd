//! Turns a freeze into a failure: a scenario runs on a thread of its own, and the test fails,
//! saying what froze, when it has not finished within the time allowed (a deadlock would
//! otherwise hang the test binary until CI's timeout). The core's unit tests use [`within`];
//! the end-to-end tests wrap [`within_limit`] with a runtime of their own.
#![allow(clippy::panic)]

use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a unit scenario may take: each takes milliseconds.
pub const FREEZE_LIMIT: Duration = Duration::from_secs(5);

/// [`within_limit`] with [`FREEZE_LIMIT`].
pub fn within<T: Send + 'static>(what: &str, body: impl FnOnce() -> T + Send + 'static) -> T {
    within_limit(FREEZE_LIMIT, what, body)
}

/// Runs `body` on a new thread and waits up to `limit` for it; its panic fails the test as
/// usual, and so does a freeze. A frozen thread is left behind (a thread cannot be killed): it
/// ends with the test process.
pub fn within_limit<T: Send + 'static>(
    limit: Duration,
    what: &str,
    body: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (done, finished) = mpsc::channel();
    let started = Instant::now();
    let spawned = std::thread::Builder::new()
        .name(format!("watched: {what}"))
        .spawn(move || {
            let _ = done.send(std::panic::catch_unwind(AssertUnwindSafe(body)));
        });
    if let Err(err) = spawned {
        panic!("{what}: the watched thread did not start: {err}");
    }
    match finished.recv_timeout(limit) {
        Ok(Ok(value)) => value,
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
