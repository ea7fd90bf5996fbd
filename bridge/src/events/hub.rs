//! Who must look for new events: a generation number per location, bumped when an event is
//! stored here or another replica says so (Postgres `NOTIFY`), and one watch the tills' streams
//! wait on. A stream queries the database only when one of its locations moved, so an event
//! costs the streams of its location a query each, not every stream.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use crate::db::{Database, Heard};

/// The channel replicas tell each other on; the payload is a location id.
pub const CHANNEL: &str = "passerelle_bridge_events";

pub struct Hub {
    generations: Mutex<HashMap<String, u64>>,
    changed: watch::Sender<u64>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub {
            generations: Mutex::new(HashMap::new()),
            changed: watch::Sender::new(0),
        }
    }
}

impl Hub {
    /// Something new in `location_id`.
    pub fn wake(&self, location_id: &str) {
        if let Ok(mut generations) = self.generations.lock() {
            *generations.entry(location_id.to_owned()).or_default() += 1;
        }
        self.changed.send_modify(|n| *n += 1);
    }

    /// Anything may be new anywhere (notices were missed while the listener reconnected).
    pub fn wake_all(&self) {
        if let Ok(mut generations) = self.generations.lock() {
            generations.values_mut().for_each(|g| *g += 1);
        }
        self.changed.send_modify(|n| *n += 1);
    }

    /// The generations of `locations` now (a stream compares them after each wake-up).
    pub fn generations(&self, locations: &[String]) -> Vec<u64> {
        let Ok(mut generations) = self.generations.lock() else {
            return vec![0; locations.len()];
        };
        locations
            .iter()
            .map(|l| *generations.entry(l.clone()).or_default())
            .collect()
    }

    /// Changes whenever any location moves.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }
}

/// Stored an event of `location_id`: this replica's streams wake now, the others' when their
/// database notice arrives. A notice that cannot be sent is logged; the streams' periodic look
/// catches up.
pub async fn announce(hub: &Hub, db: &dyn Database, location_id: &str) {
    hub.wake(location_id);
    if let Err(e) = db.notify(CHANNEL, location_id).await {
        tracing::warn!(error = %e, "event notice not sent to the other replicas");
    }
}

/// Wakes this replica's streams on the other replicas' notices, until the bridge stops.
pub fn follow(hub: Arc<Hub>, db: &dyn Database, mut stopped: watch::Receiver<bool>) {
    let Some(mut heard) = db.listen(CHANNEL) else {
        return;
    };
    tokio::spawn(async move {
        loop {
            let what = tokio::select! {
                what = heard.recv() => what,
                _ = stopped.wait_for(|s| *s) => None,
            };
            match what {
                Some(Heard::Payload(location_id)) => hub.wake(&location_id),
                Some(Heard::Reconnected) => hub.wake_all(),
                None => return,
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wake_moves_its_location_only_and_a_wake_all_moves_every_one() {
        let hub = Hub::default();
        let locations = vec!["paris".to_owned(), "lyon".to_owned()];
        let watch = hub.subscribe();
        assert_eq!(hub.generations(&locations), [0, 0]);
        hub.wake("paris");
        assert_eq!(hub.generations(&locations), [1, 0]);
        assert!(watch.has_changed().unwrap_or(false));
        hub.wake_all();
        assert_eq!(hub.generations(&locations), [2, 1]);
    }
}
