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

/// An ISO 8601 UTC time, to the second, for a ms timestamp.
pub fn iso8601(ms: i64) -> Result<String> {
    let t = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .map_err(Error::internal_from)?;
    t.format(&time::format_description::well_known::Rfc3339)
        .map_err(Error::internal_from)
}
