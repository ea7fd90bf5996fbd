//! The host's event listener in tests (the core's own, the end-to-end tests, the walkthrough and
//! the benchmarks): it keeps every event, and a waiter wakes on each delivery rather than polling
//! on a timer.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use crate::events::{EventListener, PasserelleEvent};
use tokio::sync::Notify;

/// Keeps every event Passerelle delivers, in order, so that callers can wait for one.
#[derive(Default)]
pub struct EventRecorder {
    events: Mutex<Vec<PasserelleEvent>>,
    /// Signalled after each event is recorded.
    delivered: Notify,
}

/// No event matched within the time allowed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("event not delivered within {waited:?}; got {seen:?}")]
pub struct NotDelivered {
    pub waited: Duration,
    /// Every event recorded when the wait ended.
    pub seen: Vec<PasserelleEvent>,
}

impl EventListener for EventRecorder {
    fn on_event(&self, event: PasserelleEvent) {
        self.lock().push(event);
        self.delivered.notify_waiters();
    }
}

impl EventRecorder {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<PasserelleEvent>> {
        self.events.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every event delivered so far.
    pub fn events(&self) -> Vec<PasserelleEvent> {
        self.lock().clone()
    }

    /// How many delivered events match.
    pub fn count(&self, matches: impl Fn(&PasserelleEvent) -> bool) -> usize {
        self.lock().iter().filter(|e| matches(e)).count()
    }

    /// A position to wait from ([`EventRecorder::wait_for_after`]): events before it are not
    /// considered.
    pub fn mark(&self) -> usize {
        self.lock().len()
    }

    /// The first event delivered (before or during the wait) that matches, waiting up to
    /// `timeout`.
    pub async fn wait_for(
        &self,
        matches: impl Fn(&PasserelleEvent) -> bool,
        timeout: Duration,
    ) -> Result<PasserelleEvent, NotDelivered> {
        self.wait_for_after(0, matches, timeout).await
    }

    /// The first event delivered after `mark` that matches, waiting up to `timeout`.
    pub async fn wait_for_after(
        &self,
        mark: usize,
        matches: impl Fn(&PasserelleEvent) -> bool,
        timeout: Duration,
    ) -> Result<PasserelleEvent, NotDelivered> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // Registered before looking, so an event recorded in between still wakes us.
            let delivered = self.delivered.notified();
            tokio::pin!(delivered);
            delivered.as_mut().enable();
            if let Some(found) = self.find_after(mark, &matches) {
                return Ok(found);
            }
            if tokio::time::timeout_at(deadline, delivered).await.is_err() {
                return self.find_after(mark, &matches).ok_or_else(|| NotDelivered {
                    waited: timeout,
                    seen: self.events(),
                });
            }
        }
    }

    fn find_after(
        &self,
        mark: usize,
        matches: &impl Fn(&PasserelleEvent) -> bool,
    ) -> Option<PasserelleEvent> {
        self.lock().iter().skip(mark).find(|e| matches(e)).cloned()
    }
}

/// Matches the `OrderReceived` event of one order.
pub fn order_received(order_id: &str) -> impl Fn(&PasserelleEvent) -> bool + '_ {
    move |e| matches!(e, PasserelleEvent::OrderReceived { order } if order.id == order_id)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use super::*;

    fn restart(version: u64) -> PasserelleEvent {
        PasserelleEvent::ConfigurationApplied { version }
    }

    #[tokio::test]
    async fn an_event_already_delivered_is_found_at_once() {
        let recorder = EventRecorder::new();
        recorder.on_event(restart(2));
        let found = recorder
            .wait_for(|e| *e == restart(2), Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(found, restart(2));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_waiter_wakes_when_the_event_arrives_from_another_thread() {
        let recorder = Arc::new(EventRecorder::new());
        let sender = recorder.clone();
        let thread = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            sender.on_event(restart(1));
            sender.on_event(restart(2));
        });
        let started = std::time::Instant::now();
        let found = recorder
            .wait_for(|e| *e == restart(2), Duration::from_secs(30))
            .await
            .unwrap();
        assert_eq!(found, restart(2));
        assert!(started.elapsed() < Duration::from_secs(10));
        thread.join().unwrap();
    }

    #[tokio::test]
    async fn events_before_the_mark_are_not_considered() {
        let recorder = EventRecorder::new();
        recorder.on_event(restart(1));
        let mark = recorder.mark();
        let missing = recorder
            .wait_for_after(mark, |e| *e == restart(1), Duration::from_millis(20))
            .await
            .unwrap_err();
        assert_eq!(missing.seen, vec![restart(1)]);
        recorder.on_event(restart(1));
        assert!(
            recorder
                .wait_for_after(mark, |e| *e == restart(1), Duration::from_millis(20))
                .await
                .is_ok()
        );
        assert_eq!(recorder.count(|e| *e == restart(1)), 2);
    }
}
