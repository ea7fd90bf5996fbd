//! Capped exponential backoff with full jitter (a random wait between zero and the cap), so that
//! many tills recovering at once do not hit HubRise in step.

use std::time::Duration;

use rand::Rng;

const BASE: Duration = Duration::from_secs(1);
const CAP: Duration = Duration::from_secs(300);

/// The wait before retry number `attempt` (0 for the first retry).
pub fn delay(attempt: u32) -> Duration {
    let ceiling = BASE
        .saturating_mul(2u32.saturating_pow(attempt.min(16)))
        .min(CAP);
    let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rand::thread_rng().gen_range(0..=millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_then_stays_under_the_cap() {
        for attempt in 0..40 {
            let ceiling = BASE
                .saturating_mul(2u32.saturating_pow(attempt.min(16)))
                .min(CAP);
            assert!(delay(attempt) <= ceiling);
        }
        let late: Vec<Duration> = (0..50).map(|_| delay(30)).collect();
        assert!(late.iter().all(|d| *d <= CAP));
        assert!(
            late.iter().any(|d| *d > Duration::from_secs(1)),
            "jitter spans the range"
        );
    }
}
