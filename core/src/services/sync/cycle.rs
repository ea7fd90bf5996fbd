//! What one sync cycle of one connection works with: the parts the workers share
//! ([`SyncParts`]), the connection's row and token ([`Cycle`]), what the cycle did
//! ([`CycleReport`]), and the steps' common ground: storing an order as HubRise sent it (or
//! setting it aside) and telling the host. The steps themselves are `pull.rs` (callback, events,
//! catch-up), `push.rs` (the outbox) and `read_back.rs` (the read-back), run in order by
//! `connection.rs`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::{Mutex, Notify};

use super::listing_pass::ListingPass;
use super::push_channel::PushChannel;
use crate::clients::hubrise::api::{EventRef, HubriseApi};
use crate::clients::hubrise::rate_limiter::RateLimiters;
use crate::context::ActiveConfiguration;
use crate::error::{Error, Result};
use crate::events::{EventBus, PasserelleEvent};
use crate::model::health::DelayReason;
use crate::model::order::{Order, OrderHead};
use crate::secrets::{Secret, Secrets};
use crate::services::health::Health;
use crate::store::Store;
use crate::store::connections::ConnectionRow;
use crate::store::orders::{self, Stored};
use crate::store::outbox::{self, Kind};
use crate::store::quarantine::{self, EventFailures};
use crate::store::timers;
use crate::time::{WallClockWatch, now_ms};

/// What a cycle uses. Workers hold it, never the engine, so dropping the engine stops them.
pub(super) struct SyncParts {
    pub store: Arc<Store>,
    pub secrets: Secrets,
    pub events: EventBus,
    pub hubrise: HubriseApi,
    pub rate_limiters: Arc<RateLimiters>,
    pub active: Arc<ActiveConfiguration>,
    pub health: Health,
    /// Each connection's locks, whoever runs its cycles (its worker and pusher, `sync_now`, a
    /// restarted worker).
    pub locks: std::sync::Mutex<HashMap<String, Arc<ConnectionLocks>>>,
    /// Notices the wall clock being set, so that the stored timers keep their intervals.
    pub wall_clock: WallClockWatch,
    /// What the POS backend's event stream brings, and the changes to relay to siblings.
    pub push_channel: PushChannel,
}

impl SyncParts {
    /// Moves the stored timers when the wall clock was set since the last look (design D29).
    /// Every step that reads or writes a timer looks first (a look costs two clock reads), so
    /// a change in the middle of a cycle is followed before the next step counts on a timer.
    pub fn follow_wall_clock(&self) -> Result<()> {
        let followed = self.wall_clock.follow(|set_by_ms| {
            self.store
                .write(|tx| timers::follow_wall_clock(tx, set_by_ms))
        })?;
        if let Some(set_by_ms) = followed {
            tracing::warn!(target: "passerelle::sync", set_by_ms, "wall clock set: timers moved");
        }
        Ok(())
    }
}

/// What keeps one connection's work from interleaving with itself.
#[derive(Default)]
pub(super) struct ConnectionLocks {
    /// Held for a whole intake cycle: two cycles never interleave.
    pub cycle: Mutex<()>,
    /// The orders whose change a lane (the pusher, the intake cycle's push step) is sending: the
    /// other lane leaves them alone, so a change is never sent by both at once, and goes on with
    /// the other orders' changes rather than waiting for a slow answer (design D20).
    pub sending: std::sync::Mutex<HashSet<String>>,
    /// Notified when a lane releases an order it was sending.
    pub released: Notify,
    /// The read-back's walk through the listing, between the cycles that continue it (a cycle
    /// takes it and puts it back, under `cycle`).
    pub listing: std::sync::Mutex<Option<ListingPass>>,
}

