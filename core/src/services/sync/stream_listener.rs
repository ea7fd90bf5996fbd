//! The fast path (issue 24): the POS backend relays HubRise's events as they happen on one
//! stream per till (`clients::pos::event_stream`), and the listener takes each order event at
//! once: fetched, stored by order id and announced, its automatic `received` pushed. Polling
//! stays as the safety net at the configured interval, so nothing depends on the stream:
//!
//! - a backend without the stream (404) leaves the till polling, as before, and says nothing;
//! - a stream that drops is opened again with backoff, from the last message's id
//!   (`Last-Event-ID`); while it is down every connection shows `Delayed`/`PushChannelDown` and
//!   orders come by polling (HubRise keeps what the backend could not acknowledge);
//! - an event the backend could not keep for this till (`gap`), or whose order cannot be read
//!   now, asks the connection for a catch-up from HubRise's list, which the next cycle runs;
//! - the stream, the poll and the catch-up may bring one order in any order: it is stored and
//!   announced once (`Cycle::take_event`).
//!
//! One listener per instance while sync runs; it closes its stream as soon as the app goes to
//! the background (`pause_changed`), so the backend sees the till gone and may wake it with a
//! notification, and opens it again as soon as the app is back.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::{Notify, watch};

use super::backoff;
use super::connection::ConnectionSync;
use super::cycle::SyncParts;
use super::running::Workers;
use super::worker;
use crate::clients::hubrise::api::EventRef;
use crate::clients::pos::backend::PosBackend;
use crate::clients::pos::event_stream::{EventStream, GAP, READY, StreamMessage, TILL_CHANGE};
use crate::context::session_keeper::PosSessionKeeper;
use crate::error::{Error, Result};
use crate::logging::lock;
use crate::model::health::DelayReason;
use crate::store::{connections, meta};
use crate::time::{now_ms, system_ms};

/// The backend sends a keep-alive every 15 s: this long without a byte, the stream is dead.
const SILENCE: Duration = Duration::from_secs(45);
/// The longest wait before opening the stream again.
const REOPEN_CAP: Duration = Duration::from_secs(30);
/// A catch-up asked for by the stream starts this long before the last message it read.
const CATCH_UP_BEFORE_MS: i64 = 60_000;
/// The locations `position` names that `kept` does not (positions: `loc:seq,loc:seq`).
fn new_locations(kept: Option<&str>, position: Option<&str>) -> Vec<String> {
    let locations = |p: Option<&str>| -> Vec<String> {
        p.unwrap_or_default()
            .split(',')
            .filter_map(|part| part.trim().rsplit_once(':').map(|(l, _)| l.to_owned()))
            .filter(|l| !l.is_empty())
            .collect()
    };
    let kept = locations(kept);
    locations(position)
        .into_iter()
        .filter(|l| !kept.contains(l))
        .collect()
}

/// A stream that ends sooner than this counts as a failure for the reopening's backoff.
const SHORTEST_STREAM: Duration = Duration::from_secs(30);
/// How long the stream waits for one connection to take a message (its cycle lock, HubRise's
/// answer): past it, the message is left to that connection's next cycle, and so are its next
/// messages for [`BEHIND_FOR`], so that one slow connection never holds back the stream of
/// the others.
const TAKE_BUDGET: Duration = Duration::from_secs(2);
/// How long a connection that ran out of [`TAKE_BUDGET`] leaves its messages to its cycles.
const BEHIND_FOR: Duration = Duration::from_secs(10);

/// What the listener needs besides the sync parts: the POS backend and its session, this till.
pub(super) struct StreamLink {
    pub pos: PosBackend,
    pub sessions: Arc<PosSessionKeeper>,
    pub device_id: Arc<str>,
}

