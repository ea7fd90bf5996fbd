//! Pulling from HubRise, the first steps of a cycle: make sure the passive callback listens,
//! apply every pending event exactly once, and (after the outbox) catch up once when asked.
//!
//! Exactly once: an event's id and its order are committed in one transaction (durably), and
//! only then is the event deleted at HubRise. A crash before the commit leaves the event at
//! HubRise (it comes back); after the commit, the event is recognised and only deleted.
//!
//! Isolation (design D20): HubRise's answer about one order alone (its own 4xx, a body that does
//! not decode) is counted against that event's budget and the queue moves on; past the budget
//! the event is quarantined with what is known, and retried later (`quarantine_retry.rs`). An
//! outage (a 5xx, a timeout, no answer) condemns nothing: the event stays at HubRise, the queue
//! moves on, and after a few in a row the rest waits for the next cycle, which the health shows
//! as delayed. A failure that concerns the connection (a rate limit, a refused token, the
//! device's storage) ends the cycle and counts against no event.

use serde_json::Value;

use super::cycle::{Cycle, CycleReport, concerns_one_order, is_outage, millis};
use crate::clients::hubrise::api::EventRef;
use crate::error::{Error, Result};
use crate::failpoint;
use crate::model::order::OrderHead;
use crate::store::connections;
use crate::store::orders::{self, Stored};
use crate::store::quarantine::{self, EventFailures};
use crate::time::{iso8601, now_ms};

/// An event is quarantined after failing in this many cycles...
const EVENT_ATTEMPTS: u32 = 5;
/// ...spread over at least this many poll intervals (two minutes against HubRise), so a burst of
/// early retries (foreground, network back) cannot use up its budget in seconds.
const EVENT_BUDGET_INTERVALS: u32 = 4;
/// After this many outages in a row while fetching orders, the rest of the events wait for the
/// next cycle: the route is down, and each try would cost a request (or a timeout) for nothing.
/// A single order whose route fails stops nothing: the next event's success resets the count.
const OUTAGE_STREAK: u32 = 3;
/// Catch-up windows reach this far before the time they start from: clocks differ and storage is
/// idempotent, so overlapping costs nothing.
const CATCH_UP_MARGIN_MS: i64 = 5 * 60 * 1000;

/// What became of one entry of the catch-up's list.
enum Caught {
    Done,
    /// An outage kept its order from being read: the catch-up is done again next cycle.
    Outage(Error),
}

/// What became of an event's order ([`Cycle::take_event`]).
pub(super) enum Taken {
    /// Stored and announced (or nothing to store, or taken before).
    Stored,
    /// HubRise's answer for this order could not be used: `raw` is what it sent.
    Unreadable { raw: String, reason: String },
    /// An outage kept the order from being fetched.
    Outage(Error),
}

enum Applied {
    /// Stored, set aside or counted against its budget; the queue moves on.
    Done,
    /// Left at HubRise: an outage kept its order from being fetched.
    Outage(Error),
}

/// An order as fetched for an event.
enum Fetched {
    /// The event names no order, or HubRise no longer has it.
    Nothing,
    /// The order could not be fetched for a reason every order shares: the event stays.
    Outage(Error),
    Order(Value),
    /// HubRise answered something that is not an order's JSON; kept for the quarantine.
    Unreadable {
        raw: String,
        reason: String,
    },
}