impl SyncParts {
    /// The connection's locks.
    pub fn locks(&self, connection_id: &str) -> Arc<ConnectionLocks> {
        // Nothing panics while the map is held; a poisoned one is still consistent.
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.entry(connection_id.to_owned()).or_default().clone()
    }
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

/// One cycle of one connection, as its steps see it.
pub(super) struct Cycle<'a> {
    pub parts: &'a SyncParts,
    pub row: &'a ConnectionRow,
    pub token: &'a Secret,
    /// The first outage a step met and stepped around (orders left at HubRise for the next
    /// cycle): the cycle still runs its other steps, then reports it, so the health says
    /// "delayed" while nothing is lost.
    pub outage: std::sync::Mutex<Option<Error>>,
    /// The orders this cycle read whole from HubRise: its read-back does not read them again.
    pub read_whole: std::sync::Mutex<HashSet<String>>,
}

impl<'a> Cycle<'a> {
    pub fn new(parts: &'a SyncParts, row: &'a ConnectionRow, token: &'a Secret) -> Self {
        Self {
            parts,
            row,
            token,
            outage: std::sync::Mutex::new(None),
            read_whole: std::sync::Mutex::default(),
        }
    }

    /// Remembers an outage a step stepped around (the first one is reported).
    pub fn met_outage(&self, err: Error) {
        tracing::warn!(target: "passerelle::sync", connection = %self.id(), code = err.code(), "HubRise route unavailable; orders left at HubRise");
        self.outage
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_or_insert(err);
    }

    /// The outage met, if any, which ends the cycle as delayed once every step ran.
    pub fn take_outage(&self) -> Option<Error> {
        self.outage.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// Remembers that this cycle read `order_id` whole from HubRise.
    pub fn read_whole(&self, order_id: &str) {
        self.read_whole
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(order_id.to_owned());
    }

    /// The orders this cycle read whole, for its read-back.
    pub fn take_read_whole(&self) -> HashSet<String> {
        std::mem::take(&mut self.read_whole.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl Cycle<'_> {
    /// Waits until the connection's rate windows allow one more request.
    pub async fn ready(&self, heavy: bool) {
        let limiters = &self.parts.rate_limiters;
        self.wait_for_window(|| limiters.try_acquire(self.id(), heavy))
            .await;
    }

    /// Waits until the connection's rate windows allow one more request for a change from the
    /// till, which may spend the share the rest leaves it.
    pub async fn ready_for_change(&self) {
        let limiters = &self.parts.rate_limiters;
        self.wait_for_window(|| limiters.try_acquire_for_change(self.id()))
            .await;
    }

    /// Waits as long as the rate windows say. A wait longer than one poll interval shows in
    /// health (delayed, rate-limited) while it lasts: orders are late although nothing failed.
    async fn wait_for_window(&self, mut try_acquire: impl FnMut() -> Option<Duration>) {
        let mut shown = None;
        while let Some(wait) = try_acquire() {
            if wait > self.poll_interval() && shown.is_none() {
                shown = Some(
                    self.parts
                        .health
                        .slowed_while(self.id(), DelayReason::RateLimited),
                );
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// The configured interval between two polls of HubRise's events.
    pub fn poll_interval(&self) -> Duration {
        self.parts.active.settings().poll_interval()
    }

    pub fn id(&self) -> &str {
        &self.row.public.id
    }

    pub fn location(&self) -> &str {
        &self.row.public.location_id
    }

    /// Tells the host the newest item set aside, and updates the health.
    pub fn quarantined(&self) -> Result<()> {
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
                    retry_at: None,
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

/// Whether a failure is HubRise's answer about one order alone: its own 4xx, or a body that
/// does not decode. Only such an answer may set an order aside; a failure every order would share
/// (a 5xx, a timeout, no connection) is an outage (see [`is_outage`]).
pub fn concerns_one_order(err: &Error) -> bool {
    matches!(
        err,
        Error::Server { status: ..500, .. }
            | Error::MalformedBody { .. }
            | Error::BodyTooLarge { .. }
    )
}

/// Whether a failure is one every request to that route would share right now: HubRise's 5xx,
/// or no answer at all. It delays, it never condemns an order.
pub fn is_outage(err: &Error) -> bool {
    matches!(
        err,
        Error::Server { status: 500.., .. } | Error::Transport { .. }
    )
}

pub fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
