//! The sync engine: one worker per active connection, polling HubRise's callback events no more
//! often than the configured interval, plus `sync_now` on demand. A worker backs off (capped,
//! full jitter) on network errors and 5xx, waits out 429s, and stops on 401 after flagging the
//! connection "reconnect needed"; nothing local is deleted.

mod backoff;
mod connection;
mod cycle;
mod listing_pass;
mod pull;
mod push;
mod push_channel;
mod pusher;
mod quarantine_retry;
mod read_back;
mod running;
mod sibling_relay;
mod stream_listener;
mod worker;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{Notify, watch};

use super::health::Health;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::logging::lock;
use crate::model::connection::ConnectionState;
use crate::model::sync_report::SyncReport;
use crate::store::{connections, quarantine};
use crate::time::WallClockWatch;
use connection::ConnectionSync;
use cycle::{CycleReport, SyncParts};
use push_channel::PushChannel;
use running::{Worker, Workers};
use stream_listener::StreamLink;
use worker::Wake;

/// How long `stop` waits for a worker to finish its cycle before cancelling it. Cancelling is
/// safe: no transaction spans an await, so a cancelled cycle leaves committed work only.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// The stream listener while it runs, and the relay of this till's changes beside it.
struct Listening {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    relay: tokio::task::JoinHandle<()>,
}

/// The running workers.
pub struct SyncEngine {
    parts: Arc<SyncParts>,
    workers: Workers,
    /// The POS backend's event stream and what opens it (issue 24).
    link: Arc<StreamLink>,
    listening: Mutex<Option<Listening>>,
    paused: Arc<AtomicBool>,
    /// Tells the stream listener that `paused` changed: it closes its stream at once in the
    /// background (the backend then knows to wake the till by a notification) and opens it
    /// again at once back in front.
    pause_changed: Arc<Notify>,
    /// Off after `stop_sync` until `start_sync`, `restart` or the next `open`: nothing else
    /// (a `sync_now`, a reconnect) turns the workers back on.
    enabled: AtomicBool,
    /// The runtime workers run on, taken at `open` (an async call): `start_sync` is a
    /// synchronous export called from a host thread that has none.
    runtime: tokio::runtime::Handle,
}

