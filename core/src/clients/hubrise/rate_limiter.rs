//! Keeps one connection's requests inside HubRise's rate windows (per minute, hour and day,
//! aligned on round multiples of their length; heavy queries apart), so even a backlog never
//! causes a 429.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::config::RateLimits;
use crate::time::now_ms;

#[derive(Debug, Clone, Copy)]
struct Window {
    length_ms: u64,
    limit: u32,
    start_ms: u64,
    count: u32,
    /// Requests sent near the end of this window, counted again in the next one.
    carried: u32,
}

impl Window {
    fn new(length_ms: u64, limit: u32) -> Self {
        Self {
            length_ms,
            limit,
            start_ms: 0,
            count: 0,
            carried: 0,
        }
    }

    /// Rolls to `now`'s window: the next one starts with what was carried into it.
    fn roll(&mut self, now_ms: u64) {
        let start = now_ms - now_ms % self.length_ms;
        if start != self.start_ms {
            let next = start == self.start_ms + self.length_ms;
            self.count = if next { self.carried } else { 0 };
            self.carried = 0;
            self.start_ms = start;
        }
    }

    /// A request sent this close to a window's end may be counted in the next one by the
    /// server's clock.
    fn near_end(&self, now_ms: u64) -> bool {
        let margin = (self.length_ms / 20).min(1_000);
        now_ms + margin >= self.start_ms + self.length_ms
    }

    /// Milliseconds to wait before one more request fits, after rolling to `now`'s window. A
    /// request near the end never waits for being there: it is counted in the next window too
    /// (`record`), which then starts with it, so the server's count is kept whichever window it
    /// lands in.
    fn wait_ms(&mut self, now_ms: u64) -> u64 {
        self.wait_ms_for(now_ms, Lane::Change)
    }

    /// [`Window::wait_ms`] for a request of `lane`: only the till's changes may spend the share
    /// kept for them.
    fn wait_ms_for(&mut self, now_ms: u64, lane: Lane) -> u64 {
        self.roll(now_ms);
        let limit = match lane {
            Lane::Change => self.limit,
            Lane::Other => self.limit - changes_reserve(self.limit),
        };
        if self.count >= limit {
            self.start_ms + self.length_ms - now_ms
        } else {
            0
        }
    }

    /// Counts one request sent at `now` (in the next window too when near the end).
    fn record(&mut self, now_ms: u64) {
        self.count += 1;
        if self.near_end(now_ms) {
            self.carried += 1;
        }
    }
}

/// The share of each of HubRise's windows that reads of open orders and names may spend (the
/// status read-back of issue 15), in tenths: 3 = 30 % (150/minute, 750/hour, 3,000/day against
/// HubRise's limits), and half of the heavy queries (5/minute). The rest stays for events and
/// the outbox, which never wait behind a read-back, and a share of it for the till's changes
/// alone (`CHANGES_SHARE_TENTHS`).
pub const READ_BACK_SHARE_TENTHS: u32 = 3;

/// The share of each window only the till's changes may spend, in tenths: 1 = 10 % (50 a minute,
/// 250 an hour, 1,000 a day against HubRise's limits). Intake, read-back and names stop short of
/// it, so an accept goes out at once even while a backlog has spent everything else.
pub const CHANGES_SHARE_TENTHS: u32 = 1;

/// Who a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lane {
    /// A change from the till (and what it reads first): may spend the whole window.
    Change,
    /// Everything else: leaves the changes' share.
    Other,
}

/// What of a window of `limit` is kept for the till's changes (nothing in a window of one).
fn changes_reserve(limit: u32) -> u32 {
    if limit < 2 {
        return 0;
    }
    (limit.saturating_mul(CHANGES_SHARE_TENTHS) / 10).max(1)
}

/// The windows of one connection.
#[derive(Debug)]
pub struct RateLimiter {
    windows: [Window; 3],
    heavy: Window,
    /// The read-back budget: its own minute, hour and day windows, and its heavy minute.
    read_back: [Window; 3],
    read_back_heavy: Window,
    /// No request of any lane before this (ms): HubRise answered 429. Both lanes and the
    /// read-back wait for it, so a change made at the till (which wakes the changes' lane) or
    /// the other lane never cuts short a wait HubRise asked for.
    held_until_ms: u64,
}

impl RateLimiter {
    pub fn new(limits: &RateLimits) -> Self {
        let minute = limits.minute_ms.max(1);
        Self {
            windows: [
                Window::new(minute, limits.per_minute),
                Window::new(minute * 60, limits.per_hour),
                Window::new(minute * 1_440, limits.per_day),
            ],
            heavy: Window::new(minute, limits.heavy_per_minute),
            read_back: [
                Window::new(minute, share(limits.per_minute)),
                Window::new(minute * 60, share(limits.per_hour)),
                Window::new(minute * 1_440, share(limits.per_day)),
            ],
            read_back_heavy: Window::new(minute, (limits.heavy_per_minute / 2).max(1)),
            held_until_ms: 0,
        }
    }

