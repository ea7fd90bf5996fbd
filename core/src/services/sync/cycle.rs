//! One sync cycle of one connection: make sure the passive callback listens, catch up once when
//! asked, apply every pending event exactly once, then push the outbox in order.
//!
//! Exactly once: an event's id and its order are committed in one transaction (durably), and
//! only then is the event deleted at HubRise. A crash before the commit leaves the event at
//! HubRise (it comes back); after the commit, the event is recognised and only deleted.

use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::Mutex;

use super::SyncParts;
use super::backoff;
use crate::clients::hubrise::api::EventRef;
use crate::error::{Error, Result, Service};
use crate::events::PasserelleEvent;
use crate::failpoint;
use crate::model::connection::ConnectionState;
use crate::model::order::{Order, OrderStatus};
use crate::secrets::Secret;
use crate::store::connections::{self, ConnectionRow};
use crate::store::orders::{self, Stored};
use crate::store::outbox::{self, Kind};
use crate::time::{iso8601, now_ms};

/// Sync of one connection, parts by its worker and `sync_now`.
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
    pub async fn run(&self, parts: &SyncParts) -> Result<Option<CycleReport>> {
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
            sync: self,
            parts,
            row: &row,
            token: &token,
        };
        let mut report = CycleReport::default();
        cx.ensure_callback().await?;
        cx.drain_events(&mut report).await?;
        cx.push_outbox(&mut report).await?;
        // Last: a heavy query that must not hold up the events and the outbox if it fails.
        cx.catch_up(&mut report).await?;
        // Issue 15 hook (decision 22): read back what no event brings: the open orders' status
        // (sibling tills, changes missed while refused) and the names, within the refresh budget.
        super::refresh::run(parts, &row, &token, &mut report).await?;
        parts
            .store
            .write(|tx| connections::record_success(tx, &self.connection_id))?;
        Ok(Some(report))
    }
}

struct Cycle<'a> {
    sync: &'a ConnectionSync,
    parts: &'a SyncParts,
    row: &'a ConnectionRow,
    token: &'a Secret,
}