impl Cycle<'_> {
    /// Registers the passive callback unless `GET /callback` shows it listening (design D7).
    pub async fn ensure_callback(&self) -> Result<()> {
        if self.row.callback_registered {
            return Ok(());
        }
        self.ready(false).await;
        if !self
            .parts
            .hubrise
            .callback(self.token)
            .await?
            .listens_to_orders()
        {
            self.ready(false).await;
            self.parts
                .hubrise
                .register_passive_callback(self.token)
                .await?;
        }
        self.parts
            .store
            .write(|tx| connections::set_callback_registered(tx, self.id(), true))
    }

    /// One catch-up query, on first activation and after a reconnect: orders created while no
    /// event could reach us. A heavy query: never polled. A list entry is only a hint (HubRise
    /// does not promise it holds the whole order): an order this device does not hold yet is read
    /// on its own before it is stored or announced, and one it holds is left to the events and
    /// the read-back, so a list entry never writes over a fuller copy. An outage leaves the
    /// catch-up to do again at the next cycle.
    pub async fn catch_up(&self, report: &mut CycleReport) -> Result<()> {
        let Some(from_ms) = self.row.catch_up_from else {
            return Ok(());
        };
        let after = iso8601(from_ms - CATCH_UP_MARGIN_MS)?;
        let mut cursor = None;
        loop {
            self.ready(true).await;
            let page = self
                .parts
                .hubrise
                .orders_after(self.token, &after, cursor.as_deref())
                .await?;
            for entry in &page.items {
                if let Caught::Outage(err) = self.catch_up_one(entry, report).await? {
                    self.met_outage(err);
                    return Ok(());
                }
            }
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        self.parts
            .store
            .write(|tx| connections::finish_catch_up(tx, self.id()))
    }

    /// One entry of the catch-up's list.
    async fn catch_up_one(&self, entry: &Value, report: &mut CycleReport) -> Result<Caught> {
        let Some(head) = OrderHead::decode(entry) else {
            // No usable id: nothing to read on its own; set aside with what HubRise listed.
            let stored = self
                .parts
                .store
                .write(|tx| self.store_or_quarantine(tx, entry, None))?;
            self.announce(stored, entry, report)?;
            return Ok(Caught::Done);
        };
        if self.holds(&head.id)? {
            return Ok(Caught::Done);
        }
        match self.read_unheld(&head.id, report).await? {
            Some(err) => Ok(Caught::Outage(err)),
            None => Ok(Caught::Done),
        }
    }

    /// Whether this device holds the order.
    pub fn holds(&self, order_id: &str) -> Result<bool> {
        Ok(self
            .parts
            .store
            .read(|c| orders::hubrise_status(c, self.location(), order_id))?
            .is_some())
    }

    /// Reads an order this device does not hold, on its own, and stores and announces it (or
    /// sets it aside when it cannot be read); the outage that kept it from being read, if one
    /// did.
    pub async fn read_unheld(
        &self,
        order_id: &str,
        report: &mut CycleReport,
    ) -> Result<Option<Error>> {
        match self.fetch_order(order_id).await? {
            Fetched::Nothing => {}
            Fetched::Order(json) => {
                let stored = self
                    .parts
                    .store
                    .write(|tx| self.store_or_quarantine(tx, &json, None))?;
                self.announce(stored, &json, report)?;
            }
            Fetched::Outage(err) => return Ok(Some(err)),
            Fetched::Unreadable { raw, reason } => self.set_aside(order_id, &reason, &raw)?,
        }
        Ok(None)
    }

    /// Sets aside an order the catch-up found but cannot read: retried like any quarantined
    /// order, and the host told.
    fn set_aside(&self, order_id: &str, reason: &str, raw: &str) -> Result<()> {
        let item = quarantine::NewItem {
            connection_id: self.id(),
            kind: quarantine::Kind::Order,
            event_id: None,
            order_id: Some(order_id),
            reason,
            raw: Some(raw).filter(|r| !r.is_empty()),
            failures: EventFailures {
                attempts: 1,
                first_failed_at: now_ms(),
            },
            retry_at: Some(now_ms() + millis(self.first_retry_wait())),
        };
        self.parts.store.write(|tx| quarantine::insert(tx, &item))?;
        self.quarantined()
    }

    /// Every page of pending events, each applied once; one event's trouble never stops the
    /// others.
    pub async fn drain_events(&self, report: &mut CycleReport) -> Result<()> {
        let mut cursor = None;
        let mut outages_in_a_row = 0;
        loop {
            self.ready(false).await;
            let page = self
                .parts
                .hubrise
                .events(self.token, cursor.as_deref())
                .await?;
            for event in &page.items {
                if outages_in_a_row >= OUTAGE_STREAK {
                    return Ok(());
                }
                match self.apply_event(event, report).await? {
                    Applied::Done => outages_in_a_row = 0,
                    Applied::Outage(err) => {
                        outages_in_a_row += 1;
                        self.met_outage(err);
                    }
                }
            }
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(()),
            }
        }
    }

    async fn apply_event(&self, event: &EventRef, report: &mut CycleReport) -> Result<Applied> {
        match self.take_event(event, report).await? {
            Taken::Stored => {}
            Taken::Unreadable { raw, reason } => {
                self.event_failed(event, &reason, Some(&raw)).await?;
                return Ok(Applied::Done);
            }
            Taken::Outage(err) => return Ok(Applied::Outage(err)),
        }
        self.delete_event(event).await?;
        Ok(Applied::Done)
    }

    /// Stores the order `event` names and tells the host, once: an event already processed is
    /// skipped, and the order is stored by its id (design D8). The way of an event from
    /// HubRise's queue and from the POS backend's stream alike; what then becomes of the event
    /// is the caller's.
    pub async fn take_event(&self, event: &EventRef, report: &mut CycleReport) -> Result<Taken> {
        let done = self
            .parts
            .store
            .read(|c| orders::is_processed(c, self.id(), &event.id))?;
        if done {
            return Ok(Taken::Stored);
        }
        let json = match self.fetch(event).await? {
            Fetched::Nothing => None,
            Fetched::Order(json) => Some(json),
            Fetched::Outage(err) => return Ok(Taken::Outage(err)),
            Fetched::Unreadable { raw, reason } => return Ok(Taken::Unreadable { raw, reason }),
        };
        let stored = self.parts.store.write(|tx| {
            if !orders::record_event(tx, self.id(), &event.id)? {
                return Ok(Stored::AlreadyProcessed);
            }
            quarantine::clear_event_failures(tx, self.id(), &event.id)?;
            let stored = match &json {
                Some(json) => self.store_or_quarantine(tx, json, Some(event))?,
                None => Stored::Unchanged,
            };
            failpoint::hit("sync.before_commit");
            Ok(stored)
        })?;
        failpoint::hit("sync.after_commit");
        if let Some(json) = &json {
            self.announce(stored, json, report)?;
        }
        Ok(Taken::Stored)
    }

    /// Deletes an event whose order is durably stored. HubRise failing to delete it holds back
    /// nothing: it is recorded as processed, so it is only deleted again when it comes back.
    async fn delete_event(&self, event: &EventRef) -> Result<()> {
        self.ready(false).await;
        match self.parts.hubrise.delete_event(self.token, &event.id).await {
            Err(Error::Server { status, .. }) => {
                tracing::warn!(target: "passerelle::sync", connection = %self.id(), event = %event.id, status, "event not deleted; it will be deleted when it comes back");
                Ok(())
            }
            other => other,
        }
    }

    /// The order an event names. A failure that concerns this order alone (an error status for
    /// it, a body that is not its JSON, a body too large) counts against the event's budget and
    /// returns `Unreadable`; one that concerns the connection is returned as an error.
    async fn fetch(&self, event: &EventRef) -> Result<Fetched> {
        let (Some(order_id), "order") = (&event.order_id, event.resource_type.as_str()) else {
            return Ok(Fetched::Nothing);
        };
        self.fetch_order(order_id).await
    }

    /// The order `order_id` read on its own, sorted as [`Cycle::fetch`] says.
    async fn fetch_order(&self, order_id: &str) -> Result<Fetched> {
        self.ready(false).await;
        let body = match self.parts.hubrise.order_body(self.token, order_id).await {
            Ok(Some(body)) => body,
            Ok(None) => return Ok(Fetched::Nothing),
            Err(err) if is_outage(&err) => return Ok(Fetched::Outage(err)),
            Err(err) if concerns_one_order(&err) => {
                return Ok(Fetched::Unreadable {
                    raw: String::new(),
                    reason: err.to_public().to_string(),
                });
            }
            Err(err) => return Err(err),
        };
        match serde_json::from_slice::<Value>(&body) {
            Ok(json) if json.is_object() => {
                self.read_whole(order_id);
                Ok(Fetched::Order(json))
            }
            Ok(_) | Err(_) => Ok(Fetched::Unreadable {
                raw: String::from_utf8_lossy(&body).into_owned(),
                reason: "HubRise's answer is not an order's JSON".into(),
            }),
        }
    }

    /// Counts a failure against the event's budget; past it, the event is quarantined with what
    /// is known, the host is told, and the event is deleted at HubRise so the queue moves on.
    async fn event_failed(&self, event: &EventRef, reason: &str, raw: Option<&str>) -> Result<()> {
        self.parts.follow_wall_clock()?;
        let order_id = event.order_id.as_deref();
        let failures = self.parts.store.write(|tx| {
            quarantine::record_event_failure(tx, self.id(), &event.id, order_id, reason)
        })?;
        tracing::warn!(target: "passerelle::sync", connection = %self.id(), event = %event.id, attempt = failures.attempts, "event failed");
        if !self.over_budget(&failures) {
            return Ok(());
        }
        let item = quarantine::NewItem {
            connection_id: self.id(),
            kind: quarantine::Kind::Event,
            event_id: Some(&event.id),
            order_id,
            reason,
            raw: raw.filter(|r| !r.is_empty()),
            failures,
            retry_at: Some(now_ms() + millis(self.first_retry_wait())),
        };
        self.parts.store.write(|tx| {
            orders::record_event(tx, self.id(), &event.id)?;
            quarantine::clear_event_failures(tx, self.id(), &event.id)?;
            quarantine::insert(tx, &item)
        })?;
        self.quarantined()?;
        self.delete_event(event).await
    }

    fn over_budget(&self, failures: &EventFailures) -> bool {
        let interval_ms =
            i64::from(self.parts.active.settings().poll_interval_secs).saturating_mul(1000);
        let span = now_ms() - failures.first_failed_at;
        failures.attempts >= EVENT_ATTEMPTS
            && span >= interval_ms.saturating_mul(i64::from(EVENT_BUDGET_INTERVALS))
    }
}