/// Runs until `stopped`, or until the backend says it has no stream.
pub(super) async fn run(
    parts: Arc<SyncParts>,
    link: Arc<StreamLink>,
    workers: Workers,
    mut stopped: watch::Receiver<bool>,
    paused: Arc<AtomicBool>,
    pause_changed: Arc<Notify>,
) {
    let mut listener = Listener {
        parts,
        link,
        workers,
        last_id: None,
        last_read_ms: now_ms(),
        behind: HashMap::new(),
    };
    listener.restore_position();
    let mut failures = 0u32;
    while !*stopped.borrow() {
        let resumed = pause_changed.notified();
        if paused.load(Ordering::SeqCst) {
            listener.set_down(false);
            tokio::select! {
                _ = resumed => {}
                _ = tokio::time::timeout(Duration::from_secs(1), stopped.changed()) => {}
            }
            continue;
        }
        drop(resumed);
        let opened = std::time::Instant::now();
        let ended = match listener.open().await {
            Ok(None) => {
                tracing::info!(target: "passerelle::sync", "the POS backend has no event stream: polling only");
                listener.set_down(false);
                return;
            }
            Ok(Some(stream)) => {
                listener.set_down(false);
                listener
                    .read(stream, &mut stopped, &paused, &pause_changed)
                    .await
            }
            Err(err) => Err(err),
        };
        let planned = matches!(ended, Ok(())) && opened.elapsed() >= SHORTEST_STREAM;
        if !planned {
            // Its connections poll at once, and at their pace until a stream names them again.
            listener.stream_ended();
        }
        let wait = match ended {
            // The backend ended it after minutes, as it does (the next one, opened at once,
            // resumes where this one stood: nothing to poll for), or the app went to the
            // background (the loop waits for the foreground).
            Ok(()) if planned || paused.load(Ordering::SeqCst) => {
                failures = 0;
                Duration::ZERO
            }
            // Ended at once (a replica stopping, a proxy cutting streams): each reopen costs a
            // poll and the backend's callback check, so it backs off like a failure.
            Ok(()) => {
                failures = failures.saturating_add(1);
                backoff::delay(failures).min(REOPEN_CAP)
            }
            Err(err) => {
                tracing::warn!(target: "passerelle::sync", code = err.code(), "event stream down; polling meanwhile");
                if matches!(err, Error::NotSignedIn | Error::PosSessionOver) {
                    return listener.set_down(false);
                }
                listener.set_down(true);
                failures = failures.saturating_add(1);
                backoff::delay(failures).min(REOPEN_CAP)
            }
        };
        let _ = tokio::time::timeout(wait, stopped.changed()).await;
    }
    listener.set_down(false);
}

struct Listener {
    parts: Arc<SyncParts>,
    link: Arc<StreamLink>,
    workers: Workers,
    /// The last message's id: where the next stream resumes.
    last_id: Option<String>,
    /// When the stream last brought something (a catch-up starts before it).
    last_read_ms: i64,
    /// The connections that ran out of [`TAKE_BUDGET`], until when.
    behind: HashMap<String, Instant>,
}

impl Listener {
    async fn open(&self) -> Result<Option<EventStream>> {
        let link = &self.link;
        let last_id = self.last_id.as_deref();
        link.sessions
            .authorized(|token| async move {
                link.pos
                    .open_event_stream(&token, &link.device_id, last_id)
                    .await
            })
            .await
    }

    /// Takes the stream's messages until it ends (`Ok`), fails or goes silent (`Err`), or sync
    /// stops or pauses (`Ok`).
    async fn read(
        &mut self,
        mut stream: EventStream,
        stopped: &mut watch::Receiver<bool>,
        paused: &AtomicBool,
        pause_changed: &Notify,
    ) -> Result<()> {
        loop {
            // Waiting for the notice before looking at the flag: a pause between the two is
            // heard. Returning drops the stream, which closes the connection.
            let paused_now = pause_changed.notified();
            if paused.load(Ordering::SeqCst) {
                return Ok(());
            }
            let next = tokio::select! {
                next = tokio::time::timeout(SILENCE, stream.next()) => next,
                _ = stopped.changed() => return Ok(()),
                _ = paused_now => continue,
            };
            let Ok(next) = next else {
                return Err(Error::internal("the event stream went silent"));
            };
            let Some(messages) = next? else {
                return Ok(());
            };
            let before = self.last_id.clone();
            let mut taken = Ok(());
            for message in messages {
                taken = self.take(&message).await;
                if taken.is_err() {
                    break;
                }
            }
            if self.last_id != before {
                self.keep_position();
            }
            // A message neither taken nor left to a cycle: the next stream brings it again.
            taken?;
        }
    }

    /// The key of the signed-in account's stream position (its active connections' account).
    fn position_key(&self) -> Option<String> {
        let id = self.parts.active.get().connection_ids.into_iter().next()?;
        let row = self.parts.store.read(|c| connections::get(c, &id)).ok()?;
        Some(meta::event_stream_position(&row.pos_account_id))
    }

    /// Where the last launch left the stream, and when it last took an event.
    fn restore_position(&mut self) {
        let Some(key) = self.position_key() else {
            return;
        };
        let kept = self.parts.store.read(|c| meta::get(c, &key)).ok().flatten();
        let Some((at, position)) = kept.as_deref().and_then(|k| k.split_once(' ')) else {
            return;
        };
        if let Ok(at) = at.parse() {
            self.last_read_ms = at;
            self.last_id = Some(position.to_owned());
        }
    }

