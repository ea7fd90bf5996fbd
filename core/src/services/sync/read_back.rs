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
//! this device knows since then, plus one `GET` for each open order the listing shows changed
//! (rare): with the usual handful of open orders, one request per poll interval (at 30 s: 120 an
//! hour, 2,880 a day at most, none without open orders). A read-back lists at most
//! [`MAX_LIST_PAGES`] pages; a longer listing goes on at the next read-back from where it stopped
//! (`listing_pass.rs`), so 1,000 open orders cost 3 pages an interval, never 700 single reads.
//! Orders the cycle read whole are not read again. Names cost three requests (one heavy) per open
//! or restart. Every read
//! spends the read-back budget of the connection's rate windows (`RateLimiters::
//! try_acquire_read_back`: 30 % of each of HubRise's windows, half of its heavy queries) and never
//! waits: a read that does not fit is left for the next cycle, so events and the outbox never
//! wait behind it.

use std::collections::HashSet;

use serde_json::Value;

use super::cycle::{CycleReport, SyncParts};
use super::listing_pass::ListingPass;
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
/// `read_whole` are the orders the cycle already read whole: they are not read again.
pub(super) async fn run(
    parts: &SyncParts,
    row: &ConnectionRow,
    token: &Secret,
    read_whole: &HashSet<String>,
    report: &mut CycleReport,
) -> Result<()> {
    let outcome = async {
        names(parts, row, token).await?;
        status(parts, row, token, read_whole, report).await
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
    read_whole: &HashSet<String>,
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
    // A walk through the listing left by an earlier read-back is taken out here: an error drops
    // it, and the next read-back lists from the start.
    let walk = parts
        .locks(id)
        .listing
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
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
    let read = Read {
        parts,
        row,
        token,
        read_whole,
    };
    let ids: Vec<&str> = open.iter().map(|o| o.id.as_str()).collect();
    let outcome = match walk {
        Some(walk) => read.by_listing(walk, &open, report).await?,
        None if ids.len() as u64 <= pages.min(MAX_LIST_PAGES) => {
            read.one_by_one(&ids, report).await?
        }
        None => {
            let walk = ListingPass::new(iso8601(oldest.created_at_ms)?, ids.iter().copied());
            read.by_listing(walk, &open, report).await?
        }
    };
    // Cut short by its budget: statuses set elsewhere show later, and health says so.
    parts
        .health
        .set_slowed(id, DelayReason::Budget, outcome == Outcome::OutOfBudget);
    parts
        .store
        .write(|tx| connection_reads::read_back_done(tx, id, outcome == Outcome::Done))
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
    let read = Read {
        parts,
        row,
        token,
        read_whole: &HashSet::new(),
    };
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

/// How far a read-back went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Every open order's status was read.
    Done,
    /// The walk through the listing goes on at the next cycle.
    Continues,
    /// The read-back budget ran out: the rest waits for the next cycle.
    OutOfBudget,
}

struct Read<'a> {
    parts: &'a SyncParts,
    row: &'a ConnectionRow,
    token: &'a Secret,
    read_whole: &'a HashSet<String>,
}

impl Read<'_> {
    /// `GET /location/orders/:id` for each of `ids` not read whole in this cycle, while the
    /// budget lasts.
    async fn one_by_one(&self, ids: &[&str], report: &mut CycleReport) -> Result<Outcome> {
        for &order_id in ids {
            if self.read_whole.contains(order_id) {
                continue;
            }
            if !self.room(false) {
                return Ok(Outcome::OutOfBudget);
            }
            if let Some(json) = self.parts.hubrise.order(self.token, order_id).await? {
                self.apply(&json, report)?;
            }
        }
        Ok(Outcome::Done)
    }

    /// Up to [`MAX_LIST_PAGES`] pages of `GET /location/orders?after=`, from where `walk` stopped,
    /// as a cheap look at the statuses: an order listed with another status than the stored one
    /// is read on its own (a listing's representation of an order is not promised to be the whole
    /// order, so it never replaces the stored one). Once the listing ends, the open orders it was
    /// expected to show and did not are read on their own too. A walk not ended is kept for the
    /// next read-back.
    async fn by_listing(
        &self,
        mut walk: ListingPass,
        open: &[OpenOrder],
        report: &mut CycleReport,
    ) -> Result<Outcome> {
        let mut changed = Vec::new();
        let mut ended = false;
        let mut out_of_budget = false;
        for _ in 0..MAX_LIST_PAGES {
            if !self.room(true) {
                out_of_budget = true;
                break;
            }
            let page = self
                .parts
                .hubrise
                .orders_after(self.token, &walk.after, walk.cursor.as_deref())
                .await?;
            for json in &page.items {
                if let Some(order_id) = self.listed_changed(json, &mut walk)? {
                    changed.push(order_id);
                }
            }
            walk.cursor = page.next_cursor;
            if walk.cursor.is_none() {
                ended = true;
                break;
            }
        }
        let changed: Vec<&str> = changed.iter().map(String::as_str).collect();
        if self.one_by_one(&changed, report).await? == Outcome::OutOfBudget {
            out_of_budget = true;
            if ended {
                // The walk is over: the next one lists these pages again.
                return Ok(Outcome::OutOfBudget);
            }
            // Not seen after all: the walk's end reads those it expected.
            for order_id in &changed {
                walk.seen.remove(*order_id);
            }
        }
        if !ended {
            let listing = &self.parts.locks(&self.row.public.id).listing;
            *listing.lock().unwrap_or_else(|p| p.into_inner()) = Some(walk);
            return Ok(if out_of_budget {
                Outcome::OutOfBudget
            } else {
                Outcome::Continues
            });
        }
        let still_open: HashSet<&str> = open.iter().map(|o| o.id.as_str()).collect();
        let unseen: Vec<&str> = walk.unseen().filter(|id| still_open.contains(id)).collect();
        self.one_by_one(&unseen, report).await
    }

    /// Notes a listed order as seen; returns its id when its listed status is not the stored one.
    fn listed_changed(&self, json: &Value, walk: &mut ListingPass) -> Result<Option<String>> {
        let (Some(order_id), Some(status)) = (
            json.get("id").and_then(Value::as_str),
            json.get("status").and_then(Value::as_str),
        ) else {
            return Ok(None);
        };
        walk.seen.insert(order_id.to_owned());
        let location = self.row.public.location_id.as_str();
        let stored = self
            .parts
            .store
            .read(|c| orders::hubrise_status(c, location, order_id))?;
        Ok(stored
            .filter(|stored| *stored != OrderStatus::parse(status))
            .map(|_| order_id.to_owned()))
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
