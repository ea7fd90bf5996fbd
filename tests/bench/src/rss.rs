//! This process's memory, from `/proc/self/status` (Linux).

use crate::{BenchError, Result};

fn status_kib(field: &str) -> Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| BenchError(format!("no {field} in /proc/self/status")))
}

/// Resident set size now, KiB.
pub fn current_kib() -> Result<u64> {
    status_kib("VmRSS:")
}

/// Resident set size high-water mark since start (or since [`reset_peak`]), KiB.
pub fn peak_kib() -> Result<u64> {
    status_kib("VmHWM:")
}

/// Resets the high-water mark to the current RSS (`echo 5 > /proc/self/clear_refs`, Linux 4.0+).
pub fn reset_peak() -> Result<()> {
    std::fs::write("/proc/self/clear_refs", "5")?;
    Ok(())
}

/// KiB as MiB with one decimal.
pub fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}
