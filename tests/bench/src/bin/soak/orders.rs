//! The orders "another app" places at the sandbox at a steady rate, and what the soak remembers of
//! each (when, where, and whether it is an ordinary, poison or held order).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use passerelle_sandbox::Admin;
use passerelle_sandbox::seed::sample_order;

use crate::LOCATIONS;
use crate::options::now_us;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Normal,
    /// A persistent 500 on its GET: must be quarantined.
    Poison,
    /// A persistent 503 on its PATCH once `received`: its accept must end as a failed change.
    Held,
    /// Accepted by another till while this one's automatic `received` fails: HubRise must keep
    /// `accepted` (issue 27, scenario 3).
    Sibling,
}

#[derive(Debug, Clone)]
pub(crate) struct Placed {
    pub(crate) at: u64,
    pub(crate) location: &'static str,
    pub(crate) kind: Kind,
}

pub(crate) type PlacedMap = Arc<Mutex<BTreeMap<String, Placed>>>;

pub(crate) fn placed_lock(placed: &PlacedMap) -> MutexGuard<'_, BTreeMap<String, Placed>> {
    placed.lock().unwrap_or_else(|p| p.into_inner())
}

/// Places orders at `rate` per second, alternating the locations, until `until`.
pub(crate) async fn place_orders(
    admin: Admin,
    placed: PlacedMap,
    rate: f64,
    until: Instant,
) -> Vec<String> {
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut errors = Vec::new();
    let mut n = 0usize;
    loop {
        tick.tick().await;
        if Instant::now() >= until {
            return errors;
        }
        let location = LOCATIONS[n % 2];
        let at = now_us();
        match admin
            .place_order(location, sample_order(&format!("Client {n}")))
            .await
        {
            Ok(id) => {
                placed_lock(&placed).insert(
                    id,
                    Placed {
                        at,
                        location,
                        kind: Kind::Normal,
                    },
                );
            }
            Err(err) => errors.push(err.to_string()),
        }
        n += 1;
    }
}
