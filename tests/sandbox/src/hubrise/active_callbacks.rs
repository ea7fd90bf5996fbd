//! Active callbacks: HubRise POSTs each event to the callback's URL, signed
//! `X-HubRise-Hmac-SHA256` (hex HMAC-SHA256 of the body keyed by the client secret). An answer
//! the options count as an acknowledgement deletes the event; otherwise it is retried on a
//! doubling schedule and stays readable with `GET /callback/events` until acknowledged, deleted
//! by the app, or given up (HubRise then deletes it too).
//!
//! One deliverer task per sandbox: woken when an event to send is queued, or when the next
//! retry falls due. Each attempt runs in its own task, so a slow app never holds back another
//! connection's events.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::model::{Connection, Event, HubriseData};
use crate::sandbox::{ActiveCallbacks, CallbackAck};
use crate::state::Shared;
use crate::{http_client, signing};

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// One attempt to make: what to send where.
struct Attempt {
    connection_id: String,
    event_id: String,
    url: String,
    body: String,
    signature: String,
}

/// Delivers events to active callbacks until `shutdown`.
pub(crate) fn spawn(shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
    let wake = shared.world().hubrise.deliveries.clone();
    tokio::spawn(async move {
        loop {
            let (attempts, next_due) = take_due(&shared);
            for attempt in attempts {
                tokio::spawn(send(shared.clone(), attempt));
            }
            // Nothing scheduled: sleep until an event is queued (an hour is just a bound).
            let wait = next_due.map_or(Duration::from_secs(3600), |due| {
                Duration::from_millis(due.saturating_sub(now_ms()))
            });
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.wait_for(|stop| *stop) => return,
            }
        }
    })
}

/// Marks the events due now in flight and returns their attempts, with the earliest due time
/// of the events left waiting.
fn take_due(shared: &Shared) -> (Vec<Attempt>, Option<u64>) {
    let legacy = shared.options().legacy_event_resource_id;
    let now = now_ms();
    let mut world = shared.world();
    let data = &mut world.hubrise;
    let secrets: Vec<(String, String)> = data
        .clients
        .iter()
        .map(|c| (c.id.clone(), c.secret.clone()))
        .collect();
    let mut attempts = Vec::new();
    let mut next_due: Option<u64> = None;
    for connection in data.connections.iter_mut() {
        let Some(url) = active_url(connection) else {
            continue;
        };
        let Some(secret) = secrets
            .iter()
            .find(|(id, _)| *id == connection.client_id)
            .map(|(_, s)| s.as_str())
        else {
            continue;
        };
        for event in connection.events.iter_mut() {
            let Some(delivery) = event.delivery.as_mut().filter(|d| !d.in_flight) else {
                continue;
            };
            if delivery.due_ms > now {
                next_due = Some(next_due.map_or(delivery.due_ms, |n| n.min(delivery.due_ms)));
                continue;
            }
            delivery.in_flight = true;
            let body = event.to_json(true, legacy).to_string();
            attempts.push(Attempt {
                connection_id: connection.id.clone(),
                event_id: event.id.clone(),
                url: url.clone(),
                signature: signing::hmac_hex(secret, body.as_bytes()),
                body,
            });
        }
    }
    (attempts, next_due)
}

/// The URL events are sent to now: a live connection's active callback.
fn active_url(connection: &Connection) -> Option<String> {
    if connection.state != super::model::ConnectionState::Active {
        return None;
    }
    connection.callback.as_ref()?.url.clone()
}

/// One POST; its outcome is settled under the lock.
async fn send(shared: Arc<Shared>, attempt: Attempt) {
    let options = shared.options().active_callbacks;
    let status = match http_client::client() {
        Ok(http) => http
            .post(&attempt.url)
            .header("content-type", "application/json")
            .header("x-hubrise-hmac-sha256", &attempt.signature)
            .timeout(options.timeout)
            .body(attempt.body.clone())
            .send()
            .await
            .map(|r| r.status().as_u16())
            .ok(),
        Err(_) => None,
    };
    let acknowledged = status.is_some_and(|s| acknowledges(options.ack, s));
    if !acknowledged {
        tracing::info!(
            "active callback {} for event {} not acknowledged ({status:?})",
            attempt.url,
            attempt.event_id
        );
    }
    let mut world = shared.world();
    settle(&mut world.hubrise, &attempt, acknowledged, &options);
}

/// Whether an answer's status acknowledges the event.
fn acknowledges(ack: CallbackAck, status: u16) -> bool {
    match ack {
        CallbackAck::Below500 => (200..500).contains(&status),
        CallbackAck::Only200 => status == 200,
    }
}

/// After an attempt: an acknowledged event is deleted; a failed one waits `retry_unit · 2^n`
/// before the next try, and is deleted once its retries are used up. An event the app deleted
/// meanwhile (a polling client) is simply gone.
fn settle(
    data: &mut HubriseData,
    attempt: &Attempt,
    acknowledged: bool,
    options: &ActiveCallbacks,
) {
    let Some(connection) = data.connection_mut(&attempt.connection_id) else {
        return;
    };
    let Some(index) = connection
        .events
        .iter()
        .position(|e| e.id == attempt.event_id)
    else {
        return;
    };
    let event: &mut Event = &mut connection.events[index];
    let Some(delivery) = event.delivery.as_mut() else {
        return;
    };
    delivery.in_flight = false;
    if !acknowledged {
        delivery.failed += 1;
    }
    if acknowledged || delivery.failed > options.retries {
        connection.events.remove(index);
        return;
    }
    let wait = options.retry_unit.as_millis() as u64 * (1u64 << (delivery.failed - 1).min(20));
    delivery.due_ms = now_ms() + wait;
    data.deliveries.notify_one();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acknowledgement_follows_the_chosen_reading() {
        assert!(acknowledges(CallbackAck::Below500, 200));
        assert!(acknowledges(CallbackAck::Below500, 404));
        assert!(!acknowledges(CallbackAck::Below500, 500));
        assert!(acknowledges(CallbackAck::Only200, 200));
        assert!(!acknowledges(CallbackAck::Only200, 204));
        assert!(!acknowledges(CallbackAck::Only200, 401));
    }
}