impl std::fmt::Debug for SyncEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncEngine")
            .field("paused", &self.paused.load(Ordering::Relaxed))
            .field("enabled", &self.enabled.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl SyncEngine {
    /// An engine whose workers run on `runtime`.
    pub fn new(ctx: &Context, health: Health, runtime: tokio::runtime::Handle) -> Self {
        let parts = SyncParts {
            store: ctx.store.clone(),
            secrets: ctx.secrets.clone(),
            events: ctx.events.clone(),
            hubrise: ctx.hubrise.clone(),
            rate_limiters: ctx.rate_limiters.clone(),
            active: ctx.active.clone(),
            health,
            locks: Mutex::default(),
            wall_clock: WallClockWatch::default(),
            push_channel: PushChannel::default(),
        };
        let link = StreamLink {
            pos: ctx.pos.clone(),
            sessions: ctx.sessions.clone(),
            device_id: ctx.device_id.clone(),
        };
        Self {
            parts: Arc::new(parts),
            workers: Workers::default(),
            link: Arc::new(link),
            listening: Mutex::default(),
            paused: Arc::default(),
            pause_changed: Arc::default(),
            enabled: AtomicBool::new(true),
            runtime,
        }
    }

    /// The workers' map. What is logged while it is held ("worker started") reaches the host's
    /// logger once it is released: a logger may call `running()` (docs/locks.md).
    fn workers(&self) -> crate::logging::Locked<MutexGuard<'_, HashMap<String, Worker>>> {
        lock(&self.workers)
    }

    /// Turns the engine on or off for `start`; off does not stop running workers.
    pub fn enable(&self, enabled: bool) {
        self.enabled.store(enabled, Ordering::SeqCst);
        self.parts
            .health
            .set_paused(!enabled || self.paused.load(Ordering::SeqCst));
    }

    /// Starts a worker for each active connection of the active configuration that has none,
    /// unless the engine is off.
    pub fn start(&self) -> Result<()> {
        if !self.enabled.load(Ordering::SeqCst) {
            return Ok(());
        }
        let mut workers = self.workers();
        for id in self.parts.active.get().connection_ids {
            let row = self.parts.store.read(|c| connections::get(c, &id))?;
            let runnable =
                row.public.state == ConnectionState::Active && !row.public.reconnect_needed;
            if !runnable || workers.get(&id).is_some_and(|w| !w.task.is_finished()) {
                continue;
            }
            if let Some(ended) = workers.remove(&id) {
                // Its worker ended (a refusal, say); its pusher goes with it.
                ended.pusher.abort();
            }
            let wake = Arc::new(Wake::default());
            let push = Arc::new(Notify::new());
            let (stop, stopped) = watch::channel(false);
            let sync = Arc::new(ConnectionSync::new(&self.parts, &id));
            let pusher = self.runtime.spawn(pusher::run(
                self.parts.clone(),
                sync.clone(),
                push.clone(),
                stopped.clone(),
                self.paused.clone(),
            ));
            // The pusher lives as long as its worker: when the worker ends (a refused token, a
            // connection removed), so do the connection's pushes.
            let pusher_ends = pusher.abort_handle();
            let intake = worker::run(
                self.parts.clone(),
                sync,
                wake.clone(),
                stopped,
                self.paused.clone(),
            );
            let task = self.runtime.spawn(async move {
                intake.await;
                pusher_ends.abort();
            });
            tracing::debug!(target: "passerelle::sync", connection = %id, "worker started");
            workers.insert(
                id,
                Worker {
                    wake,
                    push,
                    stop,
                    task,
                    pusher,
                },
            );
        }
        let any = !workers.is_empty();
        drop(workers);
        if any {
            self.listen();
        }
        Ok(())
    }

    /// Starts the stream listener unless it runs (it ends by itself when the backend has no
    /// stream, and is started again at the next `start`).
    fn listen(&self) {
        let mut listening = lock(&self.listening);
        if listening.as_ref().is_some_and(|l| !l.task.is_finished()) {
            return;
        }
        if let Some(ended) = listening.take() {
            ended.relay.abort();
        }
        let (stop, stopped) = watch::channel(false);
        let task = self.runtime.spawn(stream_listener::run(
            self.parts.clone(),
            self.link.clone(),
            self.workers.clone(),
            stopped,
            self.paused.clone(),
            self.pause_changed.clone(),
        ));
        let relay = self
            .runtime
            .spawn(sibling_relay::run(self.parts.clone(), self.link.clone()));
        *listening = Some(Listening { stop, task, relay });
    }

    /// Stops every worker (for a restart, `stop_sync` or shutdown), all at once.
    pub async fn stop(&self) {
        let listening = lock(&self.listening).take();
        if let Some(mut listening) = listening {
            listening.relay.abort();
            let _ = listening.stop.send(true);
            if tokio::time::timeout(STOP_GRACE, &mut listening.task)
                .await
                .is_err()
            {
                listening.task.abort();
            }
        }
        let workers: Vec<Worker> = self.workers().drain().map(|(_, w)| w).collect();
        finish(workers).await;
    }

    /// Stops one connection's worker at once (disconnect).
    pub async fn stop_connection(&self, connection_id: &str) {
        let worker = self.workers().remove(connection_id);
        finish(worker.into_iter().collect()).await;
    }

    /// Runs one cycle of every active connection now, whether or not its worker runs (an
    /// explicit request), and reports the first failure. Cycles never overlap a worker's: they
    /// share the connection's cycle lock. Returns once every change the till made before has
    /// had its try, the pusher's included.
    pub async fn sync_now(&self) -> Result<SyncReport> {
        let mut total = CycleReport::default();
        let mut first_error = None;
        for id in self.parts.active.get().connection_ids {
            let sync = ConnectionSync::new(&self.parts, &id);
            let ran = sync.run(&self.parts).await;
            sync.changes_answered().await;
            match ran {
                Ok(Some(report)) => {
                    self.parts.health.attempt_succeeded(&id);
                    total.add(report);
                }
                Ok(None) => self.stop_connection(&id).await,
                Err(err) => {
                    let interval = self.parts.active.settings().poll_interval();
                    if !worker::handle_failure(&self.parts, &id, &err, interval)? {
                        self.stop_connection(&id).await;
                    }
                    first_error.get_or_insert(err);
                }
            }
        }
        first_error.map_or(Ok(total.into()), Err)
    }

    /// Fetches the order of a quarantined item again now (the till's retry); stored and
    /// announced when it reads. An error says why it is still set aside (HubRise's answer for
    /// it, or an outage); `NotFound` when no such item names an order.
    pub async fn retry_quarantined(&self, item_id: i64) -> Result<()> {
        let item = self
            .parts
            .store
            .read(|c| quarantine::retryable(c, item_id))?
            .ok_or_else(|| Error::NotFound {
                what: format!("quarantined item {item_id} with an order to fetch"),
            })?;
        ConnectionSync::new(&self.parts, &item.connection_id)
            .retry_quarantined(&self.parts, &item)
            .await
    }

    /// A change from the till waits in the outbox: every pusher sends it now, beside intake
    /// (events are not polled sooner than the interval for it).
    pub fn push_soon(&self) {
        for worker in self.workers().values() {
            worker.push.notify_one();
        }
    }

    /// The network is back (a hint from the host): failures are forgotten, every worker runs a
    /// full cycle now and every pusher tries its changes.
    pub fn network_available(&self) {
        for worker in self.workers().values() {
            worker.wake.request(worker::FULL | worker::RESET);
            worker.push.notify_one();
        }
    }

    /// Background: workers skip their cycles (iOS would not run them anyway) and the event
    /// stream closes at once. Back in front: failures are forgotten, every worker runs a full
    /// cycle now and the stream opens again.
    pub fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::SeqCst);
        self.pause_changed.notify_waiters();
        self.parts
            .health
            .set_paused(paused || !self.enabled.load(Ordering::SeqCst));
        if !paused {
            self.network_available();
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

impl Drop for SyncEngine {
    fn drop(&mut self) {
        if let Some(listening) = lock(&self.listening).take() {
            listening.task.abort();
            listening.relay.abort();
        }
        for (_, worker) in self.workers().drain() {
            worker.task.abort();
            worker.pusher.abort();
        }
    }
}

impl From<CycleReport> for SyncReport {
    fn from(report: CycleReport) -> Self {
        Self {
            orders_received: report.received,
            orders_updated: report.updated,
            changes_pushed: report.pushed,
        }
    }
}

/// Signals every worker first, so they stop together, then waits for each (bounded).
async fn finish(workers: Vec<Worker>) {
    for worker in &workers {
        let _ = worker.stop.send(true);
    }
    for worker in workers {
        for mut task in [worker.task, worker.pusher] {
            if tokio::time::timeout(STOP_GRACE, &mut task).await.is_err() {
                task.abort();
            }
        }
    }
}
