//! Waking a till in the background (issue 24, part 5). A till holds the event stream only in the
//! foreground (iOS suspends an app soon after it leaves the screen, and the core closes its
//! stream at once then). A till registers its APNs device token with the bridge
//! (`PUT /hubrise/push-token`); when the bridge stores an order event of a location, it sends a
//! background notification to the registered tills of that location whose stream is not open,
//! and the till woken runs one sync cycle (`handle_push_notification` in the core).
//!
//! - Only tills without an open stream: one streaming hears the event already, and a push would
//!   cost it a cycle of HubRise requests for nothing and Apple's budget of background wakes.
//!   An open stream is a lease in `till_streams` that the replica serving it renews while it
//!   lasts and clears when it ends, so every replica knows, whichever serves the stream.
//! - At most one notification per device per interval (10 s by default), claimed in one UPDATE
//!   (replicas included). One held back is sent at the interval's end, so an order arriving just
//!   after a wake is not left for the foreground.
//! - Never on the path of HubRise's 200: the callback spawns the work and answers.
//! - A token APNs says is gone (410, `BadDeviceToken`, `DeviceTokenNotForTopic`) is deleted.
//!
//! The sender is a trait ([`PushSender`]); [`apns::ApnsSender`] speaks to Apple.

pub mod apns;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;

use crate::clock::now_ms;
use crate::db::{Database, Value};
use crate::metrics::Metrics;
use crate::secret::random_token;
use crate::store::StoreResult;

/// How long a stream's lease lasts unless renewed (the stream renews it every [`RENEW_EVERY`]).
pub const STREAM_LEASE: Duration = Duration::from_secs(75);
/// How often a stream renews its lease (its loop wakes at least every 30 s).
pub const RENEW_EVERY: Duration = Duration::from_secs(20);
/// The default interval between two notifications to one device.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);
/// The longest a notification may take; the sender's own timeout is shorter.
const SEND_LIMIT: Duration = Duration::from_secs(15);

/// What became of one notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// The token will never work again: it is removed. `since_ms`: when the push service learnt
    /// it (APNs's 410 timestamp); a token registered again after that stays.
    Gone {
        since_ms: Option<i64>,
    },
    /// Not sent this time (the service refused or could not be reached): the next event tries
    /// again.
    Failed(String),
}

/// Sends one background notification ("something new, run a cycle") to a device.
pub trait PushSender: Send + Sync {
    /// `device_token`: lower-case hex, as the till registered it.
    fn send<'a>(&'a self, device_token: &'a str) -> BoxFuture<'a, Delivery>;
}

/// A device token as the bridge keeps it: lower-case hex of 8 to 256 bytes (APNs's are 32).
pub fn normalize_token(token: &str) -> Option<String> {
    let token = token.trim();
    let valid = token.len().is_multiple_of(2)
        && (16..=512).contains(&token.len())
        && token.bytes().all(|b| b.is_ascii_hexdigit());
    valid.then(|| token.to_ascii_lowercase())
}

/// The registered devices, the streams' leases and the notifications.
pub struct Push {
    db: Arc<dyn Database>,
    sender: Option<Arc<dyn PushSender>>,
    interval: Duration,
    /// Devices with a notification held back by the interval, sent at its end.
    held: Mutex<HashSet<(String, String)>>,
    metrics: Arc<Metrics>,
}

impl Push {
    /// `sender`: `None` when no push service is configured (then nothing is sent and streams
    /// keep no lease).
    pub fn new(
        db: Arc<dyn Database>,
        sender: Option<Arc<dyn PushSender>>,
        interval: Duration,
        metrics: Arc<Metrics>,
    ) -> Self {
        Push {
            db,
            sender,
            interval,
            held: Mutex::default(),
            metrics,
        }
    }

    /// Whether a push service is configured.
    pub fn enabled(&self) -> bool {
        self.sender.is_some()
    }

    /// Records `token` (normalized) as the device's; a token known under another account or
    /// device moves here.
    pub async fn register(
        &self,
        account_id: &str,
        device_id: &str,
        token: &str,
    ) -> StoreResult<()> {
        self.db
            .execute(
                "DELETE FROM push_devices WHERE token = $1 AND (pos_account_id <> $2 OR device_id <> $3)",
                vec![
                    Value::text(token),
                    Value::text(account_id),
                    Value::text(device_id),
                ],
            )
            .await?;
        self.db
            .execute(
                "INSERT INTO push_devices (pos_account_id, device_id, token, registered_ms, pushed_ms) \
                 VALUES ($1, $2, $3, $4, 0) ON CONFLICT (pos_account_id, device_id) \
                 DO UPDATE SET token = excluded.token, registered_ms = excluded.registered_ms",
                vec![
                    Value::text(account_id),
                    Value::text(device_id),
                    Value::text(token),
                    Value::int(now_ms()),
                ],
            )
            .await?;
        Ok(())
    }

