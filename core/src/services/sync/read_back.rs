//! Reading back from HubRise what no event brings (issue 15, decision 22).
//!
//! HubRise never sends a client the events it generated, and the client is the app: when a
//! sibling till of the same restaurant accepts an order, this till hears nothing. Nor does the
//! catch-up after a reconnect see orders created before it and changed while the token was
//! refused (it selects by creation time). So each cycle ends with this read:
//!
//! - **open orders' status**: the orders of the location this device has, whose HubRise status
//!   is not final (completed, rejected, cancelled, delivery failed) and that were created within
//!   [`OPEN_ORDER_HORIZON_MS`], are read again: once per poll interval while there are any (so a
//!   sibling's change shows within two poll intervals), at once after a reconnect or a long
//!   offline period (whatever the spacing), and so at the first cycle back from the background
//!   (no cycle runs there: the last read is then at least as old as the time away, and at most
//!   one interval goes by before the next);
//! - **names**: the location, catalog and customer-list names (and the location's timezone)
//!   are read again after an open or a restart.
//!
//! **Budget.** A read-back reads the cheaper of one `GET /location/orders/:id` per open order and
//! one page of `GET /location/orders?after=` (the oldest open order's creation) per 100 orders
//! this device knows since then, at most [`MAX_LIST_PAGES`] pages, plus one `GET` for each open
//! order the listing shows changed (rare): with the usual handful of open orders, one request
//! per poll interval (at 30 s: 120 an hour, 2,880 a day at most, none without open orders). Names cost three requests (one heavy) per open or restart. Every read
//! spends the read-back budget of the connection's rate windows (`RateLimiters::
//! try_acquire_read_back`: 30 % of each of HubRise's windows, half of its heavy queries) and never
//! waits: a read that does not fit is left for the next cycle, so events and the outbox never
//! wait behind it.

use serde_json::Value;

use super::cycle::{CycleReport, SyncParts};
use crate::clients::hubrise::names::{self, Spend};
use crate::error::{Error, Result};
use crate::events::PasserelleEvent;
use crate::model::health::DelayReason;
use crate::model::order::OrderStatus;
use crate::secrets::Secret;
use crate::store::connection_reads::{self, OpenOrder};
use crate::store::connections::{self, ConnectionRow};
use crate::store::orders;
use crate::time::{iso8601, now_ms};

/// Orders created longer ago than this are no longer read back (a day of service and more).
pub const OPEN_ORDER_HORIZON_MS: i64 = 36 * 60 * 60 * 1000;
/// A listing from the oldest open order reads at most this many pages per read-back.
pub const MAX_LIST_PAGES: u64 = 3;
/// Without a cycle for this long, the next one reads the open orders whatever the spacing.
const LONG_OFFLINE_MS: i64 = 5 * 60 * 1000;

/// The hook at the end of a cycle: names when due, then the open orders' status when due.
/// A refusal or a rate limit fails the cycle like any other request; other failures only stop
/// the read (logged), which the next cycle tries again.
pub(super) async fn run(
    parts: &SyncParts,
    row: &ConnectionRow,
    token: &Secret,
    report: &mut CycleReport,
) -> Result<()> {
    let outcome = async {
        names(parts, row, token).await?;
        status(parts, row, token, report).await
    }
    .await;
    match outcome {
        Err(err @ (Error::Unauthorized { .. } | Error::RateLimited { .. })) => Err(err),
        Err(err) => {
            tracing::warn!(target: "passerelle::sync", connection = %row.public.id, code = err.code(), "read-back stopped");
            Ok(())
        }
        Ok(()) => Ok(()),
    }
}

async fn names(parts: &SyncParts, row: &ConnectionRow, token: &Secret) -> Result<()> {
    let id = row.public.id.as_str();
    if !parts
        .store
        .read(|c| connection_reads::get(c, id))?
        .names_due
    {
        return Ok(());
    }
    let read = names::read(
        &parts.hubrise,
        &parts.rate_limiters,
        &row.public,
        token,
        Spend::ReadBackBudget,
    )
    .await?;
    let changed = parts.store.write(|tx| {
        connections::keep_names(tx, id, &read.names, read.timezone.as_deref(), read.complete)
    })?;
    if changed {
        parts.health.announce(id)?;
    }
    Ok(())
}

/// Whether the open orders' status is due now.
fn status_due(parts: &SyncParts, row: &ConnectionRow) -> Result<bool> {
    parts.follow_wall_clock()?;
    let reads = parts
        .store
        .read(|c| connection_reads::get(c, &row.public.id))?;
    let now = now_ms();
    let interval = parts
        .push_channel
        .read_back_interval(&row.public.id, parts.active.settings().poll_interval());
    let interval_ms = i64::try_from(interval.as_millis()).unwrap_or(i64::MAX);
    let long_offline = row
        .last_succeeded_at
        .is_none_or(|at| now - at >= LONG_OFFLINE_MS);
    // A tenth of slack: the worker's next cycle comes one interval after this one ended.
    let spaced = reads
        .read_back_at
        .is_none_or(|at| now - at >= interval_ms * 9 / 10);
    Ok(reads.read_back_due || row.catch_up_from.is_some() || long_offline || spaced)
}