    /// Keeps where the stream stands, once the messages up to there were taken (their orders
    /// stored): the next stream, in this launch or the next, resumes from there.
    fn keep_position(&self) {
        let (Some(position), Some(key)) = (self.last_id.as_deref(), self.position_key()) else {
            return;
        };
        let value = format!("{} {position}", self.last_read_ms);
        let kept = self.parts.store.write(|tx| meta::set(tx, &key, &value));
        if let Err(err) = kept {
            tracing::warn!(target: "passerelle::sync", code = err.code(), "stream position not kept");
        }
    }

    /// One message: an order event is taken, a gap asks for a catch-up. A message that cannot
    /// be read is skipped (the poll and the read-back are still there). An error: the message
    /// was neither taken nor left to a cycle (the store failed), and the position stays before
    /// it.
    async fn take(&mut self, message: &StreamMessage) -> Result<()> {
        let Ok(data) = serde_json::from_str::<Value>(&message.data) else {
            tracing::warn!(target: "passerelle::sync", event = %message.event, "stream message not read");
            return Ok(());
        };
        let location = data
            .get("location_id")
            .and_then(Value::as_str)
            .unwrap_or("");
        let since_ms = self.last_read_ms - CATCH_UP_BEFORE_MS;
        let ids = self.connections_at(location);
        match message.event.as_str() {
            READY => self.streamed(&data, message.id.as_deref()),
            GAP => {
                self.ask_catch_up(&ids, since_ms);
                self.wake(&ids);
            }
            TILL_CHANGE => {
                self.take_sibling_change(&ids, &data["event"], since_ms)
                    .await?;
            }
            _ => {
                if let Some(event) = data.get("event").and_then(EventRef::from_entry) {
                    self.take_order_event(&ids, &event, since_ms).await?;
                }
                // A gap catches up from the last event taken, not from a keep-alive or a ready.
                self.last_read_ms = now_ms();
            }
        }
        if message.id.is_some() {
            self.last_id.clone_from(&message.id);
        }
        Ok(())
    }

    /// The backend receives HubRise's events of the locations it names (its active callback is
    /// on them): their connections poll as a safety net only while the stream lasts. A location
    /// the stream had not brought before (`position`, where the backend starts, names it and the
    /// kept position does not) may have had events the backend acknowledged before this till
    /// streamed it: its connections catch up from HubRise's list since they were made.
    fn streamed(&self, data: &Value, position: Option<&str>) {
        let locations = data
            .get("hubrise_events")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let received: Vec<&str> = locations.iter().filter_map(Value::as_str).collect();
        // Only where the backend takes HubRise's events could it have acknowledged some.
        let new = new_locations(self.last_id.as_deref(), position);
        for location in new.iter().filter(|l| received.contains(&l.as_str())) {
            for id in self.connections_at(location) {
                let made = self.parts.store.read(|c| connections::get(c, &id));
                let since_ms = made
                    .map(|row| system_ms(row.public.created_at))
                    .unwrap_or(0);
                self.ask_catch_up(std::slice::from_ref(&id), since_ms - CATCH_UP_BEFORE_MS);
            }
        }
        let ids = received
            .iter()
            .flat_map(|location| self.connections_at(location))
            .collect();
        // A connection the stream no longer brings polls now, not at its slowed pace.
        let dropped = self.parts.push_channel.set_streamed(ids);
        self.wake(&dropped);
    }

    /// A sibling till's change, relayed by the backend: read on each of the location's
    /// connections (`ids`). This till's own changes come back too, and are skipped.
    async fn take_sibling_change(
        &mut self,
        ids: &[String],
        change: &Value,
        since_ms: i64,
    ) -> Result<()> {
        let text = |key: &str| change.get(key).and_then(Value::as_str);
        let (Some(order_id), Some(status)) = (text("order_id"), text("status")) else {
            return Ok(());
        };
        if text("device_id") == Some(&*self.link.device_id) {
            return Ok(());
        }
        let mut left = Vec::new();
        for id in ids {
            let sync = ConnectionSync::new(&self.parts, id);
            let take = sync.take_sibling_change(&self.parts, order_id, status, since_ms);
            match within_budget(&mut self.behind, id, take).await {
                Some(Ok(true)) => continue,
                Some(Ok(false)) => {}
                Some(Err(err)) => {
                    tracing::warn!(target: "passerelle::sync", connection = %id, code = err.code(), "sibling's change left to the next cycle");
                    sync.leave_to_cycle(&self.parts, Some(order_id), since_ms)?;
                }
                None => sync.leave_to_cycle(&self.parts, Some(order_id), since_ms)?,
            }
            left.push(id.clone());
        }
        // Their next cycle reads the order now, not in minutes.
        self.wake(&left);
        Ok(())
    }