    /// Forgets the device's token (the till signed out, or turned notifications off).
    pub async fn unregister(&self, account_id: &str, device_id: &str) -> StoreResult<bool> {
        let deleted = self
            .db
            .execute(
                "DELETE FROM push_devices WHERE pos_account_id = $1 AND device_id = $2",
                vec![Value::text(account_id), Value::text(device_id)],
            )
            .await?;
        Ok(deleted > 0)
    }

    /// The tokens registered for a device's account (tests, operators).
    pub async fn tokens(&self, account_id: &str) -> StoreResult<Vec<String>> {
        let rows = self
            .db
            .query(
                "SELECT token FROM push_devices WHERE pos_account_id = $1 ORDER BY device_id",
                vec![Value::text(account_id)],
            )
            .await?;
        Ok(rows
            .iter()
            .filter_map(|r| r.first().and_then(Value::as_text).map(str::to_owned))
            .collect())
    }

    /// A stream of the device opened: its lease, to renew and to clear. `None` without a push
    /// service (nobody reads leases then).
    pub async fn stream_opened(&self, account_id: &str, device_id: &str) -> Option<String> {
        if !self.enabled() {
            return None;
        }
        let lease = random_token(16);
        self.write_lease(account_id, device_id, &lease).await;
        Some(lease)
    }

    /// The stream still runs: its lease goes on.
    pub async fn stream_alive(&self, account_id: &str, device_id: &str, lease: &str) {
        self.write_lease(account_id, device_id, lease).await;
    }

    async fn write_lease(&self, account_id: &str, device_id: &str, lease: &str) {
        let until = now_ms() + STREAM_LEASE.as_millis() as i64;
        let written = self
            .db
            .execute(
                "INSERT INTO till_streams (pos_account_id, device_id, lease, until_ms) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (pos_account_id, device_id) DO UPDATE SET lease = excluded.lease, until_ms = excluded.until_ms",
                vec![
                    Value::text(account_id),
                    Value::text(device_id),
                    Value::text(lease),
                    Value::int(until),
                ],
            )
            .await;
        if let Err(e) = written {
            tracing::warn!(error = %e, "stream lease not recorded; the till may be woken while streaming");
        }
    }

    /// The stream ended: the device is woken by notifications from now on (unless another of
    /// its streams took the lease meanwhile).
    pub async fn stream_closed(&self, account_id: &str, device_id: &str, lease: &str) {
        let cleared = self
            .db
            .execute(
                "DELETE FROM till_streams WHERE pos_account_id = $1 AND device_id = $2 AND lease = $3",
                vec![
                    Value::text(account_id),
                    Value::text(device_id),
                    Value::text(lease),
                ],
            )
            .await;
        if let Err(e) = cleared {
            tracing::warn!(error = %e, "stream lease not cleared; it runs out by itself");
        }
    }

    /// Whether the device holds an open stream now.
    pub async fn streaming(&self, account_id: &str, device_id: &str) -> StoreResult<bool> {
        let rows = self
            .db
            .query(
                "SELECT 1 FROM till_streams WHERE pos_account_id = $1 AND device_id = $2 AND until_ms > $3",
                vec![
                    Value::text(account_id),
                    Value::text(device_id),
                    Value::int(now_ms()),
                ],
            )
            .await?;
        Ok(!rows.is_empty())
    }

