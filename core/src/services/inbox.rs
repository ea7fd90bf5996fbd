//! The order inbox seen from the till: queries, and status changes written to the outbox first
//! (durably), then pushed to HubRise by the sync engine.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::context::Context;
use crate::error::{Error, Result};
use crate::events::{EventBus, PasserelleEvent};
use crate::model::connection::ConnectionState;
use crate::model::order::{Order, OrderFilter, OrderStatus, OrderSummary};
use crate::store::outbox::{self, Kind};
use crate::store::{Store, accounts, connection_reads, connections, orders};
use crate::time::iso8601_in;

/// How long after it was received an order not marked seen is announced again at open. A day
/// covers a crash or a till switched off overnight; past it the order is no news for the
/// kitchen, and the host finds it among the unseen ones.
pub const UNSEEN_ANNOUNCED_FOR: Duration = Duration::from_secs(86_400);

pub struct Inbox {
    store: Arc<Store>,
    events: EventBus,
}

impl Inbox {
    pub fn new(ctx: &Context) -> Self {
        Self {
            store: ctx.store.clone(),
            events: ctx.events.clone(),
        }
    }

    /// Orders of the signed-in account (none when signed out).
    pub fn list(&self, filter: &OrderFilter) -> Result<Vec<Order>> {
        self.store.read(|conn| match accounts::current(conn)? {
            Some(account) => orders::list(conn, &account.account_id, filter),
            None => Ok(Vec::new()),
        })
    }

    /// Summaries of the signed-in account's orders (none when signed out), for the inbox's rows.
    pub fn summaries(&self, filter: &OrderFilter) -> Result<Vec<OrderSummary>> {
        self.store.read(|conn| match accounts::current(conn)? {
            Some(account) => orders::summaries(conn, &account.account_id, filter),
            None => Ok(Vec::new()),
        })
    }

    /// Orders received but not yet marked seen, oldest first.
    pub fn unseen(&self) -> Result<Vec<Order>> {
        self.store.read(|conn| match accounts::current(conn)? {
            Some(account) => orders::unseen(conn, &account.account_id),
            None => Ok(Vec::new()),
        })
    }

    /// The host showed these orders: they are no longer announced again after a restart.
    pub fn mark_seen(&self, order_ids: &[String]) -> Result<u32> {
        let changed = self.store.write(|tx| {
            let account = accounts::current(tx)?.ok_or(Error::NotSignedIn)?;
            orders::mark_seen(tx, &account.account_id, order_ids)
        })?;
        Ok(u32::try_from(changed).unwrap_or(u32::MAX))
    }

    /// At open: every order received in the last `UNSEEN_ANNOUNCED_FOR` but not marked seen is
    /// announced again, so no crash between storing an order and the host showing it leaves the
    /// order silent. An older one stays unseen in the inbox (`unseen()` lists it) but does not
    /// ring again: a till that never marks orders seen would otherwise ring at every open, for
    /// every order it ever received.
    pub fn announce_unseen(&self) -> Result<()> {
        let since = SystemTime::now()
            .checked_sub(UNSEEN_ANNOUNCED_FOR)
            .unwrap_or(UNIX_EPOCH);
        for order in self
            .unseen()?
            .into_iter()
            .filter(|o| o.received_at >= since)
        {
            self.events.emit(PasserelleEvent::OrderReceived { order });
        }
        Ok(())
    }

    /// One order of the signed-in account.
    pub fn get(&self, order_id: &str) -> Result<Option<Order>> {
        self.store.read(|conn| match accounts::current(conn)? {
            Some(account) => orders::get(conn, &account.account_id, order_id),
            None => Ok(None),
        })
    }

    /// `accepted`, with the time the order will be ready when given: written with the offset of
    /// the location's timezone when HubRise gave one (HubRise's integration guide), else in UTC.
    pub fn accept(&self, order_id: &str, confirmed_time: Option<SystemTime>) -> Result<String> {
        let ms = confirmed_time
            .map(|time| {
                time.duration_since(SystemTime::UNIX_EPOCH)
                    .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
                    .map_err(|_| Error::InvalidState {
                        reason: "confirmed time before 1970".into(),
                    })
            })
            .transpose()?;
        self.enqueue_with(order_id, None, |timezone| {
            let mut patch = json!({"status": "accepted"});
            if let Some(ms) = ms {
                patch["confirmed_time"] = Value::String(iso8601_in(ms, timezone)?);
            }
            Ok(patch)
        })
    }

    /// `rejected`. HubRise has no field for a reason: it stays on this device, in the outbox row.
    pub fn reject(&self, order_id: &str, reason: Option<&str>) -> Result<String> {
        self.enqueue(order_id, &json!({"status": "rejected"}), reason)
    }

    /// Any other status (in preparation, awaiting collection, completed, ...).
    pub fn update_status(&self, order_id: &str, status: OrderStatus) -> Result<String> {
        let name = status.as_str().ok_or_else(|| Error::InvalidState {
            reason: "an unknown status cannot be sent".into(),
        })?;
        self.enqueue(order_id, &json!({"status": name}), None)
    }

    /// Writes the change to the outbox; returns the order's connection id, whose worker pushes it.
    fn enqueue(&self, order_id: &str, patch: &Value, note: Option<&str>) -> Result<String> {
        self.enqueue_with(order_id, note, |_| Ok(patch.clone()))
    }

    /// [`Inbox::enqueue`] with a patch made from the location's timezone (when read).
    fn enqueue_with(
        &self,
        order_id: &str,
        note: Option<&str>,
        make_patch: impl FnOnce(Option<&str>) -> Result<Value>,
    ) -> Result<String> {
        self.store.write(|tx| {
            let account = accounts::current(tx)?.ok_or(Error::NotSignedIn)?;
            let (_, location_id) =
                orders::locate(tx, &account.account_id, order_id)?.ok_or_else(|| {
                    Error::NotFound {
                        what: format!("order {order_id}"),
                    }
                })?;
            // The location's live connection pushes it (after a reconnect, not the one that
            // brought the order); with none, the change could never reach HubRise: say so now.
            let connection =
                connections::find_live_by_location(tx, &account.account_id, &location_id)?
                    .filter(|row| row.public.state == ConnectionState::Active)
                    .ok_or_else(|| Error::InvalidState {
                        reason: "this order's location is not connected to HubRise".into(),
                    })?;
            let timezone = connection_reads::get(tx, &connection.public.id)?.timezone;
            let patch = make_patch(timezone.as_deref())?;
            outbox::enqueue(
                tx,
                &connection.public.id,
                order_id,
                Kind::Till,
                &patch,
                note,
            )?;
            Ok(connection.public.id)
        })
    }
}
