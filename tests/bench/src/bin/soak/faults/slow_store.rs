//! A slow secret store (issue 27, scenario 9): for `--slow-secs`, the child's secret store takes
//! 2 s to answer `get` for Paris's connection (its token, read by every cycle). Lyon's orders
//! still reach the till within poll + 2 s.

use std::time::Duration;

use passerelle_bench::Result;

use crate::options::{now_us, us};
use crate::report::Probe;
use crate::{EpisodeRow, LOCATIONS, Soak, Window};

impl Soak {
    pub(crate) async fn run_slow_store(&mut self) -> Result<()> {
        let poll = self.options.poll_interval();
        let length = Duration::from_secs(self.options.slow_secs);
        let [slow, other] = LOCATIONS;
        let name = |id: &str| self.names.get(id).cloned().unwrap_or_else(|| id.to_owned());
        let (slow_name, other_name) = (name(slow), name(other));
        let start = now_us();
        self.send(&format!("slow {slow_name} {}", length.as_secs()))
            .await?;
        tokio::time::sleep(length).await;
        let end = now_us();
        // The last slow read ends up to 2 s later.
        tokio::time::sleep(Duration::from_secs(2)).await;
        self.windows.push(Window {
            start,
            end: now_us() + us(poll),
        });
        self.probes.push(Probe {
            label: format!(
                "secret store 2 s slow for {slow_name}'s token for {} s: {other_name}'s orders, placed → OrderReceived",
                length.as_secs()
            ),
            from: start,
            to: end,
            location: Some(other),
            since_end: false,
            goal: Some(poll + Duration::from_secs(2)),
        });
        self.probes.push(Probe {
            label: format!("… {slow_name}'s own orders meanwhile, placed → OrderReceived"),
            from: start,
            to: end,
            location: Some(slow),
            since_end: false,
            goal: None,
        });
        self.episodes.push(EpisodeRow {
            at: self.rel(start),
            what: format!(
                "secret store's get 2 s slow for {slow_name}'s token for {} s",
                length.as_secs()
            ),
            health: "(latency checked at the end)".into(),
            recovered: String::new(),
            ok: true,
        });
        Ok(())
    }
}
