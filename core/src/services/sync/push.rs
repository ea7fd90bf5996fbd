//! Pushing the outbox: changes made at the till (and the automatic `received`) go to HubRise in
//! the order they were made for each order; one order's failing change never delays another
//! order's (design D20).
//!
//! A change is retried with capped backoff when HubRise answers a server error for it, and after
//! `CHANGE_ATTEMPTS` it is marked failed, the host is told, and it waits for the host to retry
//! it. A failure that concerns the connection (no network, a rate limit, a refused token) leaves
//! every change as it is and ends the cycle: no change's budget is spent on a network that is
//! down. A change HubRise refuses (4xx), or that HubRise's state makes moot (design D9), is
//! dropped and the host told.

use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use serde_json::Value;
use tokio::sync::Notify;

use super::backoff;
use super::cycle::{ConnectionLocks, Cycle, CycleReport, millis};
use crate::clients::pos::event_stream::ChangeMade;
use crate::error::{Error, Result};
use crate::events::PasserelleEvent;
use crate::failpoint;
use crate::logging;
use crate::model::order::OrderStatus;
use crate::store::outbox::{self, Entry, Kind};
use crate::store::{connection_reads, orders};
use crate::time::{iso8601_in, now_ms, parse_iso8601_ms};

/// A change is marked failed after this many attempts that HubRise answered with an error.
const CHANGE_ATTEMPTS: u32 = 6;
/// The longest wait between two attempts of a change.
const CHANGE_BACKOFF_CAP: Duration = Duration::from_secs(300);
/// Orders whose changes are pushed at the same time: enough that a slow answer never holds back
/// the others, few enough to stay polite to HubRise.
const MAX_IN_FLIGHT: usize = 4;

