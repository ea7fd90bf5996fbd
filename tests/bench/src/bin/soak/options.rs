//! The soak's options (`--minutes`, `--rate`, …), its clock (microseconds since the epoch, the
//! child's too) and the machine's figures the report quotes (CPU time, load average).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use passerelle_bench::{BenchError, Result, arg, flag};

#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) minutes: f64,
    pub(crate) rate: f64,
    pub(crate) poll: u32,
    pub(crate) kills: usize,
    pub(crate) poison: usize,
    pub(crate) poison_patches: usize,
    pub(crate) cut_secs: u64,
    /// The orders route's outage (issue 27, scenario 1).
    pub(crate) outage_secs: u64,
    /// Windows of `429 Retry-After: 0` on every API path, and how long each lasts.
    pub(crate) rate_zero: usize,
    pub(crate) rate_zero_secs: u64,
    /// A sibling till's accept racing this till's failing automatic `received`.
    pub(crate) siblings: usize,
    /// The wall clock set forward an hour, then back, for `--clock-secs` each.
    pub(crate) clock_secs: u64,
    /// The secret store slow for one location's token, for `--slow-secs`.
    pub(crate) slow_secs: u64,
    pub(crate) seed: u64,
    pub(crate) keep: bool,
    pub(crate) args: Vec<String>,
}

impl Options {
    pub(crate) fn parse(args: &[String]) -> Result<Self> {
        let options = Options {
            minutes: arg(args, "--minutes")?.unwrap_or(15.0),
            rate: arg(args, "--rate")?.unwrap_or(3.4),
            poll: arg(args, "--poll")?.unwrap_or(1),
            kills: arg(args, "--kills")?.unwrap_or(4),
            poison: arg(args, "--poison")?.unwrap_or(3),
            poison_patches: arg(args, "--poison-patches")?.unwrap_or(3),
            cut_secs: arg(args, "--cut-secs")?.unwrap_or(60),
            outage_secs: arg(args, "--outage-secs")?.unwrap_or(300),
            rate_zero: arg(args, "--rate-zero")?.unwrap_or(2),
            rate_zero_secs: arg(args, "--rate-zero-secs")?.unwrap_or(15),
            siblings: arg(args, "--siblings")?.unwrap_or(2),
            clock_secs: arg(args, "--clock-secs")?.unwrap_or(20),
            slow_secs: arg(args, "--slow-secs")?.unwrap_or(20),
            seed: arg(args, "--seed")?.unwrap_or(14),
            keep: flag(args, "--keep"),
            args: args.to_vec(),
        };
        if options.rate <= 0.0 || options.minutes <= 0.0 || options.poll == 0 {
            return Err(BenchError(
                "--rate, --minutes and --poll must be positive".into(),
            ));
        }
        if options.duration().as_secs() < 3 * options.cut_secs + options.outage_secs + 120 {
            return Err(BenchError(
                "--minutes too short for two network cuts of --cut-secs and the outage".into(),
            ));
        }
        Ok(options)
    }

    pub(crate) fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.minutes * 60.0)
    }

    pub(crate) fn poll_interval(&self) -> Duration {
        Duration::from_secs(u64::from(self.poll))
    }
}

/// Microseconds since the Unix epoch (the child's timestamps use the same clock).
pub(crate) fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

pub(crate) fn us(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

pub(crate) fn secs(us: u64) -> f64 {
    us as f64 / 1e6
}

/// CPU time (user + system) of a process, from `/proc/PID/stat`, in seconds.
pub(crate) fn cpu_secs(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}
