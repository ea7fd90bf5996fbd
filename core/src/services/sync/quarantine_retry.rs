//! An item set aside is never final (issue 27). An event set aside names its order: the library
//! fetches that order again by itself, with a wait that grows from four poll intervals to an
//! hour, for at least a day after it was set aside; the till can ask for a try at any time. Once
//! the order reads, it is stored and announced like any other, and the item is gone.

use std::time::Duration;

use serde_json::Value;

use super::cycle::{Cycle, CycleReport, concerns_one_order, is_outage, millis};
use crate::error::{Error, Result};
use crate::model::order::OrderHead;
use crate::store::quarantine::{self, Retry};
use crate::time::now_ms;

/// The first try waits as long as the budget that set the item aside spanned.
const FIRST_RETRY_INTERVALS: u32 = 4;
/// The longest wait between two tries.
const RETRY_WAIT_CAP: Duration = Duration::from_secs(3600);
/// The library retries by itself until at least this long after the item was set aside.
const RETRY_FOR: Duration = Duration::from_secs(24 * 3600);
/// Tries per cycle, so a long list never delays the cycle's other steps.
const RETRIES_PER_CYCLE: u32 = 5;

/// How one try went.
pub(super) enum Tried {
    /// The order is stored: the item is gone.
    Stored,
    /// HubRise still answers something about this order alone; why.
    StillFailing(Error),
}

impl Cycle<'_> {
    /// The wait before an item's first try.
    pub fn first_retry_wait(&self) -> Duration {
        self.poll_interval() * FIRST_RETRY_INTERVALS
    }

    /// Tries again the items whose time has come, a few a cycle. An outage ends the step (the
    /// items stay due for the next cycle, their count untouched).
    pub async fn retry_quarantined(&self, report: &mut CycleReport) -> Result<()> {
        self.parts.follow_wall_clock()?;
        let due = self.parts.store.read(|c| {
            quarantine::due_retries(c, self.id(), millis(RETRY_WAIT_CAP) * 2, RETRIES_PER_CYCLE)
        })?;
        for item in due {
            match self.retry(&item, report).await {
                Ok(Tried::Stored | Tried::StillFailing(_)) => {}
                Err(err) if is_outage(&err) => {
                    self.met_outage(err);
                    return Ok(());
                }
                Err(err) => return Err(err),
            }
        }
        Ok(())
    }

    /// One try: fetch the order; store and announce it if it reads, else plan the next try.
    pub async fn retry(&self, item: &Retry, report: &mut CycleReport) -> Result<Tried> {
        self.ready(false).await;
        let failure = match self
            .parts
            .hubrise
            .order_body(self.token, &item.order_id)
            .await
        {
            Ok(Some(body)) => match readable_order(&body) {
                Some(json) => return self.recovered(item, &json, report),
                None => Error::MalformedBody {
                    service: crate::error::Service::HubriseApi,
                    reason: "HubRise's answer is not an order's JSON".into(),
                },
            },
            Ok(None) => Error::NotFound {
                what: format!("order {} at HubRise", item.order_id),
            },
            Err(err) if concerns_one_order(&err) => err,
            Err(err) => return Err(err),
        };
        let next = self.next_retry_at(item);
        let reason = failure.to_public().to_string();
        self.parts
            .store
            .write(|tx| quarantine::retry_failed(tx, item.id, &reason, next))?;
        self.parts.health.changed();
        Ok(Tried::StillFailing(failure))
    }

    fn recovered(&self, item: &Retry, json: &Value, report: &mut CycleReport) -> Result<Tried> {
        let stored = self.parts.store.write(|tx| {
            quarantine::remove(tx, item.id)?;
            self.store_or_quarantine(tx, json, None)
        })?;
        tracing::info!(target: "passerelle::sync", connection = %self.id(), item = item.id, "quarantined order recovered");
        self.announce(stored, json, report)?;
        self.parts.health.changed();
        Ok(Tried::Stored)
    }

    /// When to try `item` next after one more failure, or `None` once it has been tried for
    /// long enough by itself.
    fn next_retry_at(&self, item: &Retry) -> Option<i64> {
        let now = now_ms();
        if now - item.quarantined_at >= millis(RETRY_FOR) {
            return None;
        }
        let doubled = 2u32.saturating_pow((item.retries + 1).min(16));
        let wait = self
            .first_retry_wait()
            .saturating_mul(doubled)
            .min(RETRY_WAIT_CAP);
        Some(now + millis(wait))
    }
}

/// The body as an order's JSON, if it is one with an id.
fn readable_order(body: &[u8]) -> Option<Value> {
    let json: Value = serde_json::from_slice(body).ok()?;
    OrderHead::decode(&json).map(|_| json)
}
