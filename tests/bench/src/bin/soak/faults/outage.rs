//! The orders route's outage (issue 27, scenario 1): for `--outage-secs` (5 minutes), every
//! `GET /location/orders/:id` answers 503 while `/callback/events` works and orders keep coming.
//! An outage is not poison: nothing may be set aside, the health reads
//! `Delayed`/`HubriseUnavailable` while it lasts, and every order placed during it reaches the
//! till within one poll interval after it ends (the report holds that to the orders' times).

use std::time::{Duration, Instant};

use passerelle_bench::Result;
use passerelle_sandbox::FaultKind;

use crate::faults::api_fault;
use crate::options::{now_us, secs, us};
use crate::process::lock;
use crate::report::Probe;
use crate::{EpisodeRow, ORDER_PATH, Soak, Window};

impl Soak {
    pub(crate) async fn run_outage(&mut self) -> Result<()> {
        let poll = self.options.poll_interval();
        let length = Duration::from_secs(self.options.outage_secs);
        let start = now_us();
        let started = Instant::now();
        self.faults
            .reset(Some(api_fault(
                ORDER_PATH,
                Some("GET"),
                None,
                FaultKind::Status { status: 503 },
            )))
            .await;
        let label = format!(
            "orders route outage ({} s of 503 on GET /location/orders/:id)",
            length.as_secs()
        );
        let mut queries = Vec::new();
        for offset in [10, length.as_secs() / 2, length.as_secs().saturating_sub(5)] {
            if let Some(wait) = Duration::from_secs(offset).checked_sub(started.elapsed()) {
                tokio::time::sleep(wait).await;
            }
            let health = self.query_health().await?;
            let ok = health.as_ref().is_some_and(|h| {
                !h.conns.is_empty() && h.delayed_for("HubriseUnavailable").count() == h.conns.len()
            });
            let brief = health.as_ref().map_or("no answer".into(), |h| h.brief());
            self.check(
                &format!("{label}: sync_health() at +{offset} s reads Delayed/HubriseUnavailable"),
                ok,
                brief.clone(),
            );
            queries.push(format!("+{offset} s: {brief}"));
        }
        if let Some(wait) = length.checked_sub(started.elapsed()) {
            tokio::time::sleep(wait).await;
        }
        let end = now_us();
        self.faults.reset(None).await;
        let flowing = self.wait_flowing(Duration::from_secs(60)).await;
        self.windows.push(Window {
            start,
            end: flowing.unwrap_or_else(now_us) + us(poll),
        });
        // Nothing set aside: no ItemQuarantined for an order that is not poisoned, from the
        // outage's start until it reads Flowing again (and a few seconds more).
        tokio::time::sleep(Duration::from_secs(3)).await;
        let until = now_us();
        let set_aside: Vec<String> = lock(&self.shared)
            .quarantined
            .iter()
            .filter(|(at, id)| *at >= start && *at <= until && !self.poison.contains(id))
            .map(|(_, id)| id.clone())
            .collect();
        self.check(
            &format!("{label}: nothing quarantined"),
            set_aside.is_empty(),
            format!("{} set aside: {set_aside:?}", set_aside.len()),
        );
        let recovered = flowing.map(|at| at.saturating_sub(end));
        self.check(
            &format!("{label}: Flowing again within 60 s of its end"),
            recovered.is_some(),
            format!("{:?} s", recovered.map(secs)),
        );
        self.probes.push(Probe {
            label: format!("{label}: orders placed during it, outage's end → OrderReceived"),
            from: start,
            to: end,
            location: None,
            since_end: true,
            goal: Some(poll),
        });
        self.episodes.push(EpisodeRow {
            at: self.rel(start),
            what: label,
            health: queries.join("; "),
            recovered: recovered.map_or("never".into(), |r| format!("{:.2} s", secs(r))),
            ok: set_aside.is_empty() && recovered.is_some(),
        });
        Ok(())
    }
}
