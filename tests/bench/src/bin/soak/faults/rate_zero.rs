//! `429 Retry-After: 0` (issue 27, scenario 4): for `--rate-zero-secs`, every API path answers
//! 429 with `Retry-After: 0`. Zero means "wait at least one poll interval": the requests in the
//! window are counted, at most one attempt per poll interval and connection (and two more each).

use std::time::Duration;

use passerelle_bench::Result;
use passerelle_sandbox::FaultKind;

use crate::faults::api_fault;
use crate::options::{now_us, secs, us};
use crate::{EpisodeRow, LOCATIONS, Soak, Window};

impl Soak {
    pub(crate) async fn run_rate_zero(&mut self) -> Result<()> {
        let poll = self.options.poll_interval();
        let length = Duration::from_secs(self.options.rate_zero_secs);
        let before = self.admin.count_requests("", "/v1/").await;
        let start = now_us();
        self.faults
            .reset(Some(api_fault(
                "/v1/",
                None,
                None,
                FaultKind::TooManyRequests {
                    retry_after: Some(0),
                },
            )))
            .await;
        tokio::time::sleep(length).await;
        let requests = self.admin.count_requests("", "/v1/").await - before;
        self.faults.reset(None).await;
        let gone = now_us();
        let flowing = self.wait_flowing(poll + Duration::from_secs(3)).await;
        self.windows.push(Window {
            start,
            end: flowing.unwrap_or_else(now_us).max(gone + us(poll)) + us(poll),
        });
        let per_connection = length.as_secs() / poll.as_secs().max(1) + 2;
        let most = LOCATIONS.len() * usize::try_from(per_connection).unwrap_or(usize::MAX);
        let limited = self
            .health_events(start, gone)
            .iter()
            .any(|h| h.delayed_for("RateLimited").next().is_some());
        let label = format!(
            "429 Retry-After: 0 on every API path for {} s",
            length.as_secs()
        );
        self.check(
            &format!(
                "{label}: no hot loop (at most one attempt per poll interval and connection, +2)"
            ),
            requests <= most,
            format!("{requests} API requests in the window (at most {most})"),
        );
        self.check(
            &format!("{label}: health reads Delayed/RateLimited, then Flowing within poll + 3 s"),
            limited && flowing.is_some(),
            format!(
                "RateLimited seen {limited}; Flowing again {:?} s after",
                flowing.map(|f| secs(f.saturating_sub(gone)))
            ),
        );
        self.figures.push((
            format!("{label}: API requests in the window (both connections)"),
            format!("{requests}"),
            format!(
                "≤ {most}: {}",
                if requests <= most { "met" } else { "MISSED" }
            ),
        ));
        self.episodes.push(EpisodeRow {
            at: self.rel(start),
            what: label,
            health: format!("{requests} requests (≤ {most}); Delayed/RateLimited seen: {limited}"),
            recovered: flowing.map_or("never".into(), |f| {
                format!("{:.2} s", secs(f.saturating_sub(gone)))
            }),
            ok: requests <= most && limited && flowing.is_some(),
        });
        Ok(())
    }
}