impl Cycle<'_> {
    /// Pushes every due change, each order's in order, several orders at once: a change that
    /// is slow to be answered (up to the request timeout) never holds back another order's.
    /// `more` is notified when the till makes a change meanwhile: it starts at once, beside
    /// those in flight.
    pub async fn push_outbox(&self, report: &mut CycleReport, more: Option<&Notify>) -> Result<()> {
        let locks = self.parts.locks(self.id());
        let mut claims = Claims {
            locks: &locks,
            mine: Vec::new(),
        };
        let mut in_flight = FuturesUnordered::new();
        loop {
            for entry in self.claim_due_heads(&mut claims)? {
                in_flight.push(async move {
                    let result = self.push(&entry).await;
                    (entry, result)
                });
            }
            let (entry, result) = tokio::select! {
                done = in_flight.next() => match done {
                    Some(done) => done,
                    None => return Ok(()),
                },
                () = notified(more) => continue,
            };
            claims.release(&entry.order_id);
            match result {
                Ok(pushed) => report.pushed += u32::from(pushed),
                Err(err @ Error::Server { status: ..500, .. }) => self.drop_entry(
                    &entry,
                    &format!("HubRise refused the change: {}", err.to_public()),
                )?,
                Err(err) if concerns_one_change(&err) => self.change_failed(&entry, &err)?,
                // The connection's trouble (no network, a rate limit, a refused token): every
                // change waits. Those in flight are cancelled; they stay in the outbox and are
                // sent again, which is safe (design D8).
                Err(err) => return Err(err),
            }
        }
    }

    /// The due changes to start now, of orders no lane is sending, claimed for this one. Read
    /// and claimed under the claims' lock, so the other lane cannot take the same ones between.
    fn claim_due_heads(&self, claims: &mut Claims<'_>) -> Result<Vec<Entry>> {
        self.parts.follow_wall_clock()?;
        let mut sending = logging::lock(&claims.locks.sending);
        let room = MAX_IN_FLIGHT.saturating_sub(sending.len());
        if room == 0 {
            return Ok(Vec::new());
        }
        let busy: Vec<&str> = sending.iter().map(String::as_str).collect();
        let clock_guard = millis(CHANGE_BACKOFF_CAP) * 2;
        let heads = self
            .parts
            .store
            .read(|c| outbox::due_heads(c, self.id(), clock_guard, &busy, room))?;
        for entry in &heads {
            sending.insert(entry.order_id.clone());
            claims.mine.push(entry.order_id.clone());
        }
        Ok(heads)
    }

    /// Sends one entry; `false` when it was dropped instead (HubRise's state wins).
    async fn push(&self, entry: &Entry) -> Result<bool> {
        // Read even just after the fetch that queued an automatic `received`: another till, the
        // back office or the customer may have moved the order on since HubRise answered that
        // fetch, and a `received` sent on it would write over their status (design D9).
        let current = self.read_current_status(&entry.order_id).await?;
        if let Some(reason) = conflict(entry, current) {
            self.drop_entry(entry, &reason)?;
            return Ok(false);
        }
        let patch = self.in_the_location_s_time(&entry.patch).await?;
        failpoint::hit("outbox.before_push");
        self.ready_for_change().await;
        let answer = self
            .parts
            .hubrise
            .patch_order(self.token, &entry.order_id, &patch)
            .await;
        failpoint::hit("outbox.after_push");
        match answer {
            Ok(json) => {
                // HubRise has the change: nothing may turn it into a "dropped" conflict now.
                let kept = self.parts.store.write(|tx| {
                    outbox::finish(tx, entry.seq, None)?;
                    self.keep_answer_unless_newer_read(tx, entry, current, &json)
                })?;
                match kept {
                    Some(stored) => self.announce(stored, &json, &mut CycleReport::default())?,
                    // Which of the answer and the read is newer cannot be told: HubRise says.
                    None => {
                        if let Err(err) = self.read_current_status(&entry.order_id).await {
                            tracing::warn!(target: "passerelle::sync", code = err.code(), "order not read after its change");
                        }
                        // Its pending change is over, whatever the read found.
                        self.announce(orders::Stored::Changed, &json, &mut CycleReport::default())?;
                    }
                }
                self.tell_siblings(entry, &json);
            }
            // HubRise answered success with a body we cannot read: it applied the change. Never
            // report it as refused; read the order again for its state.
            Err(Error::MalformedBody { .. } | Error::BodyTooLarge { .. }) => {
                self.parts
                    .store
                    .write(|tx| outbox::finish(tx, entry.seq, None))?;
                if let Err(err) = self.read_current_status(&entry.order_id).await {
                    tracing::warn!(target: "passerelle::sync", code = err.code(), "order not read after its change");
                }
            }
            Err(err) => return Err(err),
        }
        Ok(true)
    }

    /// Stores HubRise's answer to a PATCH, unless the order's status was stored again since it
    /// was read before the PATCH (`read_before`): that read (an event's fetch, say, taken while
    /// the PATCH was on its way) may have seen HubRise after the PATCH, maybe after another app
    /// cancelled the order, or before it; which one is newer cannot be told. `None` then: the
    /// caller reads the order from HubRise again.
    fn keep_answer_unless_newer_read(
        &self,
        tx: &rusqlite::Connection,
        entry: &Entry,
        read_before: Option<OrderStatus>,
        answer: &Value,
    ) -> Result<Option<orders::Stored>> {
        let stored_now = orders::hubrise_status(tx, self.location(), &entry.order_id)?;
        if stored_now.is_some() && stored_now != read_before {
            return Ok(None);
        }
        self.store_or_quarantine(tx, answer, None).map(Some)
    }

    /// Queues the change for the POS backend to relay to the location's other tills (HubRise
    /// never tells them). The automatic `received` is not relayed: every till sends its own.
    fn tell_siblings(&self, entry: &Entry, json: &Value) {
        let Some(status) = json.get("status").and_then(Value::as_str) else {
            return;
        };
        if entry.kind == Kind::Received {
            return;
        }
        self.parts.push_channel.made(ChangeMade {
            // Unique with the device's id the report adds (a sequence alone restarts after an
            // erasure).
            change_id: format!("{}-{}", entry.seq, now_ms()),
            location_id: self.location().to_owned(),
            order_id: entry.order_id.clone(),
            status: status.to_owned(),
        });
    }

    /// The patch as sent: a `confirmed_time` carries the location's offset (HubRise's
    /// integration guide). The till may accept before the location's timezone was ever read (an
    /// accept right after connecting): it is read now, before the first PATCH that carries a
    /// time, rather than sent in UTC.
    async fn in_the_location_s_time(&self, patch: &Value) -> Result<Value> {
        let Some(ms) = patch
            .get("confirmed_time")
            .and_then(Value::as_str)
            .and_then(parse_iso8601_ms)
        else {
            return Ok(patch.clone());
        };
        let known = self
            .parts
            .store
            .read(|c| connection_reads::get(c, self.id()))?
            .timezone;
        let timezone = match known {
            Some(timezone) => Some(timezone),
            None => self.read_timezone().await?,
        };
        let mut patch = patch.clone();
        patch["confirmed_time"] = Value::String(iso8601_in(ms, timezone.as_deref())?);
        Ok(patch)
    }

    /// Reads the location's timezone from HubRise and keeps it.
    async fn read_timezone(&self) -> Result<Option<String>> {
        self.ready_for_change().await;
        let location = self.parts.hubrise.location(self.token).await?;
        let timezone = location.timezone_name().map(str::to_owned);
        self.parts
            .store
            .write(|tx| connection_reads::set_timezone(tx, self.id(), timezone.as_deref()))?;
        Ok(timezone)
    }

    /// Reads the order from HubRise, stores it, and returns its status (`None`: gone).
    async fn read_current_status(&self, order_id: &str) -> Result<Option<OrderStatus>> {
        self.ready_for_change().await;
        let json = self.parts.hubrise.order(self.token, order_id).await?;
        let Some(json) = json else {
            return Ok(None);
        };
        let stored = self
            .parts
            .store
            .write(|tx| self.store_or_quarantine(tx, &json, None))?;
        self.announce(stored, &json, &mut CycleReport::default())?;
        Ok(Some(
            json.get("status")
                .and_then(Value::as_str)
                .map_or(OrderStatus::Unknown, OrderStatus::parse),
        ))
    }

    /// HubRise answered an error for this change: retry it later, or past its budget mark it
    /// failed and tell the host. Other orders' changes go on either way.
    fn change_failed(&self, entry: &Entry, err: &Error) -> Result<()> {
        let reason = err.to_public().to_string();
        if entry.attempts + 1 < CHANGE_ATTEMPTS {
            let wait = backoff::delay(entry.attempts).min(CHANGE_BACKOFF_CAP);
            return self
                .parts
                .store
                .write(|tx| outbox::retry_later(tx, entry.seq, now_ms() + millis(wait), &reason));
        }
        self.parts
            .store
            .write(|tx| outbox::fail(tx, entry.seq, &reason))?;
        tracing::error!(target: "passerelle::sync", connection = %self.id(), order = %entry.order_id, "change failed");
        let failed = self
            .parts
            .store
            .read(|c| outbox::failed(c, self.id()))?
            .into_iter()
            .find(|change| change.order_id == entry.order_id);
        if let Some(change) = failed {
            self.parts
                .events
                .emit(PasserelleEvent::ChangeFailed { change });
        }
        self.parts.health.changed();
        Ok(())
    }

    fn drop_entry(&self, entry: &Entry, reason: &str) -> Result<()> {
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

/// Whether a failure is counted against this change's budget: HubRise's error for it (a 4xx is
/// dropped before this), an answer that cannot be read, or a request that timed out. A change is
/// never held back by another order's, and no answer at all is this change's problem only when
/// it timed out: a network that is down spends no change's budget.
fn concerns_one_change(err: &Error) -> bool {
    match err {
        Error::Server { .. } | Error::MalformedBody { .. } | Error::BodyTooLarge { .. } => true,
        Error::Transport { source, .. } => source.is_timeout(),
        _ => false,
    }
}

/// Why an entry must not be sent given HubRise's current status, if it must not.
fn conflict(entry: &Entry, current: Option<OrderStatus>) -> Option<String> {
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

/// Resolves when `more` is notified; never without one.
async fn notified(more: Option<&Notify>) {
    match more {
        Some(more) => more.notified().await,
        None => std::future::pending().await,
    }
}

/// The orders one lane claimed in its connection's `sending` set; whatever it still holds when
/// it stops (done, a failure of the connection, cancelled) is released.
struct Claims<'a> {
    locks: &'a ConnectionLocks,
    mine: Vec<String>,
}

impl Claims<'_> {
    fn release(&mut self, order_id: &str) {
        self.mine.retain(|order| order != order_id);
        logging::lock(&self.locks.sending).remove(order_id);
        self.locks.released.notify_waiters();
    }
}

impl Drop for Claims<'_> {
    fn drop(&mut self) {
        let mut sending = logging::lock(&self.locks.sending);
        for order_id in self.mine.drain(..) {
            sending.remove(&order_id);
        }
        drop(sending);
        self.locks.released.notify_waiters();
    }
}
