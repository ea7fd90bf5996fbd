//! A connection's worker, supervised: a cycle every poll interval (sooner when woken), a wait
//! after a failure that depends on what failed, every outcome recorded in the health state. A
//! worker ends only when it is stopped, when its connection no longer syncs, or when HubRise
//! refused its token (reconnect needed, which the health state says); any other failure, a
//! panic included, is reported and retried (design D21).

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use super::backoff;
use super::connection::ConnectionSync;
use super::cycle::SyncParts;
use crate::error::{Error, Result};
use crate::model::connection::ConnectionState;
use crate::store::connections;

/// What a wake asks of a worker (bits of `Wake::requests`): a cycle now.
pub(super) const FULL: u8 = 1;
/// Forget the failures so far: the network is back, the app is in front again.
pub(super) const RESET: u8 = 4;

/// How a worker is woken early.
#[derive(Default)]
pub(super) struct Wake {
    notify: Notify,
    requests: AtomicU8,
}

impl Wake {
    pub fn request(&self, what: u8) {
        self.requests.fetch_or(what, Ordering::SeqCst);
        self.notify.notify_one();
    }

    fn take(&self) -> u8 {
        self.requests.swap(0, Ordering::SeqCst)
    }
}

/// What ended a cycle.
enum Outcome {
    Done,
    /// The connection no longer syncs (removed, disconnected, reconnect needed).
    Over,
    Failed(Error),
}

pub(super) async fn run(
    parts: Arc<SyncParts>,
    sync: Arc<ConnectionSync>,
    wake: Arc<Wake>,
    mut stopped: watch::Receiver<bool>,
    paused: Arc<AtomicBool>,
) {
    let mut delay = Duration::ZERO;
    let mut failures = 0u32;
    // After a failure, nothing is sent before this (see `Hold`).
    let mut hold: Option<Hold> = None;
    loop {
        let woken = tokio::select! {
            _ = tokio::time::sleep(delay) => false,
            _ = wake.notify.notified() => true,
            _ = stopped.changed() => return,
        };
        if *stopped.borrow() {
            return;
        }
        let interval = parts.active.settings().poll_interval();
        if paused.load(Ordering::SeqCst) {
            delay = interval;
            continue;
        }
        let requests = if woken { wake.take() } else { FULL };
        if let Some(rest) = hold.and_then(|h| h.remaining(requests)) {
            // Woken inside a wait HubRise asked for (or a backoff the host did not lift).
            delay = rest;
            continue;
        }
        hold = None;
        if requests & RESET != 0 {
            failures = 0;
        }
        // A stop cancels a cycle at its next await: safe, as no transaction spans an await.
        let outcome = tokio::select! {
            outcome = cycle(&parts, &sync) => outcome,
            _ = stopped.changed() => return,
        };
        delay = match outcome {
            Outcome::Done => {
                failures = 0;
                parts.health.attempt_succeeded(&sync.connection_id);
                // Slower while the POS backend's stream brings this connection's events.
                parts
                    .push_channel
                    .poll_interval(&sync.connection_id, interval)
            }
            Outcome::Over => return,
            Outcome::Failed(err) => {
                failures += 1;
                let wait =
                    wait_after_failure(&parts, &sync.connection_id, &err, failures, interval);
                hold = Some(Hold {
                    until: Instant::now() + wait,
                    rate_limited: matches!(err, Error::RateLimited { .. }),
                });
                match handle_failure(&parts, &sync.connection_id, &err, wait) {
                    Ok(false) => return,
                    Ok(true) => {}
                    Err(record_err) => {
                        tracing::error!(target: "passerelle::sync", connection = %sync.connection_id, code = record_err.code(), "failure not recorded");
                    }
                }
                wait
            }
        };
    }
}

/// The wait after a failed cycle: the host's hint (back in front, network back) lifts a
/// backoff, but never a wait HubRise asked for. (The till's changes do not wait for it: they
/// have a lane of their own, `pusher.rs`.)
#[derive(Debug, Clone, Copy)]
struct Hold {
    until: Instant,
    rate_limited: bool,
}

