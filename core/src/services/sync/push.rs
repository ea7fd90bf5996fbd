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

use serde_json::Value;

use super::backoff;
use super::cycle::{Cycle, CycleReport, concerns_one_order, millis};
use crate::error::{Error, Result};
use crate::events::PasserelleEvent;
use crate::failpoint;
use crate::model::order::OrderStatus;
use crate::store::orders;
use crate::store::outbox::{self, Entry, Kind};
use crate::time::now_ms;

/// A change is marked failed after this many attempts that HubRise answered with an error.
const CHANGE_ATTEMPTS: u32 = 6;
/// The longest wait between two attempts of a change.
const CHANGE_BACKOFF_CAP: Duration = Duration::from_secs(300);

impl Cycle<'_> {
    /// Pushes every due change, oldest first, each order's in order.
    pub async fn push_outbox(&self, report: &mut CycleReport) -> Result<()> {
        let clock_guard = millis(CHANGE_BACKOFF_CAP) * 2;
        while let Some(entry) = self
            .parts
            .store
            .read(|c| outbox::next_due(c, self.id(), clock_guard))?
        {
            match self.push(&entry).await {
                Ok(pushed) => report.pushed += u32::from(pushed),
                Err(err @ Error::Server { status: ..500, .. }) => self.drop_entry(
                    &entry,
                    &format!("HubRise refused the change: {}", err.to_public()),
                )?,
                Err(err) if concerns_one_order(&err) => self.change_failed(&entry, &err)?,
                Err(err) => return Err(err),
            }
        }
        Ok(())
    }

    /// Sends one entry; `false` when it was dropped instead (HubRise's state wins).
    async fn push(&self, entry: &Entry) -> Result<bool> {
        let current = match entry.kind {
            // The order was just fetched: its stored status is HubRise's.
            Kind::Received => self
                .parts
                .store
                .read(|c| orders::hubrise_status(c, self.location(), &entry.order_id))?,
            // A change from the till: look at HubRise's state first (design D9).
            Kind::Till => self.refresh(&entry.order_id).await?,
        };
        if let Some(reason) = conflict(entry, current) {
            self.drop_entry(entry, &reason)?;
            return Ok(false);
        }
        failpoint::hit("outbox.before_push");
        self.ready(false).await;
        let answer = self
            .parts
            .hubrise
            .patch_order(self.token, &entry.order_id, &entry.patch)
            .await;
        failpoint::hit("outbox.after_push");
        match answer {
            Ok(json) => {
                // HubRise has the change: nothing may turn it into a "dropped" conflict now.
                let stored = self.parts.store.write(|tx| {
                    outbox::finish(tx, entry.seq, None)?;
                    self.store_or_quarantine(tx, &json, None)
                })?;
                self.announce(stored, &json, &mut CycleReport::default())?;
            }
            // HubRise answered success with a body we cannot read: it applied the change. Never
            // report it as refused; read the order again for its state.
            Err(Error::MalformedBody { .. } | Error::BodyTooLarge { .. }) => {
                self.parts
                    .store
                    .write(|tx| outbox::finish(tx, entry.seq, None))?;
                if let Err(err) = self.refresh(&entry.order_id).await {
                    tracing::warn!(target: "passerelle::sync", code = err.code(), "order not read after its change");
                }
            }
            Err(err) => return Err(err),
        }
        Ok(true)
    }

    /// Reads the order from HubRise, stores it, and returns its status (`None`: gone).
    async fn refresh(&self, order_id: &str) -> Result<Option<OrderStatus>> {
        self.ready(false).await;
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
