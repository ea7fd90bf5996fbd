//! The till's wall clock jumps (issue 27, scenario 6): the child sets its clock, as the library
//! reads it, forward an hour for `--clock-secs`, then back (`testing::set_wall_clock_by`).
//! Orders placed meanwhile still reach the till within poll + 2 s, and it reads `Flowing` after.

use std::time::Duration;

use passerelle_bench::Result;

use crate::options::{now_us, secs};
use crate::report::Probe;
use crate::{EpisodeRow, Soak, Window};

const HOUR_MS: i64 = 3_600_000;

impl Soak {
    pub(crate) async fn run_clock(&mut self) -> Result<()> {
        let poll = self.options.poll_interval();
        let phase = Duration::from_secs(self.options.clock_secs);
        let start = now_us();
        self.send(&format!("clock {HOUR_MS}")).await?;
        tokio::time::sleep(phase).await;
        let middle = now_us();
        self.send("clock 0").await?;
        tokio::time::sleep(phase).await;
        let end = now_us();
        let flowing = self.wait_flowing(poll + Duration::from_secs(3)).await;
        self.windows.push(Window {
            start,
            end: end + 2 * crate::options::us(poll),
        });
        let goal = poll + Duration::from_secs(2);
        for (label, from, to) in [
            ("wall clock set forward 1 h", start, middle),
            ("wall clock set back 1 h", middle, end),
        ] {
            self.probes.push(Probe {
                label: format!("{label} ({} s): placed → OrderReceived", phase.as_secs()),
                from,
                to,
                location: None,
                since_end: false,
                goal: Some(goal),
            });
        }
        self.check(
            "wall clock jumps: Flowing at the end",
            flowing.is_some(),
            format!("{:?} s after", flowing.map(|f| secs(f.saturating_sub(end)))),
        );
        self.episodes.push(EpisodeRow {
            at: self.rel(start),
            what: format!(
                "the child's wall clock set forward 1 h for {0} s, then back 1 h for {0} s",
                phase.as_secs()
            ),
            health: "(latency checked at the end)".into(),
            recovered: flowing.map_or("never".into(), |f| {
                format!("{:.2} s", secs(f.saturating_sub(end)))
            }),
            ok: flowing.is_some(),
        });
        Ok(())
    }
}
