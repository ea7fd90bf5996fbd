//! `GET /hubrise/events`: a till's stream of its locations' events (Server-Sent Events).
//! Authenticated with the till's POS token, scoped to the account's active connections'
//! locations. Each location's events come in order; the `id` of each message names every
//! location's position (`3r4s3-1:17,3r4s3-2:4`), so `Last-Event-ID` resumes them all. Without
//! it the till's cursor kept here (by `device_id`) says where it was; a till never seen starts
//! at the newest event. A jump in a location's numbers (events pruned while it was away) is told
//! as an `event: gap` message, for the till to catch up by polling HubRise. The first message,
//! `event: ready`, names the locations whose HubRise events the bridge receives (so their tills
//! poll HubRise as a safety net only); a sibling till's change comes as `event: till.change`
//! (`changes.rs`).

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::{ApiError, App, Caller};
use crate::events::Stored;

/// A stream ends after this long; the till opens another (its token is checked again).
const STREAM_LIFETIME: Duration = Duration::from_secs(300);
/// A stream looks at the database this often even without a wake-up (a notice lost).
const SAFETY_POLL: Duration = Duration::from_secs(30);
/// Events read per query.
const BATCH: i64 = 100;
/// How long opening a stream waits for the active callbacks to be checked; a location not
/// checked by then is not named in `ready` (its tills keep polling HubRise at their pace).
const CALLBACK_CHECK_WITHIN: Duration = Duration::from_secs(5);
/// The stream's first message.
pub const READY: &str = "ready";
/// A connection's active callback, once checked, is taken as there for this long.
const CALLBACK_CHECKED_FOR: Duration = Duration::from_secs(3600);

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[derive(serde::Deserialize)]
pub(super) struct StreamQuery {
    device_id: Option<String>,
}

/// One till's place in its locations' events.
struct Till {
    account_id: String,
    device_id: String,
    locations: Vec<String>,
    cursors: Vec<i64>,
}

