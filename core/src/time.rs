//! Wall-clock times as the store and HubRise write them: milliseconds since the epoch in SQLite,
//! ISO 8601 towards HubRise, `SystemTime` in the public types.

use crate::error::{Error, Result};

/// Milliseconds since the Unix epoch, the unit of every timestamp column.
pub fn now_ms() -> i64 {
    system_ms(std::time::SystemTime::now())
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
