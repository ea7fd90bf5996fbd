//! Medians and percentiles of timed runs.

use std::time::Duration;

/// The timings of one measured operation.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    values: Vec<Duration>,
}

impl Samples {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, value: Duration) {
        self.values.push(value);
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    fn sorted(&self) -> Vec<Duration> {
        let mut sorted = self.values.clone();
        sorted.sort();
        sorted
    }

    /// Nearest-rank percentile (`p` in 0..=100).
    pub fn percentile(&self, p: f64) -> Duration {
        let sorted = self.sorted();
        if sorted.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1]
    }

    /// The median (mean of the two middle values for an even count).
    pub fn median(&self) -> Duration {
        let sorted = self.sorted();
        match sorted.len() {
            0 => Duration::ZERO,
            n if n % 2 == 1 => sorted[n / 2],
            n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2,
        }
    }

    pub fn p90(&self) -> Duration {
        self.percentile(90.0)
    }

    pub fn min(&self) -> Duration {
        self.sorted().first().copied().unwrap_or_default()
    }

    pub fn max(&self) -> Duration {
        self.sorted().last().copied().unwrap_or_default()
    }
}

/// Milliseconds with three decimals.
pub fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1_000.0)
}

/// A ratio with two decimals, `n/a` when the denominator is zero.
pub fn ratio(a: Duration, b: Duration) -> String {
    if b.is_zero() {
        "n/a".into()
    } else {
        format!("{:.2}", a.as_secs_f64() / b.as_secs_f64())
    }
}

/// What a results table shows of a series.
#[derive(Debug, Clone, Copy, Default)]
pub struct Summary {
    pub runs: usize,
    pub median: Duration,
    pub p90: Duration,
    pub min: Duration,
    pub max: Duration,
}

impl Samples {
    pub fn summary(&self) -> Summary {
        Summary {
            runs: self.len(),
            median: self.median(),
            p90: self.p90(),
            min: self.min(),
            max: self.max(),
        }
    }
}

/// One line of a results table: name, runs, median, p90, min, max (ms).
pub fn row(name: &str, s: &Summary) -> String {
    format!(
        "| {name} | {} | {} | {} | {} | {} |",
        s.runs,
        ms(s.median),
        ms(s.p90),
        ms(s.min),
        ms(s.max)
    )
}

/// The header matching [`row`].
pub const HEADER: &str =
    "| measured | runs | median ms | p90 ms | min ms | max ms |\n|---|---:|---:|---:|---:|---:|";
