//! For unit tests: runs a scenario on a thread of its own and fails the test, saying what froze,
//! when it has not finished within the time allowed (a deadlock would otherwise hang the test
//! binary).

use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a unit scenario may take: each takes milliseconds.
pub const FREEZE_LIMIT: Duration = Duration::from_secs(5);

/// Runs `body` on a new thread and waits up to [`FREEZE_LIMIT`] for it; its panic fails the test
/// as usual, and so does a freeze. A frozen thread is left behind until the process ends.
pub fn within<T: Send + 'static>(what: &str, body: impl FnOnce() -> T + Send + 'static) -> T {
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
    match finished.recv_timeout(FREEZE_LIMIT) {
        Ok(Ok(value)) => value,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!(
            "froze: {what} did not finish within {FREEZE_LIMIT:?} (failed by the watchdog after \
             {:.1} s): a lock held across a call to the host?",
            started.elapsed().as_secs_f64()
        ),
    }
}
