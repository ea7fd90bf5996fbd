//! Retention (design D24): finished orders, processed event ids, finished outbox rows,
//! quarantined items and removed connections are pruned, and customers' personal data scrubbed,
//! by a low-priority task of its own, off the sync path: a pass shortly after open, then one an
//! interval. Every batch is one short transaction of at most `BATCH_ROWS` rows, and the task
//! gives way between batches, so a sync cycle never waits long for the write lock.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::config::Retention;
use crate::context::Context;
use crate::error::Result;
use crate::store::{Store, retention};
use crate::time::now_ms;

/// Rows one pruning or scrubbing transaction touches at most.
pub const BATCH_ROWS: u32 = 500;
/// Pause between two batches, so that a waiting sync cycle takes the write lock first.
const GIVE_WAY: Duration = Duration::from_millis(5);

/// What a retention pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct RetentionReport {
    pub orders_pruned: u32,
    pub orders_scrubbed: u32,
    pub quarantine_scrubbed: u32,
    pub quarantine_pruned: u32,
    pub events_pruned: u32,
    pub outbox_pruned: u32,
    /// Rows of removed connections (their event ids, failures, the connection itself).
    pub removed_connection_rows: u32,
    /// Transactions the pass ran.
    pub batches: u32,
    /// The longest time one of them held the write lock, in microseconds.
    pub longest_batch_micros: u64,
}

/// The pruning task and what it runs.
pub struct RetentionService {
    store: Arc<Store>,
    policy: Retention,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// One pass at a time (the task's and the host's).
    pass_lock: tokio::sync::Mutex<()>,
}

impl RetentionService {
    pub fn new(ctx: &Context) -> Arc<Self> {
        Arc::new(Self {
            store: ctx.store.clone(),
            policy: ctx.config.retention(),
            task: Mutex::default(),
            pass_lock: tokio::sync::Mutex::new(()),
        })
    }

    /// Starts the periodic task on `runtime`: a first pass after `first_pass_delay_secs`, then
    /// one every `interval_secs`. A failed pass is logged and tried again at the next interval.
    pub fn start(self: &Arc<Self>, runtime: &tokio::runtime::Handle) {
        let weak = Arc::downgrade(self);
        let first = Duration::from_secs(self.policy.first_pass_delay_secs);
        let interval = Duration::from_secs(self.policy.interval_secs);
        let task = runtime.spawn(async move {
            tokio::time::sleep(first).await;
            loop {
                let Some(service) = weak.upgrade() else { return };
                match service.run_pass(now_ms()).await {
                    Ok(report) => {
                        tracing::debug!(target: "passerelle::retention", ?report, "retention pass")
                    }
                    Err(err) => {
                        tracing::warn!(target: "passerelle::retention", %err, "retention pass failed")
                    }
                }
                drop(service);
                tokio::time::sleep(interval).await;
            }
        });
        if let Some(old) = lock(&self.task).replace(task) {
            old.abort();
        }
    }

    /// Stops the periodic task.
    pub fn stop(&self) {
        if let Some(task) = lock(&self.task).take() {
            task.abort();
        }
    }

    /// One pass as of `now` (ms since the epoch): every step in batches until none is left.
    pub async fn run_pass(&self, now: i64) -> Result<RetentionReport> {
        let _one_pass = self.pass_lock.lock().await;
        let ms = |secs: u64| i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX);
        let orders_before = now.saturating_sub(ms(self.policy.finished_orders_secs));
        let personal_before = now.saturating_sub(ms(self.policy.personal_data_secs));
        let events_before = now.saturating_sub(ms(self.policy.processed_events_secs));
        let mut report = RetentionReport::default();
        report.orders_scrubbed = self
            .batches(&mut report, |tx| {
                retention::scrub_orders(tx, personal_before, BATCH_ROWS)
            })
            .await?;
        report.quarantine_scrubbed = self
            .batches(&mut report, |tx| {
                retention::scrub_quarantine(tx, personal_before, BATCH_ROWS)
            })
            .await?;
        report.outbox_pruned = self
            .batches(&mut report, |tx| {
                retention::prune_finished_outbox(tx, events_before, BATCH_ROWS)
            })
            .await?;
        report.orders_pruned = self
            .batches(&mut report, |tx| {
                retention::prune_orders(tx, orders_before, BATCH_ROWS)
            })
            .await?;
        report.quarantine_pruned = self
            .batches(&mut report, |tx| {
                retention::prune_quarantine(tx, orders_before, BATCH_ROWS)
            })
            .await?;
        report.events_pruned = self
            .batches(&mut report, |tx| {
                retention::prune_processed_events(tx, events_before, BATCH_ROWS)
            })
            .await?;
        report.removed_connection_rows = self
            .batches(&mut report, |tx| {
                retention::clean_removed_connections(tx, BATCH_ROWS)
            })
            .await?;
        let touched = report.orders_scrubbed
            + report.quarantine_scrubbed
            + report.orders_pruned
            + report.quarantine_pruned;
        if touched > 0 {
            // The WAL still holds the pages as they were before the scrub: truncate it.
            self.store.checkpoint_truncate()?;
        }
        Ok(report)
    }

    /// Runs `step` one transaction at a time until a batch touches fewer than `BATCH_ROWS`
    /// rows; returns the rows touched.
    async fn batches(
        &self,
        report: &mut RetentionReport,
        step: impl Fn(&rusqlite::Transaction<'_>) -> Result<usize>,
    ) -> Result<u32> {
        let mut total = 0u32;
        loop {
            let (rows, held) = self.store.write_timed(&step)?;
            report.batches += 1;
            let held = u64::try_from(held.as_micros()).unwrap_or(u64::MAX);
            report.longest_batch_micros = report.longest_batch_micros.max(held);
            total = total.saturating_add(u32::try_from(rows).unwrap_or(u32::MAX));
            if rows < BATCH_ROWS as usize {
                return Ok(total);
            }
            tokio::time::sleep(GIVE_WAY).await;
        }
    }
}

impl Drop for RetentionService {
    fn drop(&mut self) {
        self.stop();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