    /// Holds every request until `until_ms`.
    fn hold(&mut self, until_ms: u64) {
        self.held_until_ms = self.held_until_ms.max(until_ms);
    }

    /// Like [`RateLimiter::try_acquire`], for a read of the read-back budget: it must fit both
    /// HubRise's windows and the budget's.
    pub fn try_acquire_read_back(&mut self, now_ms: u64, heavy: bool) -> Option<Duration> {
        let mut wait = self
            .read_back
            .iter_mut()
            .map(|w| w.wait_ms(now_ms))
            .max()
            .unwrap_or(0)
            .max(self.held_until_ms.saturating_sub(now_ms));
        if heavy {
            wait = wait.max(self.read_back_heavy.wait_ms(now_ms));
        }
        if wait > 0 {
            return Some(Duration::from_millis(wait));
        }
        let waited = self.try_acquire(now_ms, heavy, Lane::Other);
        if waited.is_none() {
            for window in &mut self.read_back {
                window.record(now_ms);
            }
            if heavy {
                self.read_back_heavy.record(now_ms);
            }
        }
        waited
    }

    /// Either records one request of `lane` now (`None`), or says how long to wait first.
    fn try_acquire(&mut self, now_ms: u64, heavy: bool, lane: Lane) -> Option<Duration> {
        let mut wait = self
            .windows
            .iter_mut()
            .map(|w| w.wait_ms_for(now_ms, lane))
            .max()
            .unwrap_or(0)
            .max(self.held_until_ms.saturating_sub(now_ms));
        if heavy {
            wait = wait.max(self.heavy.wait_ms(now_ms));
        }
        if wait > 0 {
            return Some(Duration::from_millis(wait));
        }
        for window in &mut self.windows {
            window.record(now_ms);
        }
        if heavy {
            self.heavy.record(now_ms);
        }
        None
    }
}

/// Every connection's rate windows. Kept for the life of the instance, not in a worker, so a
/// restarted worker, `sync_now` and a connection check all spend from the same windows.
#[derive(Debug)]
pub struct RateLimiters {
    limits: RateLimits,
    by_connection: Mutex<HashMap<String, Arc<Mutex<RateLimiter>>>>,
}

impl RateLimiters {
    pub fn new(limits: RateLimits) -> Self {
        Self {
            limits,
            by_connection: Mutex::default(),
        }
    }

    /// Waits until the connection's windows allow one more request (`heavy` for the catch-up
    /// query), short of the share kept for the till's changes, and records it.
    pub async fn acquire(&self, connection_id: &str, heavy: bool) {
        while let Some(wait) = self.try_acquire(connection_id, heavy) {
            tokio::time::sleep(wait).await;
        }
    }

    /// Records one request now if the connection's windows allow it (short of the till's
    /// share), or says how long to wait before asking again.
    pub fn try_acquire(&self, connection_id: &str, heavy: bool) -> Option<Duration> {
        self.try_acquire_in(connection_id, heavy, Lane::Other)
    }

    /// [`RateLimiters::try_acquire`] for a change from the till, which may spend the whole
    /// window.
    pub fn try_acquire_for_change(&self, connection_id: &str) -> Option<Duration> {
        self.try_acquire_in(connection_id, false, Lane::Change)
    }

    fn try_acquire_in(&self, connection_id: &str, heavy: bool, lane: Lane) -> Option<Duration> {
        let limiter = self.limiter(connection_id);
        let mut limiter = limiter.lock().unwrap_or_else(|p| p.into_inner());
        let now = u64::try_from(now_ms()).unwrap_or(0);
        limiter.try_acquire(now, heavy, lane)
    }

    /// Spends one read of the read-back budget now if both HubRise's windows and the budget allow
    /// it; never waits (a read-back that does not fit waits for the next cycle instead).
    pub fn try_acquire_read_back(&self, connection_id: &str, heavy: bool) -> bool {
        let limiter = self.limiter(connection_id);
        let mut limiter = limiter.lock().unwrap_or_else(|p| p.into_inner());
        let now = u64::try_from(now_ms()).unwrap_or(0);
        limiter.try_acquire_read_back(now, heavy).is_none()
    }

    /// HubRise answered the connection 429: no request of any lane for `wait` (the lane that got
    /// it passes what it waits, `Retry-After` with the poll interval as its floor).
    pub fn hold(&self, connection_id: &str, wait: Duration) {
        let limiter = self.limiter(connection_id);
        let mut limiter = limiter.lock().unwrap_or_else(|p| p.into_inner());
        let now = u64::try_from(now_ms()).unwrap_or(0);
        limiter.hold(now.saturating_add(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX)));
    }

    fn limiter(&self, connection_id: &str) -> Arc<Mutex<RateLimiter>> {
        let mut all = self.by_connection.lock().unwrap_or_else(|p| p.into_inner());
        all.entry(connection_id.to_owned())
            .or_insert_with(|| Arc::new(Mutex::new(RateLimiter::new(&self.limits))))
            .clone()
    }
}