    /// An order event of `location_id` was stored: the location's tills that are not streaming
    /// are notified, in a task of its own (the caller answers HubRise at once).
    pub fn order_event(self: &Arc<Self>, location_id: &str) {
        if !self.enabled() {
            return;
        }
        let push = self.clone();
        let location_id = location_id.to_owned();
        tokio::spawn(async move {
            match push.devices_at(&location_id).await {
                Ok(devices) => {
                    for (account_id, device_id) in devices {
                        push.clone().wake(account_id, device_id);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "tills to wake not read; none woken"),
            }
        });
    }

    /// The devices of the accounts with an active connection of `location_id`, without an open
    /// stream.
    async fn devices_at(&self, location_id: &str) -> StoreResult<Vec<(String, String)>> {
        let rows = self
            .db
            .query(
                "SELECT p.pos_account_id, p.device_id FROM push_devices p WHERE EXISTS \
                 (SELECT 1 FROM connections c WHERE c.pos_account_id = p.pos_account_id \
                 AND c.location_id = $1 AND c.removed = 0) AND NOT EXISTS (SELECT 1 FROM till_streams s \
                 WHERE s.pos_account_id = p.pos_account_id AND s.device_id = p.device_id AND s.until_ms > $2) \
                 ORDER BY p.pos_account_id, p.device_id",
                vec![Value::text(location_id), Value::int(now_ms())],
            )
            .await?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                let text = |i: usize| r.get(i).and_then(Value::as_text).map(str::to_owned);
                Some((text(0)?, text(1)?))
            })
            .collect())
    }

    /// Notifies one device now, or at the end of its interval when it had one within it.
    fn wake(self: Arc<Self>, account_id: String, device_id: String) {
        tokio::spawn(async move {
            let Some(sender) = self.sender.clone() else {
                return;
            };
            let now = now_ms();
            let interval = self.interval.as_millis() as i64;
            let claimed = self
                .db
                .query(
                    "UPDATE push_devices SET pushed_ms = $1 WHERE pos_account_id = $2 AND device_id = $3 \
                     AND pushed_ms <= $4 AND NOT EXISTS (SELECT 1 FROM till_streams s WHERE \
                     s.pos_account_id = push_devices.pos_account_id AND s.device_id = push_devices.device_id \
                     AND s.until_ms > $1) RETURNING token",
                    vec![
                        Value::int(now),
                        Value::text(&account_id),
                        Value::text(&device_id),
                        Value::int(now - interval),
                    ],
                )
                .await;
            let token = match claimed {
                Ok(rows) => rows
                    .first()
                    .and_then(|r| r.first())
                    .and_then(Value::as_text)
                    .map(str::to_owned),
                Err(e) => {
                    tracing::warn!(error = %e, "notification not claimed; none sent");
                    return;
                }
            };
            let Some(token) = token else {
                self.metrics.push_notification("held");
                self.hold(account_id, device_id).await;
                return;
            };
            let delivery = tokio::time::timeout(SEND_LIMIT, sender.send(&token))
                .await
                .unwrap_or_else(|_| Delivery::Failed("no answer in time".into()));
            match delivery {
                Delivery::Sent => {
                    self.metrics.push_notification("sent");
                    tracing::info!(device = device_id, "till notified");
                }
                Delivery::Gone { since_ms } => {
                    self.metrics.push_notification("gone");
                    let removed = self
                        .db
                        .execute(
                            "DELETE FROM push_devices WHERE token = $1 AND registered_ms <= $2",
                            vec![
                                Value::text(&token),
                                Value::int(since_ms.unwrap_or(i64::MAX)),
                            ],
                        )
                        .await;
                    match removed {
                        Ok(n) => {
                            tracing::info!(device = device_id, removed = n, "device token gone")
                        }
                        Err(e) => tracing::warn!(error = %e, "gone device token not removed"),
                    }
                }
                Delivery::Failed(why) => {
                    self.metrics.push_notification("failed");
                    tracing::warn!(device = device_id, why, "till not notified");
                }
            }
        });
    }

    /// The device had a notification within the interval: one more is sent at its end (once,
    /// however many events come meanwhile), unless it streams by then or left.
    async fn hold(self: Arc<Self>, account_id: String, device_id: String) {
        let rows = self
            .db
            .query(
                "SELECT pushed_ms FROM push_devices WHERE pos_account_id = $1 AND device_id = $2",
                vec![Value::text(&account_id), Value::text(&device_id)],
            )
            .await;
        let Some(pushed_ms) = rows
            .ok()
            .and_then(|rows| rows.first().and_then(|r| r.first()).and_then(Value::as_int))
        else {
            return; // unregistered meanwhile
        };
        let key = (account_id.clone(), device_id.clone());
        let newly = self
            .held
            .lock()
            .map(|mut h| h.insert(key.clone()))
            .unwrap_or(false);
        if !newly {
            return;
        }
        let due = pushed_ms + self.interval.as_millis() as i64 - now_ms();
        tokio::time::sleep(Duration::from_millis(due.max(0) as u64 + 5)).await;
        if let Ok(mut held) = self.held.lock() {
            held.remove(&key);
        }
        match self.streaming(&account_id, &device_id).await {
            Ok(false) => self.wake(account_id, device_id),
            Ok(true) => {}
            Err(e) => tracing::warn!(error = %e, "held notification dropped"),
        }
    }

    /// Forgets stream leases long run out (every replica's purge).
    pub async fn prune(&self) -> StoreResult<()> {
        self.db
            .execute(
                "DELETE FROM till_streams WHERE until_ms < $1",
                vec![Value::int(now_ms() - 3_600_000)],
            )
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_hex_and_kept_lower_case() {
        let apns = "A1B2".repeat(16);
        assert_eq!(normalize_token(&apns), Some("a1b2".repeat(16)));
        assert_eq!(normalize_token("abc"), None, "odd and short");
        assert_eq!(normalize_token(&"zz".repeat(32)), None, "not hex");
        assert_eq!(normalize_token(&"ab".repeat(300)), None, "too long");
    }
}
