//! Sync of one connection, shared by its worker, its pusher and `sync_now`, in two lanes that
//! never wait for each other:
//! - intake, under the connection's cycle lock: the callback and the pending events
//!   (`pull.rs`), the outbox, the quarantined orders' retries, the catch-up (`pull.rs`), then
//!   the read-back (`read_back.rs`);
//! - the till's changes, under no lock (`push.rs`): an accept reaches HubRise while a backlog
//!   drains, while the events route fails, while one event's DELETE keeps failing.
//!
//! The cycle's own push step sends changes too (one retried later is never forgotten). Each lane
//! claims the orders it sends (`ConnectionLocks::sending`), so no change is ever sent by both
//! lanes at once and neither waits for the other's slow answer.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::cycle::{ConnectionLocks, Cycle, CycleReport, SyncParts};
use super::pull::Taken;
use super::quarantine_retry::Tried;
use super::read_back;
use crate::clients::hubrise::api::EventRef;
use crate::error::{Error, Result, Service};
use crate::logging;
use crate::model::connection::ConnectionState;
use crate::secrets::Secret;
use crate::store::connections::{self, ConnectionRow};
use crate::store::{connection_reads, orders, outbox, quarantine};
use crate::time::now_ms;

/// Sync of one connection.
pub struct ConnectionSync {
    pub connection_id: String,
    locks: Arc<ConnectionLocks>,
}

impl ConnectionSync {
    pub fn new(parts: &SyncParts, connection_id: &str) -> Self {
        Self {
            connection_id: connection_id.to_owned(),
            locks: parts.locks(connection_id),
        }
    }

    /// Runs one intake cycle; `None` when the connection no longer syncs (disconnected,
    /// removed, waiting for a reconnect), checked under the cycle lock. A failure of the
    /// connection stops the cycle where it is; everything done so far is kept. An outage a step
    /// stepped around (orders left at HubRise) is returned once every step ran.
    pub async fn run(&self, parts: &SyncParts) -> Result<Option<CycleReport>> {
        let _cycle = self.locks.cycle.lock().await;
        let Some((row, token)) = self.syncing(parts)? else {
            return Ok(None);
        };
        let cx = Cycle::new(parts, &row, &token);
        let mut report = CycleReport::default();
        cx.ensure_callback().await?;
        cx.drain_events(&mut report).await?;
        cx.push_outbox(&mut report, None).await?;
        cx.retry_quarantined(&mut report).await?;
        // Late: a heavy query that must not hold up the events and the outbox if it fails.
        cx.catch_up(&mut report).await?;
        // Read back what no event brings (design D22 of issue 15): the open orders' status
        // (sibling tills, changes missed while refused) and the names, within the budget.
        read_back::run(parts, &row, &token, &cx.take_read_whole(), &mut report).await?;
        if let Some(outage) = cx.take_outage() {
            // Everything else went through; the orders left at HubRise come with a later cycle.
            return Err(outage);
        }
        parts
            .store
            .write(|tx| connections::record_success(tx, &self.connection_id))?;
        Ok(Some(report))
    }

    /// Pushes the till's changes now, beside any intake cycle; `more` starts changes made
    /// meanwhile. `None` when the connection no longer syncs.
    pub async fn push(&self, parts: &SyncParts, more: &Notify) -> Result<Option<CycleReport>> {
        let Some((row, token)) = self.syncing(parts)? else {
            return Ok(None);
        };
        let mut report = CycleReport::default();
        Cycle::new(parts, &row, &token)
            .push_outbox(&mut report, Some(more))
            .await?;
        Ok(Some(report))
    }

    /// Waits until the changes the other lane is sending now are answered (or given up): after
    /// `sync_now`, every change the till made before it has had its try, whichever lane sent
    /// it. Each waits at most one request's timeout.
    pub async fn changes_answered(&self) {
        let waiting = logging::lock(&self.locks.sending).clone();
        loop {
            let released = self.locks.released.notified();
            tokio::pin!(released);
            // Registered before the look, so a release in between is not missed.
            released.as_mut().enable();
            if logging::lock(&self.locks.sending).is_disjoint(&waiting) {
                return;
            }
            released.await;
        }
    }

    /// How long until a change of this connection waiting to be tried again is due: the pusher
    /// wakes then, rather than leaving it to the next intake cycle (minutes away while the POS
    /// backend's stream brings the events).
    pub fn next_retry_in(&self, parts: &SyncParts) -> Result<Option<Duration>> {
        let now = now_ms();
        let due = parts
            .store
            .read(|c| outbox::next_retry_at(c, &self.connection_id, now))?;
        Ok(due.map(|at| Duration::from_millis(u64::try_from(at - now).unwrap_or(0))))
    }

