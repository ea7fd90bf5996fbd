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
use crate::model::retention::RetentionReport;
use crate::store::{Store, retention};
use crate::time::now_ms;

/// How long past its expected time an order with no final status stays open. Many tills never
/// send `completed`; a week covers a pre-order served late and a till off for a few days, after
/// which the order is closed locally and pruned like a finished one.
pub const UNFINISHED_GRACE: Duration = Duration::from_secs(7 * 86_400);

/// Rows one pruning or scrubbing transaction touches at most.
pub const BATCH_ROWS: u32 = 500;
/// The first batch's size; then it adapts to keep each transaction near `LOCK_BUDGET`.
const FIRST_BATCH_ROWS: u32 = 100;
const MIN_BATCH_ROWS: u32 = 10;
/// How long a batch aims to hold the write lock (the goal is 20 ms at most).
const LOCK_BUDGET: Duration = Duration::from_millis(8);
/// Pause between two batches, so that a waiting sync cycle takes the write lock first.
const GIVE_WAY: Duration = Duration::from_millis(5);

/// The pruning task and what it runs.
pub struct RetentionService {
    store: Arc<Store>,
    policy: Retention,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// One pass at a time (the task's and the host's); holds the batch size, which adapts
    /// from pass to pass to the device's speed.
    pass_lock: tokio::sync::Mutex<u32>,
}

impl RetentionService {
    pub fn new(ctx: &Context) -> Arc<Self> {
        Arc::new(Self {
            store: ctx.store.clone(),
            policy: ctx.config.retention(),
            task: Mutex::default(),
            pass_lock: tokio::sync::Mutex::new(FIRST_BATCH_ROWS),
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
        let mut limit = self.pass_lock.lock().await;
        let limit = &mut *limit;
        let ms = |secs: u64| i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX);
        let orders_before = now.saturating_sub(ms(self.policy.finished_orders_secs));
        let unfinished_due_before = now.saturating_sub(ms(UNFINISHED_GRACE.as_secs()));
        let personal_before = now.saturating_sub(ms(self.policy.personal_data_secs));
        let events_before = now.saturating_sub(ms(self.policy.processed_events_secs));
        let mut report = RetentionReport::default();
        report.orders_scrubbed = self
            .batches(&mut report, limit, |tx, rows| {
                retention::scrub_orders(tx, personal_before, rows)
            })
            .await?;
        report.quarantine_scrubbed = self
            .batches(&mut report, limit, |tx, rows| {
                retention::scrub_quarantine(tx, personal_before, rows)
            })
            .await?;
        report.outbox_pruned = self
            .batches(&mut report, limit, |tx, rows| {
                retention::prune_finished_outbox(tx, events_before, rows)
            })
            .await?;
        report.orders_pruned = self
            .batches(&mut report, limit, |tx, rows| {
                retention::prune_orders(tx, orders_before, unfinished_due_before, rows)
            })
            .await?;
        report.quarantine_pruned = self
            .batches(&mut report, limit, |tx, rows| {
                retention::prune_quarantine(tx, orders_before, rows)
            })
            .await?;
        report.events_pruned = self
            .batches(&mut report, limit, |tx, rows| {
                retention::prune_processed_events(tx, events_before, rows)
            })
            .await?;
        report.removed_connection_rows = self
            .batches(&mut report, limit, |tx, rows| {
                retention::clean_removed_connections(tx, rows)
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

    /// Runs `step` one transaction of at most `limit` rows at a time until a batch comes back
    /// short; returns the rows touched. `limit` halves after a batch over `LOCK_BUDGET` and
    /// doubles (up to `BATCH_ROWS`) after one under half of it.
    async fn batches(
        &self,
        report: &mut RetentionReport,
        limit: &mut u32,
        step: impl Fn(&rusqlite::Transaction<'_>, u32) -> Result<usize>,
    ) -> Result<u32> {
        let mut total = 0u32;
        loop {
            let asked = *limit;
            let (rows, held) = self.store.write_timed(|tx| step(tx, asked))?;
            if held > LOCK_BUDGET {
                *limit = (asked / 2).max(MIN_BATCH_ROWS);
            } else if held < LOCK_BUDGET / 2 && rows == asked as usize {
                *limit = (asked * 2).min(BATCH_ROWS);
            }
            report.batches += 1;
            let held = u64::try_from(held.as_micros()).unwrap_or(u64::MAX);
            report.longest_batch_micros = report.longest_batch_micros.max(held);
            total = total.saturating_add(u32::try_from(rows).unwrap_or(u32::MAX));
            // Between batches, not inside one: the checkpoint SQLite would otherwise run in
            // the commit of whichever transaction passes 1,000 WAL pages.
            self.store.checkpoint_passive()?;
            if rows < asked as usize {
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