async fn status(
    parts: &SyncParts,
    row: &ConnectionRow,
    token: &Secret,
    report: &mut CycleReport,
) -> Result<()> {
    if !status_due(parts, row)? {
        return Ok(());
    }
    let id = row.public.id.as_str();
    let location = row.public.location_id.as_str();
    let open = parts
        .store
        .read(|c| connection_reads::open_orders(c, location, now_ms() - OPEN_ORDER_HORIZON_MS))?;
    let Some(oldest) = open.first() else {
        parts.health.set_slowed(id, DelayReason::Budget, false);
        return parts
            .store
            .write(|tx| connection_reads::read_back_done(tx, id, true));
    };
    let known = parts
        .store
        .read(|c| connection_reads::orders_since(c, location, oldest.created_at_ms))?;
    // One more than this device knows: the listing also brings what arrived meanwhile.
    let pages = (known + 1).div_ceil(100);
    let read = Read { parts, row, token };
    let complete = if open.len() as u64 <= pages.min(MAX_LIST_PAGES) {
        read.one_by_one(&open, report).await?
    } else {
        read.by_listing(&open, oldest.created_at_ms, report).await?
    };
    // Cut short by its budget: statuses set elsewhere show later, and health says so.
    parts.health.set_slowed(id, DelayReason::Budget, !complete);
    parts
        .store
        .write(|tx| connection_reads::read_back_done(tx, id, complete))
}

/// A sibling till changed `order_id` to `status` (the POS backend relayed it). It is read from
/// HubRise, as a read-back would (a change is shown as read, design D22), unless this device
/// already holds that status or does not have the order. `false` when it was left to the next
/// read-back (no room in the read-back budget): the caller wakes the connection for it.
pub(super) async fn sibling_changed(
    parts: &SyncParts,
    row: &ConnectionRow,
    token: &Secret,
    order_id: &str,
    status: &str,
) -> Result<bool> {
    let id = row.public.id.as_str();
    let held = parts
        .store
        .read(|c| orders::hubrise_status(c, &row.public.location_id, order_id))?;
    if held.is_none_or(|held| held == OrderStatus::parse(status)) {
        return Ok(true);
    }
    let read = Read { parts, row, token };
    if !read.room(false) {
        parts
            .store
            .write(|tx| connection_reads::read_back_wanted(tx, id))?;
        return Ok(false);
    }
    if let Some(json) = parts.hubrise.order(token, order_id).await? {
        read.apply(&json, &mut CycleReport::default())?;
    }
    Ok(true)
}

struct Read<'a> {
    parts: &'a SyncParts,
    row: &'a ConnectionRow,
    token: &'a Secret,
}

impl Read<'_> {
    /// `GET /location/orders/:id` for each open order, oldest first, while the budget lasts.
    /// Returns whether every one was read.
    async fn one_by_one(&self, open: &[OpenOrder], report: &mut CycleReport) -> Result<bool> {
        for order in open {
            if !self.room(false) {
                return Ok(false);
            }
            if let Some(json) = self.parts.hubrise.order(self.token, &order.id).await? {
                self.apply(&json, report)?;
            }
        }
        Ok(true)
    }

    /// Pages of `GET /location/orders?after=` from the oldest open order's creation, as a cheap
    /// look at the statuses: an open order whose status changed, and one the pages did not
    /// reach, is then read on its own (a listing's representation of an order is not promised
    /// to be the whole order, so it never replaces the stored one).
    async fn by_listing(
        &self,
        open: &[OpenOrder],
        after_ms: i64,
        report: &mut CycleReport,
    ) -> Result<bool> {
        let after = iso8601(after_ms)?;
        let location = self.row.public.location_id.as_str();
        let mut unchanged = std::collections::HashSet::new();
        let mut cursor = None;
        for _ in 0..MAX_LIST_PAGES {
            if !self.room(true) {
                return Ok(false);
            }
            let page = self
                .parts
                .hubrise
                .orders_after(self.token, &after, cursor.as_deref())
                .await?;
            for json in &page.items {
                let (Some(order_id), Some(status)) = (
                    json.get("id").and_then(Value::as_str),
                    json.get("status").and_then(Value::as_str),
                ) else {
                    continue;
                };
                let stored = self
                    .parts
                    .store
                    .read(|c| orders::hubrise_status(c, location, order_id))?;
                if stored == Some(OrderStatus::parse(status)) {
                    unchanged.insert(order_id.to_owned());
                }
            }
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        let to_read: Vec<OpenOrder> = open
            .iter()
            .filter(|o| !unchanged.contains(&o.id))
            .cloned()
            .collect();
        self.one_by_one(&to_read, report).await
    }

    fn room(&self, heavy: bool) -> bool {
        self.parts
            .rate_limiters
            .try_acquire_read_back(&self.row.public.id, heavy)
    }

    /// Keeps HubRise's state of an order this device already has (new orders come through
    /// events and the catch-up, which also queue their `received`), and tells the host.
    fn apply(&self, json: &Value, report: &mut CycleReport) -> Result<()> {
        let Some(order_id) = json.get("id").and_then(Value::as_str) else {
            return Ok(());
        };
        let location = self.row.public.location_id.as_str();
        let stored = self.parts.store.write(|tx| {
            if orders::hubrise_status(tx, location, order_id)?.is_none() {
                return Ok(orders::Stored::Unchanged);
            }
            orders::upsert(tx, &self.row.public.id, location, json)
        })?;
        if stored == orders::Stored::Changed {
            report.updated += 1;
            let order = self
                .parts
                .store
                .read(|c| orders::get(c, &self.row.pos_account_id, order_id))?
                .ok_or_else(|| Error::internal("stored order not found"))?;
            self.parts
                .events
                .emit(PasserelleEvent::OrderUpdated { order });
        }
        Ok(())
    }
}