    /// Takes an event the POS backend's stream relayed (issue 24), under the cycle lock like a
    /// cycle: its order is stored and announced once, by order id, whichever of the stream, the
    /// poll or the catch-up brings it first. Returns whether it was taken; if not, whatever the
    /// reason (an outage, an unreadable order, the connection not syncing or its token not
    /// readable), it is left to the next cycle ([`Self::leave_to_cycle`]). An error: it was
    /// neither taken nor left.
    pub async fn take_streamed(
        &self,
        parts: &SyncParts,
        event: &EventRef,
        since_ms: i64,
    ) -> Result<bool> {
        match self.take_streamed_now(parts, event).await {
            Ok(true) => return Ok(true),
            Ok(false) => {}
            Err(err) => {
                tracing::warn!(target: "passerelle::sync", connection = %self.connection_id, code = err.code(), "streamed event left to the next cycle");
            }
        }
        self.leave_to_cycle(parts, event.order_id.as_deref(), since_ms)?;
        Ok(false)
    }

    async fn take_streamed_now(&self, parts: &SyncParts, event: &EventRef) -> Result<bool> {
        let _cycle = self.locks.cycle.lock().await;
        let Some((row, token)) = self.syncing(parts)? else {
            return Ok(false);
        };
        let taken = Cycle::new(parts, &row, &token)
            .take_event(event, &mut CycleReport::default())
            .await?;
        Ok(matches!(taken, Taken::Stored))
    }

    /// A streamed event (or a sibling's change) this till did not take. The backend
    /// acknowledged it at HubRise, so no poll will bring it again: an order held here is read
    /// by the read-back, another by a catch-up (`GET /location/orders?after=`, each order read
    /// whole) from `since_ms`; the connection's next cycle runs them. An error: it is not left
    /// anywhere.
    pub fn leave_to_cycle(
        &self,
        parts: &SyncParts,
        order_id: Option<&str>,
        since_ms: i64,
    ) -> Result<()> {
        let id = self.connection_id.as_str();
        parts.store.write(|tx| {
            let location = connections::get(tx, id)?.public.location_id;
            let held = match order_id {
                Some(order_id) => orders::hubrise_status(tx, &location, order_id)?.is_some(),
                None => false,
            };
            if held {
                connection_reads::read_back_wanted(tx, id)
            } else {
                connections::request_catch_up(tx, id, since_ms)
            }
        })
    }

    /// A sibling till's change the POS backend relayed, read under the cycle lock like any
    /// cycle (`read_back::sibling_changed`). An order this till does not hold is read whole
    /// and stored: its own event did not reach this till (a gap, a take that failed), and the
    /// sibling's word is that it exists. `false`: left to the next cycle (its read-back, or a
    /// catch-up from `since_ms` for an order not held).
    pub async fn take_sibling_change(
        &self,
        parts: &SyncParts,
        order_id: &str,
        status: &str,
        since_ms: i64,
    ) -> Result<bool> {
        let _cycle = self.locks.cycle.lock().await;
        let Some((row, token)) = self.syncing(parts)? else {
            return Ok(true);
        };
        let cx = Cycle::new(parts, &row, &token);
        if cx.holds(order_id)? {
            return read_back::sibling_changed(parts, &row, &token, order_id, status).await;
        }
        let Some(outage) = cx
            .read_unheld(order_id, &mut CycleReport::default())
            .await?
        else {
            return Ok(true);
        };
        tracing::warn!(target: "passerelle::sync", connection = %self.connection_id, code = outage.code(), "order a sibling changed not read; left to the catch-up");
        self.leave_to_cycle(parts, Some(order_id), since_ms)?;
        Ok(false)
    }

    /// The till's retry of a quarantined item, under the cycle lock like any cycle.
    pub async fn retry_quarantined(
        &self,
        parts: &SyncParts,
        item: &quarantine::Retry,
    ) -> Result<()> {
        let _cycle = self.locks.cycle.lock().await;
        let row = parts
            .store
            .read(|c| connections::get(c, &self.connection_id))?;
        let token = token(parts, &row)?;
        let cx = Cycle::new(parts, &row, &token);
        match cx.retry(item, &mut CycleReport::default()).await? {
            Tried::Stored => Ok(()),
            Tried::StillFailing(why) => Err(why),
        }
    }

    /// The connection's row and token while it syncs; `None` once it no longer does.
    fn syncing(&self, parts: &SyncParts) -> Result<Option<(ConnectionRow, Secret)>> {
        parts.follow_wall_clock()?;
        let row = parts
            .store
            .read(|c| connections::get(c, &self.connection_id))?;
        if row.public.state != ConnectionState::Active || row.public.reconnect_needed {
            return Ok(None);
        }
        let token = token(parts, &row)?;
        Ok(Some((row, token)))
    }
}

/// The connection's HubRise token, from the secret store.
fn token(parts: &SyncParts, row: &ConnectionRow) -> Result<Secret> {
    parts
        .secrets
        .get(&row.secret_key)?
        .ok_or_else(|| Error::Unauthorized {
            service: Service::HubriseApi,
            reason: "no token on this device".into(),
        })
}
