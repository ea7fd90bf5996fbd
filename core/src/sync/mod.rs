//! The sync engine: one worker per active connection, polling HubRise's callback events no more
//! often than the configured interval, plus `sync_now` on demand. A worker backs off (capped,
//! full jitter) on network errors and 5xx, waits out 429s, and stops on 401 after flagging the
//! connection "reconnect needed"; nothing local is deleted.

mod backoff;
mod cycle;
pub mod limiter;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, watch};

use cycle::ConnectionSync;
pub use cycle::{ConnectionRuntime, CycleReport, iso8601};

use crate::connection::ConnectionState;
use crate::error::{PasserelleError, Result};
use crate::hubrise::connect;
use crate::passerelle::Shared;
use crate::store::connections;

/// How long `stop` waits for a worker to finish its cycle before cancelling it. Cancelling is
/// safe: no transaction spans an await, so a cancelled cycle leaves committed work only.
const STOP_GRACE: Duration = Duration::from_secs(5);

struct Worker {
    wake: Arc<Notify>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

/// The running workers.
pub struct Engine {
    workers: std::sync::Mutex<HashMap<String, Worker>>,
    paused: Arc<AtomicBool>,
    /// Off after `stop_sync` until `start_sync`, `restart` or the next `open`: nothing else
    /// (a `sync_now`, a reconnect) turns the workers back on.
    enabled: AtomicBool,
    /// The runtime workers run on, taken at `open` (an async call): `start_sync` is a
    /// synchronous export called from a host thread that has none.
    runtime: tokio::runtime::Handle,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("paused", &self.paused.load(Ordering::Relaxed))
            .field("enabled", &self.enabled.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// An engine whose workers run on `runtime`.
    pub fn new(runtime: tokio::runtime::Handle) -> Self {
        Self {
            workers: std::sync::Mutex::default(),
            paused: Arc::default(),
            enabled: AtomicBool::new(true),
            runtime,
        }
    }

    fn workers(&self) -> std::sync::MutexGuard<'_, HashMap<String, Worker>> {
        self.workers.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Turns the engine on or off for `start`; off does not stop running workers.
    pub fn enable(&self, enabled: bool) {
        self.enabled.store(enabled, Ordering::SeqCst);
    }

    /// Starts a worker for each active connection of the active configuration that has none,
    /// unless the engine is off.
    pub fn start(&self, shared: &Arc<Shared>) -> Result<()> {
        if !self.enabled.load(Ordering::SeqCst) {
            return Ok(());
        }
        let active = shared.active()?;
        let mut workers = self.workers();
        for id in active.connection_ids {
            let row = shared.store.read(|c| connections::get(c, &id))?;
            let runnable =
                row.public.state == ConnectionState::Active && !row.public.reconnect_needed;
            if !runnable || workers.get(&id).is_some_and(|w| !w.task.is_finished()) {
                continue;
            }
            let sync = Arc::new(ConnectionSync::new(id.clone(), shared));
            let wake = Arc::new(Notify::new());
            let (stop, stopped) = watch::channel(false);
            let task = self.runtime.spawn(run_worker(
                shared.clone(),
                sync.clone(),
                wake.clone(),
                stopped,
                self.paused.clone(),
            ));
            tracing::debug!(target: "passerelle::sync", connection = %id, "worker started");
            workers.insert(id, Worker { wake, stop, task });
        }
        Ok(())
    }

    /// Stops every worker (for a restart, `stop_sync` or shutdown), all at once.
    pub async fn stop(&self) {
        let workers: Vec<Worker> = self.workers().drain().map(|(_, w)| w).collect();
        finish(workers).await;
    }

    /// Stops one connection's worker at once (disconnect, decision 4).
    pub async fn stop_connection(&self, connection_id: &str) {
        let worker = self.workers().remove(connection_id);
        finish(worker.into_iter().collect()).await;
    }

    /// Runs one cycle of every active connection now, whether or not its worker runs (an
    /// explicit request), and reports the first failure. Cycles never overlap a worker's: they
    /// share the connection's cycle lock.
    pub async fn sync_now(&self, shared: &Shared) -> Result<CycleReport> {
        let syncs: Vec<ConnectionSync> = shared
            .active()?
            .connection_ids
            .into_iter()
            .map(|id| ConnectionSync::new(id, shared))
            .collect();
        let mut total = CycleReport::default();
        let mut first_error = None;
        for sync in syncs {
            match sync.run(shared).await {
                Ok(Some(report)) => {
                    total.received += report.received;
                    total.updated += report.updated;
                    total.pushed += report.pushed;
                }
                Ok(None) => self.stop_connection(&sync.connection_id).await,
                Err(err) => {
                    if !handle_failure(shared, &sync.connection_id, &err)? {
                        self.stop_connection(&sync.connection_id).await;
                    }
                    first_error.get_or_insert(err);
                }
            }
        }
        first_error.map_or(Ok(total), Err)
    }

    /// Wakes every worker for an immediate cycle.
    pub fn wake(&self) {
        for worker in self.workers().values() {
            worker.wake.notify_one();
        }
    }

    /// Background: workers skip their cycles (iOS would not run them anyway).
    pub fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::SeqCst);
        if !paused {
            self.wake();
        }
    }