impl Cycle<'_> {
    /// Waits until the connection's rate windows allow one more request.
    async fn ready(&self, heavy: bool) {
        self.parts
            .rate_limiters
            .acquire(&self.sync.connection_id, heavy)
            .await;
    }

    fn id(&self) -> &str {
        &self.row.public.id
    }

    fn location(&self) -> &str {
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
        let after = iso8601(from_ms)?;
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
                    .write(|tx| self.store_order_or_skip(tx, json, "catch-up"))?;
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

    /// Every page of pending events, each applied once.
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
            let json = match (&event.order_id, event.resource_type.as_str()) {
                (Some(order_id), "order") => {
                    self.ready(false).await;
                    self.parts.hubrise.order(self.token, order_id).await?
                }
                _ => None,
            };
            let stored = self.parts.store.write(|tx| {
                if !orders::record_event(tx, self.id(), &event.id)? {
                    return Ok(Stored::AlreadyProcessed);
                }
                let stored = match &json {
                    Some(json) => self.store_order_or_skip(tx, json, &event.id)?,
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

    /// Stores the order an event brought. One HubRise sent without an id cannot be stored: the
    /// event is then recorded and deleted like the others (and logged), rather than blocking
    /// every later event of the queue.
    fn store_order_or_skip(
        &self,
        tx: &rusqlite::Connection,
        json: &Value,
        event_id: &str,
    ) -> Result<Stored> {
        match self.store_order(tx, json) {
            Err(Error::MalformedBody { reason, .. }) => {
                tracing::error!(target: "passerelle::sync", event = %event_id, %reason, "unusable order skipped");
                Ok(Stored::Unchanged)
            }
            other => other,
        }
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

    /// Tells the host about a new or changed order.
    fn announce(&self, stored: Stored, json: &Value, report: &mut CycleReport) -> Result<()> {
        let Some(order_id) = json.get("id").and_then(Value::as_str) else {
            return Ok(());
        };
        let event = match stored {
            Stored::Inserted => {
                report.received += 1;
                PasserelleEvent::OrderReceived {
                    order: self.order(order_id)?,
                }
            }
            Stored::Changed => {
                report.updated += 1;
                PasserelleEvent::OrderUpdated {
                    order: self.order(order_id)?,
                }
            }
            Stored::Unchanged | Stored::AlreadyProcessed => return Ok(()),
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

    /// Pushes due outbox entries in order; stops at the first one that must wait.
    async fn push_outbox(&self, report: &mut CycleReport) -> Result<()> {
        while let Some(entry) = self.parts.store.read(|c| outbox::next_due(c, self.id()))? {
            match self.push(&entry).await {
                Ok(pushed) => report.pushed += u32::from(pushed),
                Err(err) if err.is_retryable() => {
                    let next = now_ms() + millis(backoff::delay(entry.attempts));
                    let reason = err.to_public().to_string();
                    self.parts
                        .store
                        .write(|tx| outbox::retry_later(tx, entry.seq, next, &reason))?;
                    return Err(err);
                }
                Err(err @ Error::Unauthorized { .. }) => return Err(err),
                Err(err) => self.drop_entry(
                    &entry,
                    &format!("HubRise refused the change: {}", err.to_public()),
                )?,
            }
        }
        Ok(())
    }

    /// Sends one entry; `false` when it was dropped instead (HubRise's state wins).
    async fn push(&self, entry: &outbox::Entry) -> Result<bool> {
        let current = match entry.kind {
            // The order was just fetched: its stored status is HubRise's.
            Kind::Received => self
                .parts
                .store
                .read(|c| orders::hubrise_status(c, self.location(), &entry.order_id))?,
            // A change from the till: look at HubRise's state first (design D9).
            Kind::Till => {
                self.ready(false).await;
                let json = self
                    .parts
                    .hubrise
                    .order(self.token, &entry.order_id)
                    .await?;
                if let Some(json) = &json {
                    let stored = self
                        .parts
                        .store
                        .write(|tx| orders::upsert(tx, self.id(), self.location(), json))?;
                    self.announce(stored, json, &mut CycleReport::default())?;
                }
                json.and_then(|j| {
                    j.get("status")
                        .and_then(Value::as_str)
                        .map(OrderStatus::parse)
                })
            }
        };
        if let Some(reason) = conflict(entry, current) {
            self.drop_entry(entry, &reason)?;
            return Ok(false);
        }
        failpoint::hit("outbox.before_push");
        self.ready(false).await;
        let json = self
            .parts
            .hubrise
            .patch_order(self.token, &entry.order_id, &entry.patch)
            .await?;
        failpoint::hit("outbox.after_push");
        // HubRise has the change: from here on nothing may turn it into a "dropped" conflict.
        let stored = self.parts.store.write(|tx| {
            outbox::finish(tx, entry.seq, None)?;
            self.store_order_or_skip(tx, &json, "the PATCH answer")
        })?;
        self.announce(stored, &json, &mut CycleReport::default())?;
        Ok(true)
    }

    fn drop_entry(&self, entry: &outbox::Entry, reason: &str) -> Result<()> {
        self.parts
            .store
            .write(|tx| outbox::finish(tx, entry.seq, Some(reason)))?;
        if entry.kind == Kind::Till {
            tracing::warn!(target: "passerelle::sync", order = %entry.order_id, "change from the till dropped");
            self.parts.events.emit(PasserelleEvent::OrderConflict {
                order_id: entry.order_id.clone(),
                reason: reason.to_owned(),
            });
        }
        Ok(())
    }
}

/// Why an entry must not be sent given HubRise's current status, if it must not.
fn conflict(entry: &outbox::Entry, current: Option<OrderStatus>) -> Option<String> {
    let Some(current) = current else {
        return Some("the order no longer exists at HubRise".into());
    };
    match entry.kind {
        Kind::Received if current != OrderStatus::New => Some("already past new".into()),
        Kind::Till if current.is_terminal_anomaly() => {
            let wanted = entry
                .patch
                .get("status")
                .and_then(Value::as_str)
                .map(OrderStatus::parse);
            (wanted != Some(current)).then(|| {
                format!(
                    "the order is {} at HubRise",
                    current.as_str().unwrap_or("closed")
                )
            })
        }
        _ => None,
    }
}

fn millis(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