/// `READ_BACK_SHARE_TENTHS` of a limit, at least one.
fn share(limit: u32) -> u32 {
    (limit.saturating_mul(READ_BACK_SHARE_TENTHS) / 10).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_minute: u32) -> RateLimits {
        RateLimits {
            per_minute,
            per_hour: 1_000,
            per_day: 10_000,
            heavy_per_minute: 1,
            minute_ms: 1_000,
        }
    }

    #[test]
    fn a_429_holds_every_lane_until_its_wait_is_over() {
        let mut limiter = RateLimiter::new(&limits(100));
        limiter.hold(12_000);
        for lane in [Lane::Change, Lane::Other] {
            assert_eq!(
                limiter.try_acquire(10_500, false, lane),
                Some(Duration::from_millis(1_500)),
                "{lane:?}"
            );
        }
        assert_eq!(
            limiter.try_acquire_read_back(10_500, false),
            Some(Duration::from_millis(1_500))
        );
        limiter.hold(11_000);
        assert_eq!(
            limiter.try_acquire(11_999, false, Lane::Change),
            Some(Duration::from_millis(1)),
            "a shorter wait never shortens the hold"
        );
        assert_eq!(limiter.try_acquire(12_000, false, Lane::Change), None);
    }

    #[test]
    fn waits_for_the_next_window_when_full() {
        let mut limiter = RateLimiter::new(&limits(3));
        for _ in 0..3 {
            assert_eq!(limiter.try_acquire(10_100, false, Lane::Change), None);
        }
        assert_eq!(
            limiter.try_acquire(10_200, false, Lane::Change),
            Some(Duration::from_millis(800))
        );
        assert_eq!(
            limiter.try_acquire(11_000, false, Lane::Change),
            None,
            "a new window starts empty"
        );
    }

    #[test]
    fn a_request_near_a_window_s_end_goes_at_once_and_counts_in_the_next_window_too() {
        let mut limiter = RateLimiter::new(&limits(3));
        assert_eq!(
            limiter.try_acquire(10_960, false, Lane::Change),
            None,
            "no wait for being near the end"
        );
        assert_eq!(limiter.try_acquire(11_000, false, Lane::Change), None);
        assert_eq!(limiter.try_acquire(11_001, false, Lane::Change), None);
        assert_eq!(
            limiter.try_acquire(11_002, false, Lane::Change),
            Some(Duration::from_millis(998)),
            "the carried request counts in the next window"
        );
        assert_eq!(
            limiter.try_acquire(13_000, false, Lane::Change),
            None,
            "a later window starts empty"
        );
    }

    #[test]
    fn the_read_back_budget_is_a_share_of_each_window_and_counts_in_them() {
        let mut limiter = RateLimiter::new(&RateLimits {
            per_minute: 10,
            per_hour: 1_000,
            per_day: 10_000,
            heavy_per_minute: 4,
            minute_ms: 1_000,
        });
        for _ in 0..3 {
            assert_eq!(limiter.try_acquire_read_back(30_000, false), None);
        }
        assert!(
            limiter.try_acquire_read_back(30_001, false).is_some(),
            "30 % of 10 a minute"
        );
        for _ in 0..7 {
            assert_eq!(
                limiter.try_acquire(30_002, false, Lane::Change),
                None,
                "the rest for sync"
            );
        }
        assert!(
            limiter.try_acquire(30_003, false, Lane::Change).is_some(),
            "read-back reads counted"
        );
        assert_eq!(limiter.try_acquire_read_back(31_000, true), None);
        assert_eq!(limiter.try_acquire_read_back(31_001, true), None);
        assert!(
            limiter.try_acquire_read_back(31_002, true).is_some(),
            "half of the heavy queries"
        );
    }

    #[test]
    fn heavy_queries_have_their_own_limit() {
        let mut limiter = RateLimiter::new(&limits(100));
        assert_eq!(limiter.try_acquire(20_000, true, Lane::Change), None);
        assert!(limiter.try_acquire(20_001, true, Lane::Change).is_some());
        assert_eq!(limiter.try_acquire(20_002, false, Lane::Change), None);
    }

    #[test]
    fn the_till_s_changes_keep_a_share_nothing_else_spends() {
        let mut limiter = RateLimiter::new(&RateLimits {
            per_minute: 20,
            per_hour: 1_000,
            per_day: 10_000,
            heavy_per_minute: 4,
            minute_ms: 1_000,
        });
        for _ in 0..18 {
            assert_eq!(limiter.try_acquire(40_000, false, Lane::Other), None);
        }
        assert!(
            limiter.try_acquire(40_001, false, Lane::Other).is_some(),
            "10 % of 20 a minute is kept"
        );
        assert_eq!(limiter.try_acquire(40_002, false, Lane::Change), None);
        assert_eq!(limiter.try_acquire(40_003, false, Lane::Change), None);
        assert!(
            limiter.try_acquire(40_004, false, Lane::Change).is_some(),
            "HubRise's limit itself is never passed"
        );
    }
}
