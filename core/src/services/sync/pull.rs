//! Pulling from HubRise, the first steps of a cycle: make sure the passive callback listens,
//! apply every pending event exactly once, and (after the outbox) catch up once when asked.
//!
//! Exactly once: an event's id and its order are committed in one transaction (durably), and
//! only then is the event deleted at HubRise. A crash before the commit leaves the event at
//! HubRise (it comes back); after the commit, the event is recognised and only deleted.
//!
//! Isolation (design D20): a failure that concerns one event (its order cannot be fetched or
//! read) is counted against that event's budget and the queue moves on; past the budget the
//! event is quarantined with what is known. A failure that concerns the connection (no network,
//! a rate limit, a refused token, the device's storage) ends the cycle and counts against no
//! event.

use serde_json::Value;

use super::cycle::{Cycle, CycleReport, concerns_one_order};
use crate::clients::hubrise::api::EventRef;
use crate::error::Result;
use crate::failpoint;
use crate::store::connections;
use crate::store::orders::{self, Stored};
use crate::store::quarantine::{self, EventFailures};
use crate::time::{iso8601, now_ms};

/// An event is quarantined after failing in this many cycles...
const EVENT_ATTEMPTS: u32 = 5;
/// ...spread over at least this many poll intervals (two minutes against HubRise), so a burst of
/// early retries (foreground, network back) cannot use up its budget in seconds.
const EVENT_BUDGET_INTERVALS: u32 = 4;
/// Catch-up windows reach this far before the time they start from: clocks differ and storage is
/// idempotent, so overlapping costs nothing.
const CATCH_UP_MARGIN_MS: i64 = 5 * 60 * 1000;

/// An order as fetched for an event.
enum Fetched {
    /// The event names no order, or HubRise no longer has it.
    Nothing,
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
    /// event could reach us. A heavy query: never polled.
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
            for json in &page.items {
                let stored = self
                    .parts
                    .store
                    .write(|tx| self.store_or_quarantine(tx, json, None))?;
                self.announce(stored, json, report)?;
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

    /// Every page of pending events, each applied once; one event's trouble never stops the
    /// others.
    pub async fn drain_events(&self, report: &mut CycleReport) -> Result<()> {
        let mut cursor = None;
        loop {
            self.ready(false).await;
            let page = self
                .parts
                .hubrise
                .events(self.token, cursor.as_deref())
                .await?;
            for event in &page.items {
                self.apply_event(event, report).await?;
            }
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(()),
            }
        }
    }

    async fn apply_event(&self, event: &EventRef, report: &mut CycleReport) -> Result<()> {
        let done = self
            .parts
            .store
            .read(|c| orders::is_processed(c, self.id(), &event.id))?;
        if !done {
            let json = match self.fetch(event).await? {
                Fetched::Nothing => None,
                Fetched::Order(json) => Some(json),
                Fetched::Unreadable { raw, reason } => {
                    return self.event_failed(event, &reason, Some(&raw)).await;
                }
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
        }
        self.ready(false).await;
        self.parts.hubrise.delete_event(self.token, &event.id).await
    }

    /// The order an event names. A failure that concerns this order alone (an error status for
    /// it, a body that is not its JSON, a body too large) counts against the event's budget and
    /// returns `Unreadable`; one that concerns the connection is returned as an error.
    async fn fetch(&self, event: &EventRef) -> Result<Fetched> {
        let (Some(order_id), "order") = (&event.order_id, event.resource_type.as_str()) else {
            return Ok(Fetched::Nothing);
        };
        self.ready(false).await;
        let body = match self.parts.hubrise.order_body(self.token, order_id).await {
            Ok(Some(body)) => body,
            Ok(None) => return Ok(Fetched::Nothing),
            Err(err) if concerns_one_order(&err) => {
                return Ok(Fetched::Unreadable {
                    raw: String::new(),
                    reason: err.to_public().to_string(),
                });
            }
            Err(err) => return Err(err),
        };
        match serde_json::from_slice::<Value>(&body) {
            Ok(json) if json.is_object() => Ok(Fetched::Order(json)),
            Ok(_) | Err(_) => Ok(Fetched::Unreadable {
                raw: String::from_utf8_lossy(&body).into_owned(),
                reason: "HubRise's answer is not an order's JSON".into(),
            }),
        }
    }

    /// Counts a failure against the event's budget; past it, the event is quarantined with what
    /// is known, the host is told, and the event is deleted at HubRise so the queue moves on.
    async fn event_failed(&self, event: &EventRef, reason: &str, raw: Option<&str>) -> Result<()> {
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
        };
        self.parts.store.write(|tx| {
            orders::record_event(tx, self.id(), &event.id)?;
            quarantine::clear_event_failures(tx, self.id(), &event.id)?;
            quarantine::insert(tx, &item)
        })?;
        self.quarantined()?;
        self.ready(false).await;
        self.parts.hubrise.delete_event(self.token, &event.id).await
    }

    fn over_budget(&self, failures: &EventFailures) -> bool {
        let interval_ms =
            i64::from(self.parts.active.settings().poll_interval_secs).saturating_mul(1000);
        let span = now_ms() - failures.first_failed_at;
        failures.attempts >= EVENT_ATTEMPTS
            && span >= interval_ms.saturating_mul(i64::from(EVENT_BUDGET_INTERVALS))
    }
}
