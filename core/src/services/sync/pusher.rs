//! A connection's pusher: the lane of the till's changes. Woken when the till makes a change
//! (and when the network is back), it pushes the outbox under no lock, so a change
//! never waits for intake (a backlog draining, the events route failing, an event's DELETE
//! failing, a backoff). After a failure it waits like the worker (`worker::wait_after_failure`): HubRise's
//! `Retry-After` with the poll interval as its floor, a backoff capped at the poll interval for
//! the rest; a refused token ends it (the worker flags the reconnect). A change HubRise refused
//! for a while is tried again when its own backoff ends; the intake cycle pushes too, every
//! poll interval, so nothing is ever forgotten.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::{Notify, watch};

use super::connection::ConnectionSync;
use super::cycle::SyncParts;
use super::worker::wait_after_failure;
use crate::error::Error;

pub(super) async fn run(
    parts: Arc<SyncParts>,
    sync: Arc<ConnectionSync>,
    wake: Arc<Notify>,
    mut stopped: watch::Receiver<bool>,
    paused: Arc<AtomicBool>,
) {
    let mut failures = 0u32;
    // Nothing to do until the till makes a change; a failure plans a retry.
    let mut retry: Option<Duration> = None;
    loop {
        tokio::select! {
            () = sleep_or_forever(retry) => {}
            () = wake.notified() => {}
            _ = stopped.changed() => return,
        }
        if *stopped.borrow() {
            return;
        }
        retry = None;
        if paused.load(Ordering::SeqCst) {
            // In the background: the worker's first cycle back in front pushes.
            continue;
        }
        let outcome = tokio::select! {
            outcome = AssertUnwindSafe(sync.push(&parts, &wake)).catch_unwind() => outcome,
            _ = stopped.changed() => return,
        };
        let err = match outcome {
            Ok(Ok(Some(_))) => {
                failures = 0;
                retry = sync.next_retry_in(&parts).unwrap_or_default();
                continue;
            }
            Ok(Ok(None)) | Ok(Err(Error::Unauthorized { .. })) => return,
            Ok(Err(err)) => err,
            Err(_) => Error::internal("pushing changes panicked"),
        };
        failures += 1;
        let interval = parts.active.settings().poll_interval();
        let wait = wait_after_failure(&parts, &sync.connection_id, &err, failures, interval);
        tracing::warn!(target: "passerelle::sync", connection = %sync.connection_id, code = err.code(), wait_ms = wait.as_millis(), "changes not pushed; retrying");
        retry = Some(wait);
    }
}

async fn sleep_or_forever(wait: Option<Duration>) {
    match wait {
        Some(wait) => tokio::time::sleep(wait).await,
        None => std::future::pending().await,
    }
}
