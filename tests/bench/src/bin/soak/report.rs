//! The report: latencies from placement to `OrderReceived` (outside fault windows, after each cut
//! and restart), the episodes, the checks and the counts, as Markdown (printed, and kept as
//! report.md in the work directory).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use passerelle_bench::stats::Samples;

use crate::checks::{End, Tally};
use crate::options::{load_average, now_us, secs};
use crate::orders::Kind;
use crate::{COMMAND, LOCATIONS, Soak};

/// The orders placed during an episode (at `from..=to`, at one location or both): placed (or
/// the episode's end, `since_end`) → first `OrderReceived`, held to `goal` when there is one.
pub(crate) struct Probe {
    pub(crate) label: String,
    pub(crate) from: u64,
    pub(crate) to: u64,
    pub(crate) location: Option<&'static str>,
    pub(crate) since_end: bool,
    pub(crate) goal: Option<Duration>,
}

/// Placed → first `OrderReceived`.
pub(crate) struct Latencies {
    pub(crate) all: Samples,
    /// Orders whose way from placement to the till crossed no fault window.
    pub(crate) clean: Samples,
    pub(crate) clean_goal: Duration,
    /// For the orders placed during each cut: from the cut's end; with the goal.
    pub(crate) cuts: Vec<(bool, Samples, Duration)>,
    /// For the orders placed while each killed child was down: from its restart.
    pub(crate) kills: Vec<Samples>,
}

impl Soak {
    /// Placed → first `OrderReceived`: every order, outside fault windows, after each cut's end
    /// and after each restart.
    pub(crate) fn latencies(&self, end: &End) -> Latencies {
        let first: HashMap<&String, u64> = end
            .observed
            .reports
            .iter()
            .filter_map(|(id, r)| r.iter().map(|(t, _)| *t).min().map(|t| (id, t)))
            .collect();
        let mut all = Samples::new();
        let mut clean = Samples::new();
        for (id, p) in &end.placed {
            let Some(&got) = first.get(id) else { continue };
            let latency = Duration::from_micros(got.saturating_sub(p.at));
            all.push(latency);
            if !self.windows.iter().any(|w| w.start < got && w.end > p.at) {
                clean.push(latency);
            }
        }
        let poll = self.options.poll_interval();
        let clean_goal = poll + Duration::from_secs(2);
        let mut cut_rows = Vec::new();
        for cut in &self.cuts {
            let mut after = Samples::new();
            for (id, p) in &end.placed {
                if p.kind == Kind::Poison || p.at < cut.start || p.at > cut.end {
                    continue;
                }
                if let Some(&got) = first.get(id) {
                    after.push(Duration::from_micros(got.saturating_sub(cut.end)));
                }
            }
            let goal = if cut.hint {
                Duration::from_secs(2)
            } else {
                poll
            };
            cut_rows.push((cut.hint, after, goal));
        }
        let mut kill_rows = Vec::new();
        for kill in &self.kills {
            let mut after = Samples::new();
            for (id, p) in &end.placed {
                if p.kind == Kind::Poison || p.at < kill.at || p.at > kill.spawned {
                    continue;
                }
                if let Some(&got) = first.get(id) {
                    after.push(Duration::from_micros(got.saturating_sub(kill.spawned)));
                }
            }
            kill_rows.push(after);
        }
        Latencies {
            all,
            clean,
            clean_goal,
            cuts: cut_rows,
            kills: kill_rows,
        }
    }

    /// Each probe's figures, checked against its goal, as rows of the figure table.
    pub(crate) fn check_probes(&mut self, end: &End) {
        let first: HashMap<&String, u64> = end
            .observed
            .reports
            .iter()
            .filter_map(|(id, r)| r.iter().map(|(t, _)| *t).min().map(|t| (id, t)))
            .collect();
        let probes = std::mem::take(&mut self.probes);
        for probe in &probes {
            let mut samples = Samples::new();
            let mut missing = 0usize;
            for (id, p) in &end.placed {
                if p.kind == Kind::Poison
                    || p.at < probe.from
                    || p.at > probe.to
                    || probe.location.is_some_and(|l| l != p.location)
                {
                    continue;
                }
                let since = if probe.since_end { probe.to } else { p.at };
                match first.get(id) {
                    Some(&got) => samples.push(Duration::from_micros(got.saturating_sub(since))),
                    None => missing += 1,
                }
            }
            let value = if samples.is_empty() {
                format!("no order ({missing} missing)")
            } else {
                format!(
                    "{} orders: p50 / p99 / max {:.3} / {:.3} / {:.3} s (first {:.3} s){}",
                    samples.len(),
                    samples.median().as_secs_f64(),
                    samples.percentile(99.0).as_secs_f64(),
                    samples.max().as_secs_f64(),
                    samples.min().as_secs_f64(),
                    if missing > 0 {
                        format!("; {missing} never reported")
                    } else {
                        String::new()
                    }
                )
            };
            let goal = match probe.goal {
                Some(goal) => {
                    let ok = !samples.is_empty() && missing == 0 && samples.max() <= goal;
                    self.check(
                        &format!("{}: max ≤ {:.0} s", probe.label, goal.as_secs_f64()),
                        ok,
                        value.clone(),
                    );
                    format!(
                        "max ≤ {:.0} s: {}",
                        goal.as_secs_f64(),
                        if ok { "met" } else { "MISSED" }
                    )
                }
                None => String::new(),
            };
            self.figures.push((probe.label.clone(), value, goal));
        }
        let overwritten: Vec<&String> = self
            .siblings
            .iter()
            .filter(|id| {
                end.at_hubrise.get(*id).and_then(|o| o["status"].as_str()) != Some("accepted")
            })
            .collect();
        self.figures.push((
            "statuses overwritten (sibling's accept written over by a stale received)".into(),
            format!("{} of {}", overwritten.len(), self.siblings.len()),
            format!(
                "0: {}",
                if overwritten.is_empty() {
                    "met"
                } else {
                    "MISSED"
                }
            ),
        ));
        self.check(
            "0 overwritten statuses: every sibling's accept still accepted at HubRise at the end",
            overwritten.is_empty(),
            format!("{overwritten:?}"),
        );
    }