    /// The stream ended: the connections it brought the events of poll now, then at the
    /// configured interval again.
    fn stream_ended(&self) {
        let ids: Vec<String> = self.parts.push_channel.stream_ended().into_iter().collect();
        self.wake(&ids);
    }

    /// Takes an order event on each of the location's connections (`ids`); where it could not
    /// be taken, the connection runs a full cycle now, which reads it.
    async fn take_order_event(
        &mut self,
        ids: &[String],
        event: &EventRef,
        since_ms: i64,
    ) -> Result<()> {
        let mut left = Vec::new();
        for id in ids {
            let sync = ConnectionSync::new(&self.parts, id);
            let take = sync.take_streamed(&self.parts, event, since_ms);
            let taken = match within_budget(&mut self.behind, id, take).await {
                Some(taken) => taken?,
                None => {
                    sync.leave_to_cycle(&self.parts, event.order_id.as_deref(), since_ms)?;
                    false
                }
            };
            if !taken {
                left.push(id.clone());
            } else if let Some(worker) = lock(&self.workers).get(id) {
                // Its automatic `received` goes out now, not at the next cycle.
                worker.push.notify_one();
            }
        }
        self.wake(&left);
        Ok(())
    }

    /// The active connections of `location`.
    fn connections_at(&self, location: &str) -> Vec<String> {
        let ids = self.parts.active.get().connection_ids;
        let read = self.parts.store.read(|c| {
            let mut at = Vec::new();
            for id in ids {
                if connections::get(c, &id)?.public.location_id == location {
                    at.push(id);
                }
            }
            Ok(at)
        });
        read.unwrap_or_default()
    }

    /// Asks each connection of `ids` for a catch-up of what was placed since `since_ms`.
    fn ask_catch_up(&self, ids: &[String], since_ms: i64) {
        for id in ids {
            let asked = self
                .parts
                .store
                .write(|tx| connections::request_catch_up(tx, id, since_ms));
            if let Err(err) = asked {
                tracing::warn!(target: "passerelle::sync", connection = %id, code = err.code(), "catch-up not asked for");
            }
        }
    }

    /// Runs a full cycle of the connections `ids` now (a catch-up is waiting).
    fn wake(&self, ids: &[String]) {
        let workers = lock(&self.workers);
        for id in ids {
            if let Some(worker) = workers.get(id) {
                worker.wake.request(worker::FULL);
            }
        }
    }

    /// Shows every active connection delayed for the stream being down, or no longer.
    fn set_down(&self, down: bool) {
        for id in self.parts.active.get().connection_ids {
            self.parts
                .health
                .set_slowed(&id, DelayReason::PushChannelDown, down);
        }
    }
}

/// Runs `take`, connection `id`'s part of a message, within [`TAKE_BUDGET`]. `None` when it ran
/// out (cancelled: a take writes once, with nothing awaited after, so nothing was stored) or
/// when the connection is still behind: the caller leaves the message to its cycle.
async fn within_budget<T>(
    behind: &mut HashMap<String, Instant>,
    id: &str,
    take: impl Future<Output = T>,
) -> Option<T> {
    let now = Instant::now();
    if behind.get(id).is_some_and(|until| *until > now) {
        return None;
    }
    let done = tokio::time::timeout(TAKE_BUDGET, take).await.ok();
    if done.is_none() {
        tracing::warn!(target: "passerelle::sync", connection = %id, "connection slow to take the stream's messages; left to its cycles");
        behind.insert(id.to_owned(), now + BEHIND_FOR);
    }
    done
}

#[cfg(test)]
mod tests {
    use super::new_locations;

    #[test]
    fn a_location_the_kept_position_does_not_name_is_new() {
        assert_eq!(new_locations(None, Some("a:3,b:0")), ["a", "b"]);
        assert_eq!(new_locations(Some("a:7"), Some("a:7,b:0")), ["b"]);
        assert!(new_locations(Some("a:7,b:2"), Some("b:2,a:7")).is_empty());
        assert!(new_locations(Some("a:7"), None).is_empty());
    }
}
