//! Times as HubRise writes them: ISO 8601 with the location's offset, whole seconds.
//!
//! Every seeded location is in Europe/Paris. Rather than pull a timezone database, the EU
//! daylight-saving rule is applied directly: summer time (+02:00) from the last Sunday of March
//! 01:00 UTC to the last Sunday of October 01:00 UTC, +01:00 otherwise.

use time::macros::format_description;
use time::{Date, Month, OffsetDateTime, UtcOffset, Weekday};

/// The current time in Europe/Paris.
pub(crate) fn now_paris() -> OffsetDateTime {
    to_paris(OffsetDateTime::now_utc())
}

/// `t` expressed with the Europe/Paris offset in force at that instant.
pub(crate) fn to_paris(t: OffsetDateTime) -> OffsetDateTime {
    let utc = t.to_offset(UtcOffset::UTC);
    let hours = if in_eu_summer_time(utc) { 2 } else { 1 };
    match UtcOffset::from_hms(hours, 0, 0) {
        Ok(offset) => utc.to_offset(offset),
        Err(_) => utc,
    }
}

fn in_eu_summer_time(utc: OffsetDateTime) -> bool {
    let year = utc.year();
    match (
        last_sunday(year, Month::March),
        last_sunday(year, Month::October),
    ) {
        (Some(start), Some(end)) => {
            let start = start.midnight().assume_utc() + time::Duration::hours(1);
            let end = end.midnight().assume_utc() + time::Duration::hours(1);
            utc >= start && utc < end
        }
        _ => false,
    }
}

fn last_sunday(year: i32, month: Month) -> Option<Date> {
    let last_day = time::util::days_in_month(month, year);
    let mut date = Date::from_calendar_date(year, month, last_day).ok()?;
    while date.weekday() != Weekday::Sunday {
        date = date.previous_day()?;
    }
    Some(date)
}

/// `2021-06-24T17:07:53+02:00`.
pub(crate) fn format(t: OffsetDateTime) -> String {
    let fmt = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][offset_hour sign:mandatory]:[offset_minute]"
    );
    t.format(&fmt).unwrap_or_default()
}

/// The current Paris time, formatted.
pub(crate) fn now_string() -> String {
    format(now_paris())
}

/// Parses an ISO 8601 / RFC 3339 time with an offset.
pub(crate) fn parse(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn paris_offsets_follow_the_eu_rule() {
        assert_eq!(
            format(to_paris(datetime!(2021-06-24 15:07:53 UTC))),
            "2021-06-24T17:07:53+02:00"
        );
        assert_eq!(
            format(to_paris(datetime!(2026-11-23 21:00:00 UTC))),
            "2026-11-23T22:00:00+01:00"
        );
        // 2026's change to summer time: Sunday 29 March, 01:00 UTC.
        assert_eq!(
            format(to_paris(datetime!(2026-03-29 00:59:59 UTC))),
            "2026-03-29T01:59:59+01:00"
        );
        assert_eq!(
            format(to_paris(datetime!(2026-03-29 01:00:00 UTC))),
            "2026-03-29T03:00:00+02:00"
        );
    }

    #[test]
    fn parses_offsets() {
        let t = parse("2021-06-24T17:07:53+02:00");
        assert_eq!(t.map(|t| t.unix_timestamp()), Some(1_624_547_273));
    }
}
