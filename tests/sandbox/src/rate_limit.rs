//! HubRise's per-connection rate limits on windows aligned to round minutes, hours and days.
//!
//! `window_scale` shrinks the "minute" for tests (an hour is 60 of them, a day 1,440); windows
//! stay aligned on multiples of their (scaled) length since the Unix epoch, as HubRise's are.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Request budgets of one connection.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct RateLimits {
    pub per_minute: u32,
    pub per_hour: u32,
    pub per_day: u32,
    /// Heavy queries (`GET /location/orders`, `GET /catalogs/:id`, customers index) per minute.
    pub heavy_per_minute: u32,
}

impl Default for RateLimits {
    /// HubRise's documented limits: 500/minute, 2,500/hour, 10,000/day, heavy 10/minute.
    fn default() -> Self {
        RateLimits {
            per_minute: 500,
            per_hour: 2_500,
            per_day: 10_000,
            heavy_per_minute: 10,
        }
    }
}

impl RateLimits {
    /// No limit at all (benchmarks; say so when you use it).
    pub fn unlimited() -> Self {
        RateLimits {
            per_minute: u32::MAX,
            per_hour: u32::MAX,
            per_day: u32::MAX,
            heavy_per_minute: u32::MAX,
        }
    }
}

/// One window's counter: which window it counts and how many requests it saw.
#[derive(Clone, Copy, Debug, Default)]
struct Counter {
    window: u64,
    count: u32,
}

/// A connection's usage in its current windows.
#[derive(Clone, Debug, Default)]
pub(crate) struct Usage {
    minute: Counter,
    hour: Counter,
    day: Counter,
    heavy: Counter,
}

/// Window lengths in milliseconds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Windows {
    minute_ms: u64,
}

impl Windows {
    pub fn new(scale: Option<Duration>) -> Windows {
        let ms = scale.map_or(60_000, |d| {
            d.as_millis().clamp(1, u128::from(u64::MAX / 1_440)) as u64
        });
        Windows { minute_ms: ms }
    }
    fn lengths(self) -> [u64; 3] {
        [self.minute_ms, self.minute_ms * 60, self.minute_ms * 1_440]
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Whole seconds until the window of length `len_ms` containing `now` ends (at least 1).
fn seconds_to_next_window(now: u64, len_ms: u64) -> u64 {
    let remaining = len_ms - now % len_ms;
    remaining.div_ceil(1_000).max(1)
}

impl Usage {
    /// Counts one request if every budget allows it; otherwise returns the seconds until the
    /// latest exceeded window ends (when the request would be allowed again).
    pub fn try_acquire(
        &mut self,
        limits: &RateLimits,
        windows: Windows,
        heavy: bool,
    ) -> Result<(), u64> {
        self.try_acquire_at(limits, windows, heavy, now_ms())
    }

    fn try_acquire_at(
        &mut self,
        limits: &RateLimits,
        windows: Windows,
        heavy: bool,
        now: u64,
    ) -> Result<(), u64> {
        let [minute, hour, day] = windows.lengths();
        let mut checks = vec![
            (&mut self.minute, minute, limits.per_minute),
            (&mut self.hour, hour, limits.per_hour),
            (&mut self.day, day, limits.per_day),
        ];
        if heavy {
            checks.push((&mut self.heavy, minute, limits.heavy_per_minute));
        }
        let mut wait = None;
        for (counter, len, limit) in checks.iter_mut() {
            let window = now / *len;
            if counter.window != window {
                **counter = Counter { window, count: 0 };
            }
            if counter.count >= *limit {
                let secs = seconds_to_next_window(now, *len);
                wait = Some(wait.map_or(secs, |w: u64| w.max(secs)));
            }
        }
        if let Some(secs) = wait {
            return Err(secs);
        }
        for (counter, _, _) in checks {
            counter.count = counter.count.saturating_add(1);
        }
        Ok(())
    }
}

/// Whether a request is one of HubRise's heavy queries.
pub(crate) fn is_heavy(method: &str, path: &str) -> bool {
    if method != "GET" {
        return false;
    }
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    matches!(
        segments.as_slice(),
        ["v1", "location", "orders"]
            | ["v1", "locations", _, "orders"]
            | ["v1", "account", "orders"]
            | ["v1", "accounts", _, "orders"]
            | ["v1", "catalogs", _]
            | ["v1", "customer_lists", _, "customers"]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_aligned_and_reset() {
        let limits = RateLimits {
            per_minute: 2,
            per_hour: 100,
            per_day: 1000,
            heavy_per_minute: 1,
        };
        let w = Windows::new(Some(Duration::from_secs(2)));
        let mut u = Usage::default();
        // 10.5 s after the epoch: the 2-second window [10 s, 12 s) ends in 1.5 s → 2 s.
        let t = 10_500;
        assert!(u.try_acquire_at(&limits, w, false, t).is_ok());
        assert!(u.try_acquire_at(&limits, w, false, t).is_ok());
        assert_eq!(u.try_acquire_at(&limits, w, false, t), Err(2));
        assert!(u.try_acquire_at(&limits, w, false, 12_000).is_ok());
        assert!(u.try_acquire_at(&limits, w, true, 12_000).is_ok());
        assert_eq!(u.try_acquire_at(&limits, w, true, 12_100), Err(2));
    }

    #[test]
    fn the_longest_exceeded_window_decides() {
        let limits = RateLimits {
            per_minute: 10,
            per_hour: 1,
            per_day: 1000,
            heavy_per_minute: 10,
        };
        let w = Windows::new(None);
        let mut u = Usage::default();
        assert!(u.try_acquire_at(&limits, w, false, 0).is_ok());
        assert_eq!(u.try_acquire_at(&limits, w, false, 1_000), Err(3_599));
    }

    #[test]
    fn heavy_queries() {
        assert!(is_heavy("GET", "/v1/location/orders"));
        assert!(is_heavy("GET", "/v1/locations/3r4s3-1/orders"));
        assert!(is_heavy("GET", "/v1/catalogs/psmlf"));
        assert!(!is_heavy("GET", "/v1/location/orders/abcde"));
        assert!(!is_heavy("POST", "/v1/location/orders"));
    }
}
