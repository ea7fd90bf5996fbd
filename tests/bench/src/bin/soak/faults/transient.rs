//! Transient faults: one drawn at random between the fixed episodes, injected until it is spent
//! or has lasted its time, with the health state it must produce and the check that no attempt
//! came before the time a connection announced for it.

use std::time::{Duration, Instant};

use crate::faults::api_fault;
use crate::options::{now_us, secs, us};
use crate::plan::Rng;
use crate::process::{ConnHealth, HealthLine};
use crate::{EVENTS_PATH, EpisodeRow, LOCATIONS, ORDER_PATH, Soak, Window};
use passerelle_bench::Result;
use passerelle_sandbox::{Fault, FaultKind};

/// What the health state must say during a transient fault.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// A connection reads `Delayed` with this reason.
    Delayed(&'static str),
    /// The fault concerns one order or one change, or only slows answers: orders keep flowing.
    Flowing,
    /// `Flowing`, or `Delayed` for this reason only: a 5xx on one order's GET is an outage
    /// (design D20: every order would share it) when the worker's intake meets it, not when the
    /// pusher's status check does.
    FlowingOr(&'static str),
}

struct Transient {
    pub(crate) label: String,
    pub(crate) fault: Fault,
    pub(crate) expect: Expect,
    /// How long after the fault is used up every connection must read `Flowing` again.
    pub(crate) recover_within: Duration,
}

fn draw_transient(kind: u64, rng: &mut Rng, poll: Duration) -> Transient {
    let margin = poll + Duration::from_secs(3);
    let times = |rng: &mut Rng, lo, hi| u32::try_from(rng.range(lo, hi)).unwrap_or(1);
    match kind {
        0 => {
            let n = times(rng, 2, 4);
            let status = [500u16, 502, 503][usize::try_from(rng.range(0, 2)).unwrap_or(0)];
            Transient {
                label: format!("{status} ×{n} on GET /callback/events"),
                fault: api_fault(
                    EVENTS_PATH,
                    Some("GET"),
                    Some(n),
                    FaultKind::Status { status },
                ),
                expect: Expect::Delayed("HubriseUnavailable"),
                // Growing backoff: at most 1 + 2 + 4 + … s of waits for n failures in a row.
                recover_within: Duration::from_secs(1 << n) + margin,
            }
        }
        1 => {
            let n = times(rng, 2, 3);
            let status = [500u16, 503][usize::try_from(rng.range(0, 1)).unwrap_or(0)];
            Transient {
                label: format!("{status} ×{n} on GET /location/orders/:id"),
                fault: api_fault(
                    ORDER_PATH,
                    Some("GET"),
                    Some(n),
                    FaultKind::Status { status },
                ),
                expect: Expect::FlowingOr("HubriseUnavailable"),
                recover_within: margin,
            }
        }
        2 => {
            let n = times(rng, 1, 2);
            let status = [502u16, 503][usize::try_from(rng.range(0, 1)).unwrap_or(0)];
            Transient {
                label: format!("{status} ×{n} on PATCH /location/orders/:id"),
                fault: api_fault(
                    ORDER_PATH,
                    Some("PATCH"),
                    Some(n),
                    FaultKind::Status { status },
                ),
                expect: Expect::Flowing,
                recover_within: margin,
            }
        }
        3 => {
            let n = times(rng, 1, 3);
            Transient {
                label: format!("reset ×{n} on GET /callback/events"),
                fault: api_fault(EVENTS_PATH, Some("GET"), Some(n), FaultKind::DropConnection),
                expect: Expect::Delayed("Offline"),
                recover_within: poll * n + margin,
            }
        }
        4 => {
            let n = times(rng, 1, 2);
            Transient {
                label: format!("reset ×{n} on /location/orders/:id (GET or PATCH)"),
                fault: api_fault(ORDER_PATH, None, Some(n), FaultKind::DropConnection),
                expect: Expect::Delayed("Offline"),
                recover_within: poll * n + margin,
            }
        }
        5 => Transient {
            label: "reset ×1 on DELETE /callback/events/:id".into(),
            fault: api_fault(
                &format!("{EVENTS_PATH}/"),
                Some("DELETE"),
                Some(1),
                FaultKind::DropConnection,
            ),
            expect: Expect::Delayed("Offline"),
            recover_within: poll + margin,
        },
        6 => {
            let n = times(rng, 2, 4);
            let millis = rng.range(1_500, 3_000);
            let (prefix, what) = if rng.range(0, 1) == 0 {
                (EVENTS_PATH, "GET /callback/events")
            } else {
                (ORDER_PATH, "GET /location/orders/:id")
            };
            Transient {
                label: format!("slow answers ({millis} ms) ×{n} on {what}"),
                fault: api_fault(prefix, Some("GET"), Some(n), FaultKind::Delay { millis }),
                expect: Expect::Flowing,
                recover_within: margin,
            }
        }
        _ => {
            let retry_after = rng.range(2, 5);
            Transient {
                label: format!("429 Retry-After {retry_after} s on GET /callback/events"),
                fault: api_fault(
                    EVENTS_PATH,
                    Some("GET"),
                    Some(1),
                    FaultKind::TooManyRequests {
                        retry_after: Some(retry_after),
                    },
                ),
                expect: Expect::Delayed("RateLimited"),
                recover_within: Duration::from_secs(retry_after) + margin,
            }
        }
    }
}

pub(crate) const TRANSIENT_KINDS: u64 = 8;

/// An attempt made before the time a connection announced for its next one after a failure
/// with `reason`: the connection read `Flowing` again, or `Delayed` with another next attempt
/// (a new failure), sooner than 100 ms before it. Health lines carry the next attempt relative
/// to when they were printed, so the due time is known to a few milliseconds.
fn attempt_before_due(seen: &[HealthLine], reason: &str) -> Option<String> {
    const SLACK_US: i64 = 100_000;
    let absolute = |h: &HealthLine, c: &ConnHealth| {
        c.next_in_ms
            .map(|ms| i64::try_from(h.at).unwrap_or(i64::MAX) + ms * 1_000)
    };
    for (i, h) in seen.iter().enumerate() {
        for c in h.delayed_for(reason) {
            let Some(due) = absolute(h, c) else { continue };
            for later in &seen[i + 1..] {
                let Some(now) = later.conns.iter().find(|x| x.name == c.name) else {
                    continue;
                };
                let attempted = now.state == "Flowing"
                    || (now.state == "Delayed"
                        && absolute(later, now).is_some_and(|d| (d - due).abs() > 50_000));
                if !attempted {
                    continue;
                }
                let at = i64::try_from(later.at).unwrap_or(i64::MAX);
                if at < due - SLACK_US {
                    return Some(format!(
                        "{} read {} {:.2} s after announcing its next attempt in {:.2} s",
                        c.name,
                        now.state,
                        secs(later.at.saturating_sub(h.at)),
                        c.next_in_ms.unwrap_or(0) as f64 / 1_000.0
                    ));
                }
                break;
            }
        }
    }
    None
}

impl Soak {
    pub(crate) async fn run_transient(&mut self, kind: u64) -> Result<()> {
        let poll = self.options.poll_interval();
        let t = draw_transient(kind, &mut self.rng, poll);
        let start = now_us();
        self.faults.inject(t.fault.clone()).await;
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut used_up = true;
        while !self.faults.transient_gone().await {
            if Instant::now() >= deadline {
                used_up = false;
                self.faults.reset(None).await;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let gone = now_us();
        let flowing = self.wait_flowing(t.recover_within).await;
        let min_end = gone + us(poll + Duration::from_secs(1));
        let end = flowing.unwrap_or_else(now_us).max(min_end);
        if now_us() < end {
            tokio::time::sleep(Duration::from_micros(end - now_us())).await;
        }
        self.windows.push(Window { start, end });
        let seen = self.health_events(start, end);
        let (health_ok, health) = match t.expect {
            Expect::Delayed(reason) => {
                let first = seen.iter().find(|h| h.delayed_for(reason).next().is_some());
                match first {
                    Some(h) => (
                        true,
                        format!(
                            "{} after {:.2} s",
                            h.brief(),
                            secs(h.at.saturating_sub(start))
                        ),
                    ),
                    None => (
                        false,
                        format!(
                            "never Delayed/{reason}; saw [{}]",
                            seen.iter()
                                .map(HealthLine::brief)
                                .collect::<Vec<_>>()
                                .join("; ")
                        ),
                    ),
                }
            }
            Expect::FlowingOr(reason) => {
                let other: Vec<String> = seen
                    .iter()
                    .filter(|h| {
                        h.conns.iter().any(|c| {
                            c.state != "Flowing"
                                && !(c.state == "Delayed" && c.reason.as_deref() == Some(reason))
                        })
                    })
                    .map(HealthLine::brief)
                    .collect();
                if other.is_empty() {
                    (true, format!("Flowing or Delayed/{reason}"))
                } else {
                    (
                        false,
                        format!(
                            "other than Flowing or Delayed/{reason}: {}",
                            other.join("; ")
                        ),
                    )
                }
            }
            Expect::Flowing => {
                let other: Vec<String> = seen
                    .iter()
                    .filter(|h| h.state != "Flowing")
                    .map(HealthLine::brief)
                    .collect();
                if other.is_empty() {
                    (true, "Flowing throughout".into())
                } else {
                    (false, format!("left Flowing: {}", other.join("; ")))
                }
            }
        };
        let recovered = match flowing {
            Some(at) => format!("{:.2} s", secs(at.saturating_sub(gone))),
            None => format!("not within {:.0} s", t.recover_within.as_secs_f64()),
        };
        let mut ok = health_ok && flowing.is_some();
        let mut health = health;
        // After an answer from HubRise (a 429, a 5xx) the worker announces its next attempt
        // (Retry-After, growing backoff): no attempt may come sooner.
        if let Expect::Delayed(reason @ ("RateLimited" | "HubriseUnavailable")) = t.expect {
            let early = attempt_before_due(&seen, reason);
            let what = if reason == "RateLimited" {
                "the wait a 429's Retry-After asked for is kept"
            } else {
                "the growing backoff after a 5xx is kept"
            };
            let mut detail = early
                .clone()
                .unwrap_or_else(|| "no attempt before it".into());
            if let FaultKind::TooManyRequests {
                retry_after: Some(wait),
            } = t.fault.kind
            {
                detail.push_str(&format!(
                    "; {}",
                    self.requests_during_retry_after(wait).await
                ));
            }
            self.check(
                &format!("{what} (next attempt not before next_attempt_at)"),
                early.is_none(),
                detail.clone(),
            );
            if early.is_some() {
                ok = false;
                health.push_str(&format!("; EARLY ATTEMPT: {detail}"));
            }
        }
        let what = if used_up {
            t.label.clone()
        } else {
            format!("{} (not used up in 30 s: cleared)", t.label)
        };
        self.check(
            &format!("health during: {}", t.label),
            ok,
            format!("{health}; Flowing again {recovered} after the fault was used up"),
        );
        self.episodes.push(EpisodeRow {
            at: self.rel(start),
            what,
            health,
            recovered,
            ok,
        });
        Ok(())
    }

    /// The API requests the connection that got the last 429 made while its Retry-After ran (the
    /// sandbox's log has whole seconds: strictly inside the wait, with a second of slack).
    async fn requests_during_retry_after(&self, wait: u64) -> String {
        let requests = self.admin.requests().await;
        let second = |at: &str| {
            time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
                .map_or(0, |t| t.unix_timestamp())
        };
        // A faulted request carries no connection (the fault answers before authentication):
        // every location's requests are counted, the health line says which one was limited.
        let Some(limited) = requests.iter().rev().find(|r| r.status == 429) else {
            return "no 429 in the sandbox's log".into();
        };
        let from = second(&limited.at);
        let until = from + i64::try_from(wait).unwrap_or(0);
        let counts: Vec<String> = LOCATIONS
            .iter()
            .map(|location| {
                let inside: Vec<&str> = requests
                    .iter()
                    .filter(|r| {
                        r.connection.as_ref().and_then(|c| c.location_id.as_deref())
                            == Some(*location)
                            && second(&r.at) > from
                            && second(&r.at) < until
                    })
                    .map(|r| r.method.as_str())
                    .collect();
                let gets = inside.iter().filter(|m| **m == "GET").count();
                format!(
                    "{}: {} ({gets} GET)",
                    self.names.get(*location).map_or(*location, String::as_str),
                    inside.len()
                )
            })
            .collect();
        format!(
            "API requests strictly inside the {wait} s the 429 asked for (whole seconds {}..={}): {}",
            from + 1,
            until - 1,
            counts.join(", ")
        )
    }
}