    /// Ids of the connections with a running worker.
    pub fn running(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .workers()
            .iter()
            .filter(|(_, w)| !w.task.is_finished())
            .map(|(id, _)| id.clone())
            .collect();
        ids.sort();
        ids
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        for (_, worker) in self.workers().drain() {
            worker.task.abort();
        }
    }
}

/// Signals every worker first, so they stop together, then waits for each (bounded).
async fn finish(workers: Vec<Worker>) {
    for worker in &workers {
        let _ = worker.stop.send(true);
    }
    for worker in workers {
        let mut task = worker.task;
        if tokio::time::timeout(STOP_GRACE, &mut task).await.is_err() {
            task.abort();
        }
    }
}

async fn run_worker(
    shared: Arc<Shared>,
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
        let interval = match shared.active() {
            Ok(active) => Duration::from_secs(u64::from(active.settings.poll_interval_secs)),
            Err(_) => return,
        };
        if paused.load(Ordering::SeqCst) {
            delay = interval;
            continue;
        }
        // A stop cancels a cycle at its next await: safe, as no transaction spans an await.
        let result = tokio::select! {
            result = sync.run(&shared) => result,
            _ = stopped.changed() => return,
        };
        delay = match result {
            Ok(Some(_)) => {
                failures = 0;
                interval
            }
            Ok(None) => return,
            Err(err) => {
                if !matches!(handle_failure(&shared, &sync.connection_id, &err), Ok(true)) {
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
fn wait_after(err: &PasserelleError, failures: u32, interval: Duration) -> Duration {
    let backoff = backoff::delay(failures.saturating_sub(1));
    match err {
        PasserelleError::RateLimited { retry_after_secs } => {
            Duration::from_secs(*retry_after_secs).max(Duration::from_millis(1))
        }
        err if err.is_retryable() => backoff,
        _ => backoff.max(interval),
    }
}

/// Records a failed cycle. Returns whether the connection may go on (false when HubRise refused
/// its token: it stops until reconnected).
fn handle_failure(shared: &Shared, connection_id: &str, err: &PasserelleError) -> Result<bool> {
    tracing::warn!(target: "passerelle::sync", connection = %connection_id, code = err.code(), "sync cycle failed");
    match err {
        PasserelleError::ConnectionRevoked { reason } => {
            let row = shared.store.read(|c| connections::get(c, connection_id))?;
            // A connection being removed (disconnected here or off the device) expects its
            // token to be refused: that is no reason to ask for a reconnect.
            if row.public.state == ConnectionState::Active {
                connect::record_refusal(shared, &row, reason)?;
            }
            Ok(false)
        }
        PasserelleError::RateLimited { .. } => Ok(true),
        _ => {
            let reason = err.to_string();
            shared
                .store
                .write(|tx| connections::record_failure(tx, connection_id, &reason, false))?;
            Ok(true)
        }
    }
}
