//! Calls that may block a thread (SQLite on a slow disk, the host's Keychain) made from async
//! code, without holding up the runtime's other tasks: another location's cycle, a timer, the
//! till's changes (design D28).

use tokio::runtime::{Handle, RuntimeFlavor};

/// Runs `work`, which may block, so that the runtime's other tasks carry on meanwhile.
///
/// On a worker of a multi-threaded runtime (the library's, under the FFI), the worker first
/// hands its other tasks to another thread (`block_in_place`), then runs `work` as a
/// blocking-pool thread would. Elsewhere (a blocking-pool thread, the host's own thread, no
/// runtime) `work` simply runs. A current-thread runtime has no other thread to hand its
/// tasks to, and refuses `block_in_place`: there `work` runs as is (tests only; the library's
/// runtime is multi-threaded).
///
/// Why not `spawn_blocking`: the callers' closures borrow the cycle they serve (its
/// connection, its transaction), and `block_in_place` lets them, with the same guarantee for
/// everyone else.
pub(crate) fn blocking<T>(work: impl FnOnce() -> T) -> T {
    match Handle::try_current() {
        Ok(runtime) if runtime.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}

#[cfg(test)]
mod tests {
    use super::blocking;
    use std::time::{Duration, Instant};

    /// One worker thread: without the hand-over, a task blocked in `work` would hold up every
    /// other task of the runtime.
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_blocked_call_does_not_hold_up_the_other_tasks() {
        let blocked = tokio::spawn(async {
            blocking(|| std::thread::sleep(Duration::from_millis(800)));
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let started = Instant::now();
        let ticked =
            tokio::spawn(async { tokio::time::sleep(Duration::from_millis(10)).await }).await;
        assert!(ticked.is_ok());
        assert!(
            started.elapsed() < Duration::from_millis(400),
            "a timer waited for the blocked call: {:?}",
            started.elapsed()
        );
        blocked.await.unwrap();
    }

    #[tokio::test(flavor = "current_thread")]
    async fn on_a_current_thread_runtime_it_runs_in_place() {
        assert_eq!(blocking(|| 7), 7);
    }

    #[test]
    fn outside_a_runtime_it_runs_in_place() {
        assert_eq!(blocking(|| 7), 7);
    }
}
