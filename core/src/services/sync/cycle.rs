//! One sync cycle of one connection: make sure the passive callback listens, apply every pending
//! event exactly once, push the outbox (`push.rs`), then catch up once when asked.
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

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::Mutex;

use super::SyncParts;
use crate::clients::hubrise::api::EventRef;
use crate::error::{Error, Result, Service};
use crate::events::PasserelleEvent;
use crate::failpoint;
use crate::model::connection::ConnectionState;
use crate::model::order::{Order, OrderHead};
use crate::secrets::Secret;
use crate::store::connections::{self, ConnectionRow};
use crate::store::orders::{self, Stored};
use crate::store::outbox::{self, Kind};
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

/// What a cycle does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Callback, events, outbox, catch-up.
    Full,
    /// The outbox only: a change from the till goes out at once without polling events sooner
    /// than the interval.
    OutboxOnly,
}

/// Sync of one connection, shared by its worker and `sync_now`.
pub struct ConnectionSync {
    pub connection_id: String,
    /// Held for the whole cycle (see `SyncParts::cycle_locks`).
    cycle_lock: Arc<Mutex<()>>,
}

/// What a cycle did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CycleReport {
    pub received: u32,
    pub updated: u32,
    pub pushed: u32,
}

impl CycleReport {
    pub fn add(&mut self, other: Self) {
        self.received += other.received;
        self.updated += other.updated;
        self.pushed += other.pushed;
    }
}

impl ConnectionSync {
    pub fn new(connection_id: String, cycle_lock: Arc<Mutex<()>>) -> Self {
        Self {
            connection_id,
            cycle_lock,
        }
    }

    /// Runs one cycle; `None` when the connection no longer syncs (disconnected, removed, waiting
    /// for a reconnect), checked under the cycle lock. Errors stop the cycle where it is;
    /// everything done so far is kept.
    pub async fn run(&self, parts: &SyncParts, scope: Scope) -> Result<Option<CycleReport>> {
        let _cycle = self.cycle_lock.lock().await;
        let row = parts
            .store
            .read(|c| connections::get(c, &self.connection_id))?;
        if row.public.state != ConnectionState::Active || row.public.reconnect_needed {
            return Ok(None);
        }
        let token = parts
            .secrets
            .get(&row.secret_key)?
            .ok_or_else(|| Error::Unauthorized {
                service: Service::HubriseApi,
                reason: "no token on this device".into(),
            })?;
        let cx = Cycle {
            parts,
            row: &row,
            token: &token,
        };
        let mut report = CycleReport::default();
        if scope == Scope::Full {
            cx.ensure_callback().await?;
            cx.drain_events(&mut report).await?;
        }
        cx.push_outbox(&mut report).await?;
        if scope == Scope::Full {
            // Last: a heavy query that must not hold up the events and the outbox if it fails.
            cx.catch_up(&mut report).await?;
            // Read back what no event brings (design D22 of issue 15): the open orders' status
            // (sibling tills, changes missed while refused) and the names, within the budget.
            super::refresh::run(parts, &row, &token, &mut report).await?;
        }
        parts
            .store
            .write(|tx| connections::record_success(tx, &self.connection_id))?;
        Ok(Some(report))
    }
}

pub(super) struct Cycle<'a> {
    pub parts: &'a SyncParts,
    pub row: &'a ConnectionRow,
    pub token: &'a Secret,
}

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
    /// Waits until the connection's rate windows allow one more request.
    pub async fn ready(&self, heavy: bool) {
        self.parts.rate_limiters.acquire(self.id(), heavy).await;
    }

    pub fn id(&self) -> &str {
        &self.row.public.id
    }

    pub fn location(&self) -> &str {
        &self.row.public.location_id
    }

    /// Registers the passive callback unless `GET /callback` shows it listening (design D7).
    async fn ensure_callback(&self) -> Result<()> {
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
    async fn catch_up(&self, report: &mut CycleReport) -> Result<()> {
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
    async fn drain_events(&self, report: &mut CycleReport) -> Result<()> {
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

    /// Tells the host the newest item set aside, and updates the health.
    fn quarantined(&self) -> Result<()> {
        let newest = self
            .parts
            .store
            .read(|c| quarantine::list(c, self.id()))?
            .into_iter()
            .next();
        if let Some(item) = newest {
            tracing::error!(target: "passerelle::sync", connection = %self.id(), "item quarantined");
            self.parts
                .events
                .emit(PasserelleEvent::ItemQuarantined { item });
        }
        self.parts.health.changed();
        Ok(())
    }

    /// Stores an order as HubRise sent it; one that cannot be identified (no usable id) is
    /// quarantined with its body instead, in the same transaction, so nothing is lost silently.
    pub fn store_or_quarantine(
        &self,
        tx: &rusqlite::Connection,
        json: &Value,
        event: Option<&EventRef>,
    ) -> Result<Stored> {
        if OrderHead::decode(json).is_none() {
            let raw = json.to_string();
            quarantine::insert(
                tx,
                &quarantine::NewItem {
                    connection_id: self.id(),
                    kind: quarantine::Kind::Order,
                    event_id: event.map(|e| e.id.as_str()),
                    order_id: event.and_then(|e| e.order_id.as_deref()),
                    reason: "HubRise sent an order without an id",
                    raw: Some(&raw),
                    failures: EventFailures {
                        attempts: 1,
                        first_failed_at: now_ms(),
                    },
                },
            )?;
            return Ok(Stored::Quarantined);
        }
        self.store_order(tx, json)
    }

    /// Stores an order; a new one still `new` at HubRise is queued to be marked `received`.
    fn store_order(&self, tx: &rusqlite::Connection, json: &Value) -> Result<Stored> {
        let stored = orders::upsert(tx, self.id(), self.location(), json)?;
        let is_new_at_hubrise = json.get("status").and_then(Value::as_str) == Some("new");
        let order_id = json.get("id").and_then(Value::as_str);
        if let (Stored::Inserted, true, Some(order_id)) = (stored, is_new_at_hubrise, order_id) {
            let received = json!({"status": "received"});
            outbox::enqueue(tx, self.id(), order_id, Kind::Received, &received, None)?;
        }
        Ok(stored)
    }

    /// Tells the host about a new or changed order, or an order set aside.
    pub fn announce(&self, stored: Stored, json: &Value, report: &mut CycleReport) -> Result<()> {
        if stored == Stored::Quarantined {
            return self.quarantined();
        }
        let Some(head) = OrderHead::decode(json) else {
            return Ok(());
        };
        let event = match stored {
            Stored::Inserted => {
                report.received += 1;
                PasserelleEvent::OrderReceived {
                    order: self.order(&head.id)?,
                }
            }
            Stored::Changed => {
                report.updated += 1;
                PasserelleEvent::OrderUpdated {
                    order: self.order(&head.id)?,
                }
            }
            Stored::Unchanged | Stored::AlreadyProcessed | Stored::Quarantined => return Ok(()),
        };
        self.parts.events.emit(event);
        Ok(())
    }

    fn order(&self, order_id: &str) -> Result<Order> {
        self.parts
            .store
            .read(|c| orders::get(c, &self.row.pos_account_id, order_id))?
            .ok_or_else(|| Error::internal("stored order not found"))
    }
}

/// Whether a failure concerns one order (its status, its body) rather than the connection.
pub fn concerns_one_order(err: &Error) -> bool {
    matches!(
        err,
        Error::Server { .. } | Error::MalformedBody { .. } | Error::BodyTooLarge { .. }
    )
}

pub fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