impl Till {
    /// The SSE id: every location's position.
    fn id(&self) -> String {
        self.locations
            .iter()
            .zip(&self.cursors)
            .map(|(l, c)| format!("{l}:{c}"))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// `Last-Event-ID` read as positions by location (anything unreadable is left out).
fn resume_points(headers: &HeaderMap) -> HashMap<String, i64> {
    let Some(text) = headers.get("last-event-id").and_then(|v| v.to_str().ok()) else {
        return HashMap::new();
    };
    text.split(',')
        .filter_map(|part| {
            let (location, seq) = part.trim().rsplit_once(':')?;
            Some((location.to_owned(), seq.parse().ok()?))
        })
        .collect()
}

pub(super) async fn open(
    State(app): State<Arc<App>>,
    Caller(account): Caller,
    Query(query): Query<StreamQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let device_id = query
        .device_id
        .filter(|d| !d.is_empty() && d.len() <= 200)
        .unwrap_or_else(|| "default".to_owned());
    let mut locations: Vec<String> = app
        .store
        .connections(&account.account_id)
        .await?
        .into_iter()
        .filter(|c| !c.removed)
        .filter_map(|c| c.names.location_id)
        .collect();
    locations.sort();
    locations.dedup();
    let resume = resume_points(&headers);
    let mut cursors = Vec::with_capacity(locations.len());
    // Locations a till resumes past their newest event (a database restored from a backup, a
    // till that talked to another backend): it starts at the newest and is told of a gap.
    let mut beyond = Vec::new();
    for location in &locations {
        let cursor = match resume.get(location) {
            Some(seq) => {
                let head = app.events.head(location).await?;
                if *seq > head {
                    beyond.push(location.clone());
                }
                (*seq).min(head)
            }
            None => match app
                .events
                .cursor(&account.account_id, &device_id, location)
                .await?
            {
                Some(seq) => seq,
                None => app.events.head(location).await?,
            },
        };
        // The till counts as one of the location's from now on (events wait for it).
        app.events
            .set_cursor(&account.account_id, &device_id, location, cursor)
            .await?;
        cursors.push(cursor);
    }
    let streamed = if app.hubrise.takes_events() {
        tokio::time::timeout(
            CALLBACK_CHECK_WITHIN,
            ensure_active_callbacks(&app, &account.account_id),
        )
        .await
        .unwrap_or_default()
    } else {
        Vec::new()
    };
    let till = Till {
        account_id: account.account_id,
        device_id,
        locations,
        cursors,
    };
    let (sender, receiver) = mpsc::channel(64);
    // The first message, before any event: the till polls these locations as a safety net only,
    // and resumes from where it stands now if this stream is cut before its next message.
    let _ = sender.try_send(ready_message(&till, &streamed));
    for location in &beyond {
        let _ = sender.try_send(gap_message(&till, location));
    }
    tokio::spawn(pump(app, till, sender));
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver
            .recv()
            .await
            .map(|event| (Ok::<_, Infallible>(event), receiver))
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// A device that registered its passive callback after the exchange replaced the bridge's
/// active one: registered again (a `GET /callback` each when it is already there), at most once
/// per [`CALLBACK_CHECKED_FOR`] per connection and replica: every till of an account opens a
/// stream every few minutes, and checking all the account's connections each time cost HubRise
/// requests by the square of its tills. Returns the locations whose events the bridge receives.
async fn ensure_active_callbacks(app: &App, account_id: &str) -> Vec<String> {
    let Ok(connections) = app.store.active_connections(account_id).await else {
        return Vec::new();
    };
    let mut streamed = Vec::new();
    for (connection, token) in connections {
        let Some(location) = connection.names.location_id.clone() else {
            continue;
        };
        let key = (
            account_id.to_owned(),
            location.clone(),
            connection.created_at.clone(),
        );
        let fresh = lock(&app.callbacks_checked)
            .get(&key)
            .is_some_and(|at| at.elapsed() < CALLBACK_CHECKED_FOR);
        if fresh {
            streamed.push(location);
            continue;
        }
        match app.hubrise.register_order_callback(&token).await {
            Ok(()) => {
                lock(&app.callbacks_checked).insert(key, std::time::Instant::now());
                streamed.push(location);
            }
            Err(e) => {
                tracing::warn!(error = %e, "active callback not registered; polling still works");
            }
        }
    }
    streamed.sort();
    streamed.dedup();
    streamed
}

/// `event: ready`: the locations whose HubRise events this bridge receives (its active
/// callback is on them), so their tills can poll HubRise as a safety net only.
fn ready_message(till: &Till, streamed: &[String]) -> Event {
    Event::default()
        .id(till.id())
        .event(READY)
        .data(json!({ "hubrise_events": streamed }).to_string())
}

/// Sends the till its locations' new events until it goes away or the stream's time is up.
/// While it runs the till holds a lease (with a push service configured): it is not woken by
/// notifications, and is again from the moment the stream ends (the till closed it going to
/// the background, or is gone).
async fn pump(app: Arc<App>, till: Till, sender: mpsc::Sender<Event>) {
    let lease = app
        .push
        .stream_opened(&till.account_id, &till.device_id)
        .await;
    let (account_id, device_id) = (till.account_id.clone(), till.device_id.clone());
    pump_events(&app, till, sender, lease.as_deref()).await;
    if let Some(lease) = lease {
        app.push
            .stream_closed(&account_id, &device_id, &lease)
            .await;
    }
}

async fn pump_events(
    app: &Arc<App>,
    mut till: Till,
    sender: mpsc::Sender<Event>,
    lease: Option<&str>,
) {
    let mut renewed = tokio::time::Instant::now();
    let mut woken = app.hub.subscribe();
    let mut stopping = app.stopping.subscribe();
    let until = tokio::time::Instant::now() + STREAM_LIFETIME;
    loop {
        // Read before querying, so an event stored meanwhile wakes the next round.
        let seen = app.hub.generations(&till.locations);
        for index in 0..till.locations.len() {
            if !send_new(app, &mut till, index, &sender).await {
                return;
            }
        }
        if let Some(lease) = lease
            && renewed.elapsed() >= crate::push::RENEW_EVERY
        {
            app.push
                .stream_alive(&till.account_id, &till.device_id, lease)
                .await;
            renewed = tokio::time::Instant::now();
        }
        loop {
            tokio::select! {
                changed = woken.changed() => if changed.is_err() { return },
                _ = tokio::time::sleep(SAFETY_POLL) => break,
                _ = sender.closed() => return,
                _ = tokio::time::sleep_until(until) => return,
                _ = stopping.wait_for(|s| *s) => return,
            }
            if app.hub.generations(&till.locations) != seen {
                break;
            }
        }
    }
}

/// Sends one location's events after the till's cursor and records the new cursor; `false`
/// when the till is gone. A storage failure is logged and left for the next round.
async fn send_new(app: &App, till: &mut Till, index: usize, sender: &mpsc::Sender<Event>) -> bool {
    let location = till.locations[index].clone();
    loop {
        let batch = match app
            .events
            .after(&location, till.cursors[index], BATCH)
            .await
        {
            Ok(batch) => batch,
            Err(e) => {
                tracing::warn!(error = %e, "events not read; tried again");
                return true;
            }
        };
        if batch.is_empty() {
            return true;
        }
        for event in &batch {
            if event.seq > till.cursors[index] + 1 {
                till.cursors[index] = event.seq - 1;
                if sender.send(gap_message(till, &location)).await.is_err() {
                    return false;
                }
            }
            till.cursors[index] = event.seq;
            if let Some(message) = message(till, event)
                && sender.send(message).await.is_err()
            {
                return false;
            }
        }
        let seq = till.cursors[index];
        if let Err(e) = app
            .events
            .set_cursor(&till.account_id, &till.device_id, &location, seq)
            .await
        {
            tracing::warn!(error = %e, "till cursor not recorded");
        }
    }
}

/// An event as the till reads it: `event: order.create`, the data its location, number and
/// HubRise's event. A tombstone sends nothing.
fn message(till: &Till, event: &Stored) -> Option<Event> {
    let body: Value = serde_json::from_str(event.body.as_ref()?.expose()).ok()?;
    let data = json!({"location_id": event.location_id, "seq": event.seq, "event": body});
    Some(
        Event::default()
            .id(till.id())
            .event(&event.kind)
            .data(data.to_string()),
    )
}

fn gap_message(till: &Till, location: &str) -> Event {
    Event::default()
        .id(till.id())
        .event("gap")
        .data(json!({"location_id": location}).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_event_id_resumes_every_location_it_names() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "last-event-id",
            "3r4s3-1:17, 3r4s3-2:4,junk,x:y"
                .parse()
                .unwrap_or_else(|_| unreachable!()),
        );
        let points = resume_points(&headers);
        assert_eq!(points.len(), 2);
        assert_eq!(points["3r4s3-1"], 17);
        assert_eq!(points["3r4s3-2"], 4);
        let till = Till {
            account_id: "a".into(),
            device_id: "d".into(),
            locations: vec!["3r4s3-1".into(), "3r4s3-2".into()],
            cursors: vec![17, 4],
        };
        assert_eq!(till.id(), "3r4s3-1:17,3r4s3-2:4");
    }
}
