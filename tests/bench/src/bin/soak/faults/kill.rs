//! A kill: SIGKILL the child at a random moment and start it again; what was in flight then.

use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use passerelle_bench::Result;

use crate::options::{cpu_secs, now_us, secs, us};
use crate::orders::{Kind, placed_lock};
use crate::process::lock;
use crate::{EpisodeRow, KillRecord, Soak, Window};

impl Soak {
    /// Orders placed and not yet reported (the poisoned ones aside), and orders the child `pid`
    /// reported in the 2 s before `at`.
    fn in_flight(&self, pid: u32, at: u64) -> (usize, usize) {
        let observed = lock(&self.shared);
        let in_flight = placed_lock(&self.placed)
            .iter()
            .filter(|(id, p)| p.kind != Kind::Poison && !observed.reports.contains_key(*id))
            .count();
        let recent = observed
            .reports
            .values()
            .filter(|r| {
                r.iter()
                    .any(|(t, p)| *p == pid && *t + us(Duration::from_secs(2)) >= at)
            })
            .count();
        (in_flight, recent)
    }

    pub(crate) async fn run_kill(&mut self) -> Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let pid = child.pid;
        // Mid-work: the moment is random, but the kill waits (at most 3 s) for an order to be
        // on its way, placed and not yet reported.
        let deadline = Instant::now() + Duration::from_secs(3);
        let (at, in_flight, reported_last_2s) = loop {
            let at = now_us();
            let (in_flight, recent) = self.in_flight(pid, at);
            if in_flight > 0 || Instant::now() >= deadline {
                break (at, in_flight, recent);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        self.child_cpu += cpu_secs(&pid.to_string()).unwrap_or(0.0);
        child.child.start_kill()?;
        let status = child.child.wait().await?;
        let down = Duration::from_millis(self.rng.range(1_000, 3_000));
        tokio::time::sleep(down).await;
        let (spawned, ready) = self.spawn_child().await?;
        let flowing = self.wait_flowing(Duration::from_secs(15)).await;
        self.windows.push(Window {
            start: at,
            end: flowing.unwrap_or_else(now_us) + us(self.options.poll_interval()),
        });
        let signal = status.signal();
        self.check(
            "each kill is a SIGKILL of a child in the middle of its work",
            signal == Some(9) && in_flight > 0 && reported_last_2s > 0,
            format!("signal {signal:?}, {in_flight} orders in flight, {reported_last_2s} reported in its last 2 s"),
        );
        self.check(
            "the restarted child reads Flowing within 15 s",
            flowing.is_some(),
            format!(
                "{:?} s after it was ready",
                flowing.map(|f| secs(f.saturating_sub(ready)))
            ),
        );
        self.episodes.push(EpisodeRow {
            at: self.rel(at),
            what: format!(
                "SIGKILL of the child (pid {pid}), restarted {:.1} s later",
                down.as_secs_f64()
            ),
            health: format!("signal {signal:?}; {in_flight} orders in flight"),
            recovered: flowing.map_or("never".into(), |f| {
                format!("{:.2} s after ready", secs(f.saturating_sub(ready)))
            }),
            ok: signal == Some(9) && flowing.is_some(),
        });
        self.kills.push(KillRecord {
            at,
            signal,
            in_flight,
            reported_last_2s,
            down: spawned - at,
            spawned,
            ready,
            flowing,
        });
        Ok(())
    }
}
