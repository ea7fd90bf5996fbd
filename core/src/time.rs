//! Wall-clock times as the store and HubRise write them: milliseconds since the epoch in SQLite,
//! ISO 8601 towards HubRise, `SystemTime` in the public types.

use crate::error::{Error, Result};
use crate::logging::lock;

/// Milliseconds since the Unix epoch, the unit of every timestamp column.
pub fn now_ms() -> i64 {
    system_ms(std::time::SystemTime::now()) + wall_clock_set_by()
}

/// Milliseconds since an arbitrary instant, on a clock that nobody sets and that keeps counting
/// while the device sleeps: Linux's `CLOCK_BOOTTIME`, Apple's `CLOCK_MONOTONIC` (std's
/// `Instant` stops during sleep on Apple platforms, which would read a night's sleep as the
/// wall clock set forward). Only the difference of two readings means anything.
pub fn steady_ms() -> i64 {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    const STEADY: rustix::time::ClockId = rustix::time::ClockId::Boottime;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    const STEADY: rustix::time::ClockId = rustix::time::ClockId::Monotonic;
    let now = rustix::time::clock_gettime(STEADY);
    now.tv_sec
        .saturating_mul(1000)
        .saturating_add(now.tv_nsec / 1_000_000)
}

/// How far the wall clock must move against the steady one to count as set: NTP slews small
/// corrections, and reading the two clocks one after the other costs microseconds.
const SET_AT_LEAST_MS: i64 = 2_000;

/// Notices that the wall clock was set (by the restaurant, by NTP, by a carrier's time): the
/// difference between it and the steady clock changes. Timers written as wall-clock times
/// (the outbox's next attempt, a quarantined item's next retry, the read-back's spacing) are
/// then moved by as much, so that they keep their intervals (design D29).
#[derive(Debug)]
pub struct WallClockWatch {
    /// `now_ms() - steady_ms()` when last looked at.
    offset: std::sync::Mutex<i64>,
}

impl Default for WallClockWatch {
    fn default() -> Self {
        Self {
            offset: std::sync::Mutex::new(now_ms() - steady_ms()),
        }
    }
}

impl WallClockWatch {
    /// When the wall clock was set since the last call, runs `follow` with how far (forward
    /// positive, in ms) and returns it. The change counts as followed only if `follow`
    /// succeeds; calls are serialised, so each change is followed once.
    pub fn follow(&self, follow: impl FnOnce(i64) -> Result<()>) -> Result<Option<i64>> {
        // `lock`: what `follow` logs reaches the host's logger once this lock is released.
        let mut seen = lock(&self.offset);
        let offset = now_ms() - steady_ms();
        let set_by = offset - *seen;
        let followed = set_by.abs() >= SET_AT_LEAST_MS;
        if followed {
            follow(set_by)?;
        }
        *seen = offset;
        Ok(followed.then_some(set_by))
    }
}

/// How far a test set this process's wall clock (`testing::set_wall_clock_by`); 0 in a shipped
/// build, where only the device's settings set it.
#[cfg(any(test, feature = "testing"))]
pub static WALL_CLOCK_SET_BY: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

#[cfg(any(test, feature = "testing"))]
fn wall_clock_set_by() -> i64 {
    WALL_CLOCK_SET_BY.load(std::sync::atomic::Ordering::SeqCst)
}

#[cfg(not(any(test, feature = "testing")))]
const fn wall_clock_set_by() -> i64 {
    0
}

/// A `SystemTime` in milliseconds since the Unix epoch (0 before it).
pub fn system_ms(time: std::time::SystemTime) -> i64 {
    time.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Converts a stored timestamp to the `SystemTime` the public types carry.
pub fn to_system_time(ms: i64) -> std::time::SystemTime {
    let ms = u64::try_from(ms).unwrap_or(0);
    std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms)
}

/// Milliseconds since the epoch of an RFC 3339 time with its offset (HubRise's form).
pub fn parse_iso8601_ms(iso: &str) -> Option<i64> {
    let t =
        time::OffsetDateTime::parse(iso, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// An ISO 8601 UTC time, to the second, for a ms timestamp.
pub fn iso8601(ms: i64) -> Result<String> {
    let t = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .map_err(Error::internal_from)?;
    t.format(&time::format_description::well_known::Rfc3339)
        .map_err(Error::internal_from)
}

/// An ISO 8601 time, to the second, with the offset that the IANA time zone `zone` (a HubRise
/// location's `timezone.name`) has at that instant: `2026-06-24T19:45:00+02:00`. HubRise's
/// integration guide asks for times in the store's timezone. Without a zone, or with one this
/// device's time zone database does not know, the time is written in UTC ([`iso8601`]).
pub fn iso8601_in(ms: i64, zone: Option<&str>) -> Result<String> {
    let Some(tz) = zone.and_then(|name| jiff::tz::TimeZone::get(name.trim()).ok()) else {
        return iso8601(ms);
    };
    let secs = ms.div_euclid(1000);
    let instant = jiff::Timestamp::from_second(secs).map_err(Error::internal_from)?;
    // Only the offset comes from the time zone database; the `time` crate writes the time, so
    // jiff's own formatting stays out of the binary.
    let offset = time::UtcOffset::from_whole_seconds(tz.to_offset(instant).seconds())
        .map_err(Error::internal_from)?;
    let local = time::OffsetDateTime::from_unix_timestamp(secs)
        .map_err(Error::internal_from)?
        .to_offset(offset);
    local
        .format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second][offset_hour sign:mandatory]:[offset_minute]"
        ))
        .map_err(Error::internal_from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_carry_the_zone_s_offset_at_that_instant() {
        // 2026-06-24T17:45:00Z: summer time in Paris, winter in Sydney.
        let summer = 1_782_323_100_000;
        assert_eq!(
            iso8601_in(summer, Some("Europe/Paris")).unwrap(),
            "2026-06-24T19:45:00+02:00"
        );
        assert_eq!(
            iso8601_in(summer, Some("Australia/Sydney")).unwrap(),
            "2026-06-25T03:45:00+10:00"
        );
        assert_eq!(
            iso8601_in(summer, Some("UTC")).unwrap(),
            "2026-06-24T17:45:00+00:00"
        );
        // 2026-11-23T11:30:00Z: winter time in Paris.
        assert_eq!(
            iso8601_in(1_795_433_400_000, Some("Europe/Paris")).unwrap(),
            "2026-11-23T12:30:00+01:00"
        );
    }

    #[test]
    fn an_unknown_zone_falls_back_to_utc() {
        let ms = 1_782_323_100_000;
        assert_eq!(iso8601_in(ms, None).unwrap(), "2026-06-24T17:45:00Z");
        assert_eq!(
            iso8601_in(ms, Some("Mars/Olympus_Mons")).unwrap(),
            "2026-06-24T17:45:00Z"
        );
        assert_eq!(
            iso8601_in(ms, Some("../../etc/passwd")).unwrap(),
            "2026-06-24T17:45:00Z"
        );
    }
}