    pub(crate) fn report(
        &self,
        end: &End,
        latencies: &Latencies,
        tally: &Tally,
        started_wall: u64,
        load_before: &str,
    ) -> String {
        let counts = |kind: Kind| end.placed.values().filter(|p| p.kind == kind).count();
        let at_location = |location: &str| {
            end.placed
                .values()
                .filter(|p| p.location == location)
                .count()
        };
        let service = secs(end.service_end.saturating_sub(self.t0));
        let Latencies {
            all,
            clean,
            clean_goal,
            ..
        } = latencies;
        let clean_ok = !clean.is_empty() && clean.percentile(99.0) <= *clean_goal;
        let mut out = String::new();
        let line = |out: &mut String, s: String| {
            out.push_str(&s);
            out.push('\n');
        };
        let args = if self.options.args.is_empty() {
            String::new()
        } else {
            format!(" -- {}", self.options.args.join(" "))
        };
        line(&mut out, format!("## Service soak: `{COMMAND}{args}`"));
        line(&mut out, String::new());
        line(
            &mut out,
            format!(
                "Machine: {}; load average {load_before} at the start, {} at the end.",
                passerelle_bench::machine(),
                load_average()
            ),
        );
        line(
            &mut out,
            format!(
                "Started {} (Unix s); service {service:.0} s; drained {:.1} s after the last placement; whole run {:.0} s. Seed {}, poll interval {} s.",
                started_wall / 1_000_000,
                secs(end.drained.saturating_sub(end.service_end)),
                secs(now_us().saturating_sub(started_wall)),
                self.options.seed,
                self.options.poll,
            ),
        );
        line(
            &mut out,
            format!(
                "CPU: soak process (sandbox, orchestration) {:.1} s; the child processes {:.1} s in all.",
                end.cpu_soak, self.child_cpu
            ),
        );
        line(&mut out, String::new());
        line(&mut out, "| figure | value | goal |".into());
        line(&mut out, "|---|---:|---|".into());
        line(
            &mut out,
            format!(
                "| orders placed (normal / poisoned GET / poisoned PATCH / sibling's) | {} ({} / {} / {} / {}) over {service:.0} s, {:.2}/s; Paris {}, Lyon {} | ≥ 2,000 over ≥ 10 min |",
                end.placed.len(),
                counts(Kind::Normal),
                counts(Kind::Poison),
                counts(Kind::Held),
                counts(Kind::Sibling),
                end.placed.len() as f64 / service.max(1.0),
                at_location(LOCATIONS[0]),
                at_location(LOCATIONS[1])
            ),
        );
        line(
            &mut out,
            format!(
                "| placed → OrderReceived, outside fault windows ({} orders): p50 / p99 / max | {:.3} / {:.3} / {:.3} s | p99 ≤ {:.0} s: {} |",
                clean.len(),
                clean.median().as_secs_f64(),
                clean.percentile(99.0).as_secs_f64(),
                clean.max().as_secs_f64(),
                clean_goal.as_secs_f64(),
                if clean_ok { "met" } else { "MISSED" }
            ),
        );
        line(
            &mut out,
            format!(
                "| placed → OrderReceived, every order ({}): p50 / p99 / max | {:.3} / {:.3} / {:.3} s | |",
                all.len(),
                all.median().as_secs_f64(),
                all.percentile(99.0).as_secs_f64(),
                all.max().as_secs_f64()
            ),
        );
        for (cut, (_, after, goal)) in self.cuts.iter().zip(&latencies.cuts) {
            let ok = !after.is_empty() && after.max() <= *goal;
            line(
                &mut out,
                format!(
                    "| network cut {} ({}; {} orders placed during it): cut's end → OrderReceived, p50 / max | {:.3} / {:.3} s (first {:.3} s; Delayed/Offline read after {}; Flowing again {}) | max ≤ {:.0} s: {} |",
                    if cut.hint { 1 } else { 2 },
                    if cut.hint {
                        "host's hint at its end"
                    } else {
                        "no hint"
                    },
                    after.len(),
                    after.median().as_secs_f64(),
                    after.max().as_secs_f64(),
                    after.min().as_secs_f64(),
                    cut.first_offline
                        .iter()
                        .map(|(n, at)| format!(
                            "{n} {}",
                            at.map_or("never".into(), |a| format!("{:.2} s", secs(a)))
                        ))
                        .collect::<Vec<_>>()
                        .join(", "),
                    cut.flowing_after.map_or("never".into(), |f| format!(
                        "{:.2} s after its end",
                        secs(f)
                    )),
                    goal.as_secs_f64(),
                    if ok { "met" } else { "MISSED" }
                ),
            );
        }
        for (i, (kill, after)) in self.kills.iter().zip(&latencies.kills).enumerate() {
            line(
                &mut out,
                format!(
                    "| kill {} at {:.0} s (signal {:?}; {} orders in flight, {} reported in its last 2 s): down {:.2} s; restarted → open() returned {:.2} s → Flowing {}; {} placed while down, restarted → OrderReceived max | {:.3} s | |",
                    i + 1,
                    self.rel(kill.at),
                    kill.signal,
                    kill.in_flight,
                    kill.reported_last_2s,
                    secs(kill.down),
                    secs(kill.ready.saturating_sub(kill.spawned)),
                    kill.flowing.map_or("never".into(), |f| format!(
                        "{:.2} s",
                        secs(f.saturating_sub(kill.ready))
                    )),
                    after.len(),
                    after.max().as_secs_f64()
                ),
            );
        }
        for (figure, value, goal) in &self.figures {
            line(&mut out, format!("| {figure} | {value} | {goal} |"));
        }
        line(
            &mut out,
            format!(
                "| orders announced again after a restart (unseen at the kill; counted once) | {} | |",
                tally.again_after_restart
            ),
        );
        line(
            &mut out,
            format!(
                "| orders whose status PATCH reached HubRise twice (across a kill) | {} | |",
                tally.repeated_patches
            ),
        );
        line(
            &mut out,
            format!(
                "| API requests: all / dropped by a fault / 429 / 5xx | {} / {} / {} / {} | |",
                tally.api, tally.dropped, tally.too_many, tally.server_errors,
            ),
        );
        line(
            &mut out,
            format!(
                "| API requests by route | {} | |",
                tally
                    .by_route
                    .iter()
                    .map(|(route, n)| format!("{route} {n}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        );
        line(
            &mut out,
            format!(
                "| fault episodes (transient and issue 27's / cuts / kills / poisons) | {} / {} / {} / {} + {} | |",
                self.episodes.len().saturating_sub(
                    self.cuts.len() + self.kills.len() + self.poison.len() + self.held.len()
                ),
                self.cuts.len(),
                self.kills.len(),
                self.poison.len(),
                self.held.len()
            ),
        );
        let passed = self.checks.iter().filter(|c| c.ok).count();
        line(
            &mut out,
            format!("| checks held | {passed} of {} | all |", self.checks.len()),
        );
        line(&mut out, String::new());
        line(
            &mut out,
            "| t (s) | fault | health seen | Flowing again | ok |".into(),
        );
        line(&mut out, "|---:|---|---|---|---|".into());
        for e in &self.episodes {
            line(
                &mut out,
                format!(
                    "| {:.1} | {} | {} | {} | {} |",
                    e.at,
                    e.what,
                    e.health,
                    e.recovered,
                    if e.ok { "yes" } else { "**NO**" }
                ),
            );
        }
        line(&mut out, String::new());
        line(&mut out, "| check | held | detail |".into());
        line(&mut out, "|---|---|---|".into());
        let mut grouped: BTreeMap<&str, (usize, usize, Vec<&str>)> = BTreeMap::new();
        for c in &self.checks {
            let entry = grouped.entry(c.name.as_str()).or_default();
            entry.0 += 1;
            if c.ok {
                entry.1 += 1;
            } else {
                entry.2.push(c.detail.as_str());
            }
        }
        for c in &self.checks {
            let Some((total, ok, failures)) = grouped.remove(c.name.as_str()) else {
                continue;
            };
            let detail = if total == 1 {
                c.detail.replace('|', "/")
            } else if failures.is_empty() {
                format!("{total} times")
            } else {
                format!(
                    "failed {} of {total}: {}",
                    total - ok,
                    failures.join("; ").replace('|', "/")
                )
            };
            line(
                &mut out,
                format!(
                    "| {} | {} | {} |",
                    c.name,
                    if ok == total { "yes" } else { "**NO**" },
                    detail
                ),
            );
        }
        out
    }
}