impl Hold {
    /// What is left of the wait for a wake asking `requests`, or `None` when it may go now.
    fn remaining(self, requests: u8) -> Option<Duration> {
        let lifted = requests & RESET != 0 && !self.rate_limited;
        let left = self.until.saturating_duration_since(Instant::now());
        (!lifted && !left.is_zero()).then_some(left)
    }
}

/// One cycle, a panic inside it turned into an error so the worker goes on.
async fn cycle(parts: &SyncParts, sync: &ConnectionSync) -> Outcome {
    match AssertUnwindSafe(sync.run(parts)).catch_unwind().await {
        Ok(Ok(Some(_))) => Outcome::Done,
        Ok(Ok(None)) => Outcome::Over,
        Ok(Err(err)) => Outcome::Failed(err),
        Err(_) => Outcome::Failed(Error::internal("a sync cycle panicked")),
    }
}

/// How long a worker waits after its `failures`-th failed cycle in a row.
///
/// - A 429: what HubRise asked (at most an hour), but never less than the poll interval: a
///   `Retry-After` of 0, negative or in the past must not turn into a hot loop.
/// - A failure that may pass (no network, a timeout, HubRise's 5xx): a jittered backoff, never
///   longer than the poll interval. Trying once an interval is the load HubRise sees anyway, and
///   a longer wait would keep orders from the till well after the outage ends.
/// - Anything else: never less than the poll interval, so a persistent fault never turns into a
///   burst of requests.
pub(super) fn wait_after(err: &Error, failures: u32, interval: Duration) -> Duration {
    let backoff = backoff::delay(failures.saturating_sub(1));
    match err {
        Error::RateLimited { wait, .. } => (*wait).max(interval),
        err if err.is_retryable() => backoff.min(interval),
        _ => backoff.max(interval),
    }
}

/// [`wait_after`] a lane's failure; a 429 holds every lane of the connection for that long, so
/// neither lane (nor a change the till makes meanwhile, which wakes the changes' lane) cuts short
/// a wait HubRise asked for.
pub(super) fn wait_after_failure(
    parts: &SyncParts,
    connection_id: &str,
    err: &Error,
    failures: u32,
    interval: Duration,
) -> Duration {
    let wait = wait_after(err, failures, interval);
    if matches!(err, Error::RateLimited { .. }) {
        parts.rate_limiters.hold(connection_id, wait);
    }
    wait
}

/// Records a failed cycle. Returns whether the connection may go on (false when HubRise refused
/// its token: it stops until reconnected).
pub(super) fn handle_failure(
    parts: &SyncParts,
    connection_id: &str,
    err: &Error,
    wait: Duration,
) -> Result<bool> {
    tracing::warn!(target: "passerelle::sync", connection = %connection_id, code = err.code(), "sync cycle failed");
    match err {
        Error::Unauthorized { reason, .. } => {
            let row = parts.store.read(|c| connections::get(c, connection_id))?;
            // A connection being removed (disconnected here or off the device) expects its
            // token to be refused: that is no reason to ask for a reconnect.
            if row.public.state == ConnectionState::Active {
                parts.health.record_refusal(&row, reason)?;
            }
            Ok(false)
        }
        Error::RateLimited { .. } => {
            parts.health.attempt_failed(connection_id, err, wait);
            Ok(true)
        }
        _ => {
            parts.health.attempt_failed(connection_id, err, wait);
            parts
                .health
                .record_failure(connection_id, &err.to_public().to_string())?;
            Ok(true)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hold(rate_limited: bool, secs: u64) -> Hold {
        Hold {
            until: Instant::now() + Duration::from_secs(secs),
            rate_limited,
        }
    }

    #[tokio::test]
    async fn the_host_s_hint_lifts_a_backoff_but_not_hubrise_s_wait() {
        assert!(hold(false, 30).remaining(FULL | RESET).is_none());
        assert!(hold(true, 30).remaining(FULL | RESET).is_some());
    }

    #[tokio::test]
    async fn a_wait_that_is_over_holds_nothing() {
        assert!(hold(true, 0).remaining(FULL).is_none());
    }
}
