//! What the POS backend's event stream changes for the rest of sync (issue 24, design D37):
//!
//! - **Connections HubRise's events reach through the stream.** The backend names, when the
//!   stream opens, the locations whose HubRise events it receives itself (its active callback is
//!   registered on them). Their polls of `/callback/events` become a safety net, every
//!   [`STREAMED_POLL_INTERVAL`], and the read-back of open orders a consistency check, every
//!   [`STREAMED_READ_BACK_INTERVAL`]: orders come through the stream, and siblings' changes too
//!   (below). The moment the stream ends, every such connection polls at once and then at the
//!   configured interval again.
//! - **The changes this till made**, queued for the backend to relay to the location's other
//!   tills (`sibling_relay.rs`): HubRise never tells a client of its own changes (design D22).

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::logging::lock;

use crate::clients::pos::event_stream::ChangeMade;

/// The poll of a streamed connection: a safety net for an event the backend missed.
pub const STREAMED_POLL_INTERVAL: Duration = Duration::from_secs(5 * 60);
/// The read-back of a streamed connection's open orders: a consistency check (siblings'
/// changes come through the stream).
pub const STREAMED_READ_BACK_INTERVAL: Duration = Duration::from_secs(10 * 60);
/// Changes waiting for the relay beyond this many drop the oldest (the siblings' read-back
/// still sees them).
const MAX_WAITING: usize = 256;
/// A change not relayed within this long is no longer worth relaying: the siblings' read-back
/// has it by then, or will.
const RELAY_WITHIN: Duration = Duration::from_secs(120);

#[derive(Default)]
pub(super) struct PushChannel {
    /// The connections whose HubRise events the stream brings.
    streamed: Mutex<HashSet<String>>,
    made: Mutex<VecDeque<(Instant, ChangeMade)>>,
    made_notify: Notify,
}

impl PushChannel {
    /// The stream brings the events of `ids` (and of no other connection); returns those it
    /// brought and no longer does.
    pub fn set_streamed(&self, ids: HashSet<String>) -> Vec<String> {
        let before = std::mem::replace(&mut *lock(&self.streamed), ids);
        let now = lock(&self.streamed);
        before.into_iter().filter(|id| !now.contains(id)).collect()
    }

    /// The stream ended: returns the connections it brought the events of.
    pub fn stream_ended(&self) -> HashSet<String> {
        std::mem::take(&mut *lock(&self.streamed))
    }

    fn is_streamed(&self, connection_id: &str) -> bool {
        lock(&self.streamed).contains(connection_id)
    }

    /// The time to the next poll of `connection_id`, for a configured `interval`.
    pub fn poll_interval(&self, connection_id: &str, interval: Duration) -> Duration {
        if self.is_streamed(connection_id) {
            interval.max(STREAMED_POLL_INTERVAL)
        } else {
            interval
        }
    }

    /// The spacing of `connection_id`'s read-back of open orders, for a configured `interval`.
    pub fn read_back_interval(&self, connection_id: &str, interval: Duration) -> Duration {
        if self.is_streamed(connection_id) {
            interval.max(STREAMED_READ_BACK_INTERVAL)
        } else {
            interval
        }
    }

    /// Queues a change HubRise accepted from this till, for its siblings. Never waits.
    pub fn made(&self, change: ChangeMade) {
        let mut made = lock(&self.made);
        if made.len() >= MAX_WAITING {
            made.pop_front();
        }
        made.push_back((Instant::now(), change));
        drop(made);
        self.made_notify.notify_one();
    }

    /// The next change to relay, skipping those too old to be worth it.
    pub async fn next_made(&self) -> ChangeMade {
        loop {
            let next = lock(&self.made).pop_front();
            match next {
                Some((at, change)) if at.elapsed() <= RELAY_WITHIN => return change,
                Some(_) => {}
                None => self.made_notify.notified().await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(order_id: &str) -> ChangeMade {
        ChangeMade {
            change_id: format!("d-{order_id}"),
            location_id: "l".into(),
            order_id: order_id.into(),
            status: "accepted".into(),
        }
    }

    #[test]
    fn a_streamed_connection_polls_and_reads_back_slower_until_the_stream_ends() {
        let channel = PushChannel::default();
        let interval = Duration::from_secs(30);
        let dropped = channel.set_streamed(HashSet::from(["c1".to_owned(), "c2".to_owned()]));
        assert!(dropped.is_empty());
        let dropped = channel.set_streamed(HashSet::from(["c1".to_owned()]));
        assert_eq!(dropped, ["c2"]);
        assert_eq!(
            channel.poll_interval("c1", interval),
            STREAMED_POLL_INTERVAL
        );
        assert_eq!(channel.poll_interval("c2", interval), interval);
        assert_eq!(
            channel.read_back_interval("c1", interval),
            STREAMED_READ_BACK_INTERVAL
        );
        assert_eq!(channel.stream_ended(), HashSet::from(["c1".to_owned()]));
        assert_eq!(channel.poll_interval("c1", interval), interval);
    }

    #[tokio::test]
    async fn changes_are_relayed_in_order_and_the_oldest_dropped_past_the_bound() {
        let channel = PushChannel::default();
        for i in 0..=MAX_WAITING {
            channel.made(change(&i.to_string()));
        }
        assert_eq!(channel.next_made().await.order_id, "1", "0 was dropped");
        assert_eq!(channel.next_made().await.order_id, "2");
    }
}
