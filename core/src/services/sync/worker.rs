//! A connection's worker: a cycle every poll interval (sooner when woken), a wait after a
//! failure that depends on what failed, and the failure recorded where the host can see it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, watch};

use super::SyncParts;
use super::backoff;
use super::cycle::ConnectionSync;
use crate::error::{Error, Result};
use crate::model::connection::ConnectionState;
use crate::store::connections;

pub(super) async fn run(
    parts: Arc<SyncParts>,
    sync: Arc<ConnectionSync>,
    wake: Arc<Notify>,
    mut stopped: watch::Receiver<bool>,
    paused: Arc<AtomicBool>,
) {
    let mut delay = Duration::ZERO;
    let mut failures = 0u32;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = wake.notified() => {}
            _ = stopped.changed() => return,
        }
        if *stopped.borrow() {
            return;
        }
        let interval = Duration::from_secs(u64::from(parts.active.settings().poll_interval_secs));
        if paused.load(Ordering::SeqCst) {
            delay = interval;
            continue;
        }
        // A stop cancels a cycle at its next await: safe, as no transaction spans an await.
        let result = tokio::select! {
            result = sync.run(&parts) => result,
            _ = stopped.changed() => return,
        };
        delay = match result {
            Ok(Some(_)) => {
                failures = 0;
                interval
            }
            Ok(None) => return,
            Err(err) => {
                if !matches!(handle_failure(&parts, &sync.connection_id, &err), Ok(true)) {
                    return;
                }
                failures += 1;
                wait_after(&err, failures, interval)
            }
        };
    }
}

/// How long a worker waits after its `failures`-th failed cycle in a row: what a 429 says, a
/// backoff for what may pass by itself (network, 5xx), and never less than the poll interval
/// for the rest, so a persistent fault never turns into a burst of requests.
fn wait_after(err: &Error, failures: u32, interval: Duration) -> Duration {
    let backoff = backoff::delay(failures.saturating_sub(1));
    match err {
        Error::RateLimited { wait, .. } => (*wait).max(Duration::from_millis(1)),
        err if err.is_retryable() => backoff,
        _ => backoff.max(interval),
    }
}

/// Records a failed cycle. Returns whether the connection may go on (false when HubRise refused
/// its token: it stops until reconnected).
pub(super) fn handle_failure(parts: &SyncParts, connection_id: &str, err: &Error) -> Result<bool> {
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
        Error::RateLimited { .. } => Ok(true),
        _ => {
            parts
                .health
                .record_failure(connection_id, &err.to_public().to_string())?;
            Ok(true)
        }
    }
}
