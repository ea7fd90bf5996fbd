//! A network cut: every path of the API server drops its connections for `--cut-secs`; with the
//! host's hint `network_available()` right when it ends, or without.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use passerelle_bench::Result;
use passerelle_sandbox::FaultKind;

use crate::faults::api_fault;
use crate::options::{now_us, secs, us};
use crate::{CutRecord, EpisodeRow, Soak, Window};

impl Soak {
    pub(crate) async fn run_cut(&mut self, hint: bool) -> Result<()> {
        let poll = self.options.poll_interval();
        let cut = Duration::from_secs(self.options.cut_secs);
        let start = now_us();
        let started = Instant::now();
        self.faults
            .reset(Some(api_fault("/", None, None, FaultKind::DropConnection)))
            .await;
        let label = if hint {
            "network cut 1 (host's hint at its end)"
        } else {
            "network cut 2 (no hint)"
        };
        // sync_health() read during the cut: Delayed, Offline, next attempt within one poll.
        let mut queries = Vec::new();
        for offset in [5, cut.as_secs() / 2, cut.as_secs().saturating_sub(3)] {
            let at = Duration::from_secs(offset);
            if let Some(wait) = at.checked_sub(started.elapsed()) {
                tokio::time::sleep(wait).await;
            }
            let health = self.query_health().await?;
            let ok = health.as_ref().is_some_and(|h| {
                !h.conns.is_empty()
                    && h.conns.iter().all(|c| {
                        c.state == "Delayed"
                            && c.reason.as_deref() == Some("Offline")
                            && c.next_in_ms.is_some_and(|ms| {
                                ms <= i64::try_from(poll.as_millis()).unwrap_or(0) + 250
                            })
                    })
            });
            let brief = health.as_ref().map_or("no answer".into(), |h| {
                let next: Vec<String> = h
                    .conns
                    .iter()
                    .map(|c| format!("{} next in {:?} ms", c.name, c.next_in_ms))
                    .collect();
                format!("{} ({})", h.brief(), next.join(", "))
            });
            self.check(
                &format!("{label}: sync_health() at +{offset} s reads Delayed/Offline, next attempt within one poll"),
                ok,
                brief.clone(),
            );
            queries.push(format!("+{offset} s: {brief}"));
        }
        if let Some(wait) = cut.checked_sub(started.elapsed()) {
            tokio::time::sleep(wait).await;
        }
        let end = now_us();
        self.faults.reset(None).await;
        if hint {
            self.send("hint").await?;
        }
        let bound = if hint {
            Duration::from_secs(3)
        } else {
            poll + Duration::from_secs(3)
        };
        let flowing = self.wait_flowing(Duration::from_secs(20)).await;
        self.windows.push(Window {
            start,
            end: flowing.unwrap_or_else(now_us) + us(poll),
        });
        // When each connection first read Delayed/Offline after the cut began (its events).
        let seen = self.health_events(start, end);
        let names: BTreeSet<String> = seen
            .iter()
            .flat_map(|h| h.conns.iter().map(|c| c.name.clone()))
            .collect();
        let first_offline: Vec<(String, Option<u64>)> = names
            .into_iter()
            .map(|name| {
                let at = seen
                    .iter()
                    .find(|h| h.delayed_for("Offline").any(|c| c.name == name))
                    .map(|h| h.at - start);
                (name, at)
            })
            .collect();
        let quick = first_offline.len() == 2
            && first_offline
                .iter()
                .all(|(_, at)| at.is_some_and(|at| at <= us(Duration::from_secs(5))));
        self.check(
            &format!("{label}: each connection reads Delayed/Offline within 5 s"),
            quick,
            first_offline
                .iter()
                .map(|(n, at)| format!("{n}: {:?} s", at.map(secs)))
                .collect::<Vec<_>>()
                .join(", "),
        );
        let recovered = flowing.map(|at| at.saturating_sub(end));
        self.check(
            &format!(
                "{label}: Flowing again within {:.0} s of its end",
                bound.as_secs_f64()
            ),
            recovered.is_some_and(|r| r <= us(bound)),
            format!("{:?} s", recovered.map(secs)),
        );
        self.episodes.push(EpisodeRow {
            at: self.rel(start),
            what: format!("{label}, {} s", cut.as_secs()),
            health: format!(
                "Delayed/Offline first after {}; {}",
                first_offline
                    .iter()
                    .map(|(n, at)| format!("{n} {:.2} s", at.map_or(f64::NAN, secs)))
                    .collect::<Vec<_>>()
                    .join(", "),
                queries.join("; ")
            ),
            recovered: recovered.map_or("never".into(), |r| format!("{:.2} s", secs(r))),
            ok: quick && recovered.is_some_and(|r| r <= us(bound)),
        });
        self.cuts.push(CutRecord {
            hint,
            start,
            end,
            flowing_after: recovered,
            first_offline,
        });
        Ok(())
    }
}
