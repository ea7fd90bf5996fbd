//! The checks at the end: wait for the last orders and the child's account, close it, then hold
//! what it reported, its database, its quarantine and HubRise's side to what was placed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use passerelle_bench::Result;
use passerelle_core::DATABASE_FILE;
use passerelle_sandbox::ServerKind;
use serde_json::Value;

use crate::options::{cpu_secs, now_us};
use crate::orders::{Kind, Placed, placed_lock};
use crate::process::{HealthLine, Observed, lock, wait_for};
use crate::{LOCATIONS, ORDER_PATH, Soak};

/// What the end of the run gathered, for the checks and the report.
pub(crate) struct End {
    pub(crate) placed: BTreeMap<String, Placed>,
    /// Every placed order but the poisoned ones.
    pub(crate) expected: BTreeSet<String>,
    pub(crate) poison: BTreeSet<String>,
    pub(crate) held: BTreeSet<String>,
    pub(crate) observed: Observed,
    /// The child's `report` answer.
    pub(crate) report: Value,
    pub(crate) at_hubrise: HashMap<String, Value>,
    pub(crate) all_reported: bool,
    pub(crate) settled: bool,
    pub(crate) closed: bool,
    pub(crate) service_end: u64,
    pub(crate) drained: u64,
    pub(crate) cpu_soak: f64,
}

/// Counts the report shows.
pub(crate) struct Tally {
    pub(crate) again_after_restart: usize,
    pub(crate) repeated_patches: usize,
    pub(crate) api: usize,
    pub(crate) dropped: usize,
    pub(crate) too_many: usize,
    pub(crate) server_errors: usize,
    /// API requests by route (method and path with ids left out), most first.
    pub(crate) by_route: Vec<(String, usize)>,
}

/// A request's route: its method and path, ids left out.
fn route_of(method: &str, path: &str) -> String {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let path = match segments.as_slice() {
        ["v1", "callback", "events", _] => "/callback/events/:id".to_owned(),
        ["v1", "location", "orders", _] => "/location/orders/:id".to_owned(),
        ["v1", rest @ ..] => format!("/{}", rest.join("/")),
        _ => path.to_owned(),
    };
    format!("{method} {path}")
}

impl Soak {
    /// Waits for the last orders, the quarantine and the failed changes, and HubRise's accepts;
    /// asks the child for its account, closes it, and takes what was observed.
    pub(crate) async fn settle_and_close(
        &mut self,
        service_end: u64,
        cpu_before: f64,
    ) -> Result<End> {
        let placed = placed_lock(&self.placed).clone();
        let expected: BTreeSet<String> = placed
            .iter()
            .filter(|(_, p)| p.kind != Kind::Poison)
            .map(|(id, _)| id.clone())
            .collect();
        let poison: BTreeSet<String> = self.poison.iter().cloned().collect();
        let held: BTreeSet<String> = self.held.iter().cloned().collect();

        // Every order reported, every poison set aside, every poisoned change failed.
        let all_reported = {
            let expected = expected.clone();
            wait_for(&self.shared, Duration::from_secs(180), move |o| {
                expected
                    .iter()
                    .all(|id| o.reports.contains_key(id))
                    .then_some(())
            })
            .await
            .is_some()
        };
        let settled = {
            let (poison, held) = (poison.clone(), held.clone());
            wait_for(&self.shared, Duration::from_secs(240), move |o| {
                let q: BTreeSet<String> = o.quarantined.iter().map(|(_, id)| id.clone()).collect();
                let f: BTreeSet<String> = o.failed.iter().map(|(_, id, _)| id.clone()).collect();
                (poison.is_subset(&q) && held.is_subset(&f)).then_some(())
            })
            .await
            .is_some()
        };
        // HubRise has every accept.
        let deadline = Instant::now() + Duration::from_secs(180);
        let mut at_hubrise: HashMap<String, Value> = HashMap::new();
        loop {
            at_hubrise.clear();
            for location in LOCATIONS {
                for order in self.admin.orders(location).await {
                    if let Some(id) = order["id"].as_str() {
                        at_hubrise.insert(id.to_owned(), order.clone());
                    }
                }
            }
            let pending = placed
                .iter()
                .filter(|(id, p)| {
                    p.kind == Kind::Normal
                        && at_hubrise.get(*id).and_then(|o| o["status"].as_str())
                            != Some("accepted")
                })
                .count();
            if pending == 0 || Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        let drained = now_us();

        // The child's own account, then a clean close.
        self.send("report").await?;
        let report = wait_for(&self.shared, Duration::from_secs(10), |o| o.report.clone())
            .await
            .unwrap_or(Value::Null);
        if let Some(child) = &self.child {
            self.child_cpu += cpu_secs(&child.pid.to_string()).unwrap_or(0.0);
        }
        self.send("close").await?;
        let closed = match self.child.take() {
            Some(mut child) => {
                drop(child.stdin);
                matches!(
                    tokio::time::timeout(Duration::from_secs(30), child.child.wait()).await,
                    Ok(Ok(status)) if status.success()
                )
            }
            None => false,
        };
        let cpu_soak = cpu_secs("self").unwrap_or(0.0) - cpu_before;

        let observed = std::mem::take(&mut *lock(&self.shared));
        Ok(End {
            placed,
            expected,
            poison,
            held,
            observed,
            report,
            at_hubrise,
            all_reported,
            settled,
            closed,
            service_end,
            drained,
            cpu_soak,
        })
    }

    /// Lost and duplicated, as the child reported them; returns how many orders were announced
    /// again by a restarted child.
    pub(crate) fn check_reports(&mut self, end: &End) -> usize {
        let missing: Vec<&String> = end
            .expected
            .iter()
            .filter(|id| !end.observed.reports.contains_key(*id))
            .collect();
        self.check(
            "0 lost: every placed order but the poisoned ones reported (OrderReceived)",
            end.all_reported && missing.is_empty(),
            format!(
                "{} of {} reported; missing {:?}",
                end.expected.len() - missing.len(),
                end.expected.len(),
                missing.iter().take(10).collect::<Vec<_>>()
            ),
        );
        let unexpected: Vec<&String> = end
            .observed
            .reports
            .keys()
            .filter(|id| !end.expected.contains(*id))
            .collect();
        self.check(
            "no poisoned order and nothing unknown reported",
            unexpected.is_empty(),
            format!("{unexpected:?}"),
        );
        let mut twice_in_one_process = Vec::new();
        let mut again_after_restart = 0usize;
        for (id, reports) in &end.observed.reports {
            let pids: BTreeSet<u32> = reports.iter().map(|(_, p)| *p).collect();
            if pids.len() < reports.len() {
                twice_in_one_process.push(id.clone());
            }
            if pids.len() > 1 {
                again_after_restart += 1;
            }
        }
        self.check(
            "0 duplicated: no order announced twice by one process",
            twice_in_one_process.is_empty(),
            format!(
                "{} orders: {:?}",
                twice_in_one_process.len(),
                twice_in_one_process.iter().take(10).collect::<Vec<_>>()
            ),
        );

        again_after_restart
    }

    /// Lost and duplicated in the child's SQLite file, and its outbox.
    pub(crate) fn check_database(&mut self, end: &End) -> Result<()> {
        let db = rusqlite::Connection::open_with_flags(
            self.work.join("data").join(DATABASE_FILE),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )?;
        let (rows, distinct): (i64, i64) =
            db.query_row("SELECT count(*), count(DISTINCT id) FROM orders", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        let stored: BTreeSet<String> = db
            .prepare("SELECT id FROM orders")?
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<_>>()?;
        self.check(
            "0 lost, 0 duplicated in the child's SQLite: each order stored once, no poisoned one",
            stored == end.expected
                && rows == distinct
                && usize::try_from(rows).ok() == Some(end.expected.len()),
            format!(
                "{rows} rows, {distinct} distinct ids, {} expected; missing {}, extra {}",
                end.expected.len(),
                end.expected.difference(&stored).count(),
                stored.difference(&end.expected).count()
            ),
        );
        let twice: Vec<(String, String, i64)> = db
            .prepare(
                "SELECT order_id, kind, count(*) FROM outbox GROUP BY order_id, kind HAVING count(*) > 1",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        self.check(
            "0 duplicated in the outbox: one `received` and one accept per order at most",
            twice.is_empty(),
            format!("{twice:?}"),
        );
        let waiting: i64 = db.query_row(
            "SELECT count(*) FROM outbox WHERE finished_at IS NULL AND failed_at IS NULL",
            [],
            |r| r.get(0),
        )?;
        let failed_rows: BTreeSet<String> = db
            .prepare(
                "SELECT order_id FROM outbox WHERE failed_at IS NOT NULL AND finished_at IS NULL",
            )?
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<_>>()?;
        self.check(
            "the outbox is empty but for the poisoned changes",
            waiting == 0 && failed_rows == end.held,
            format!("{waiting} changes waiting; failed {failed_rows:?}"),
        );

        Ok(())
    }

    /// Exactly the poisoned orders quarantined, exactly the poisoned changes failed.
    pub(crate) fn check_quarantine(&mut self, end: &End) {
        let quarantined_events: BTreeSet<String> = end
            .observed
            .quarantined
            .iter()
            .map(|(_, id)| id.clone())
            .collect();
        let quarantined_items: BTreeSet<String> = end.report["quarantined"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i["order_id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let quarantined_count = end.report["quarantined"].as_array().map_or(0, Vec::len);
        self.check(
            "exactly the poisoned orders quarantined (quarantined_items() and ItemQuarantined)",
            end.settled && quarantined_items == end.poison && quarantined_events == end.poison && quarantined_count == end.poison.len(),
            format!(
                "poisoned {:?}; quarantined_items() {quarantined_items:?} ({quarantined_count} items); events {quarantined_events:?}",
                end.poison
            ),
        );
        let failed_changes: Vec<(String, String)> = end.report["failed"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|i| {
                        (
                            i["order_id"].as_str().unwrap_or_default().to_owned(),
                            i["status"].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let failed_ids: BTreeSet<String> =
            failed_changes.iter().map(|(id, _)| id.clone()).collect();
        let failed_events: BTreeSet<String> = end
            .observed
            .failed
            .iter()
            .map(|(_, id, _)| id.clone())
            .collect();
        self.check(
            "exactly the poisoned changes failed, each an accept (failed_changes() and ChangeFailed)",
            failed_ids == end.held
                && failed_changes.len() == end.held.len()
                && failed_changes.iter().all(|(_, status)| status == "accepted")
                && failed_events == end.held,
            format!(
                "poisoned {:?}; failed_changes() {failed_changes:?}; events {failed_events:?}",
                end.held
            ),
        );
        let final_health = HealthLine::parse(&end.report["health"]);
        let q_total: u64 = final_health.conns.iter().map(|c| c.quarantined).sum();
        let f_total: u64 = final_health.conns.iter().map(|c| c.failed).sum();
        self.check(
            "the final health needs attention and counts them",
            end.report["health"]["attention"] == true
                && q_total == end.poison.len() as u64
                && f_total == end.held.len() as u64
                && final_health.all_flowing(),
            format!(
                "{}: {q_total} quarantined, {f_total} failed changes",
                final_health.brief()
            ),
        );
        self.check(
            "no order conflict, no reconnect needed, no error in the child",
            end.observed.conflicts.is_empty()
                && end.observed.reconnect_needed.is_empty()
                && end.observed.errors.is_empty(),
            format!(
                "conflicts {:?}; reconnect {:?}; errors {:?}",
                end.observed.conflicts,
                end.observed.reconnect_needed,
                end.observed.errors.iter().take(5).collect::<Vec<_>>()
            ),
        );
        self.check(
            "unseen_orders() is empty at the end",
            end.report["unseen"] == 0,
            format!("{}", end.report["unseen"]),
        );
        self.check("the child closes cleanly", end.closed, String::new());
    }

    /// HubRise's side: statuses, nothing appended, queues empty, PATCHes counted.
    pub(crate) async fn check_hubrise(&mut self, end: &End) -> Tally {
        let mut wrong = Vec::new();
        for (id, p) in &end.placed {
            let want = match p.kind {
                Kind::Normal | Kind::Sibling => "accepted",
                Kind::Held => "received",
                Kind::Poison => "new",
            };
            let Some(order) = end.at_hubrise.get(id) else {
                wrong.push(format!("{id}: not at HubRise"));
                continue;
            };
            let len = |k: &str| order[k].as_array().map_or(0, Vec::len);
            let status = order["status"].as_str().unwrap_or_default();
            let confirmed = p.kind != Kind::Normal || order["confirmed_time"].is_string();
            if status != want
                || !confirmed
                || len("items") != 2
                || len("charges") != 1
                || len("payments") != 1
            {
                wrong.push(format!(
                    "{id}: {status} (want {want}), items {}, charges {}, payments {}",
                    len("items"),
                    len("charges"),
                    len("payments")
                ));
            }
        }
        self.check(
            "HubRise: every order accepted (held: received; poisoned: new), nothing appended",
            wrong.is_empty(),
            format!(
                "{} wrong: {:?}",
                wrong.len(),
                wrong.iter().take(5).collect::<Vec<_>>()
            ),
        );
        let left: usize = self
            .admin
            .connections()
            .await
            .iter()
            .filter(|c| c.client_id == self.client_id)
            .map(|c| c.pending_events)
            .sum();
        self.check(
            "HubRise: no event left in the queues",
            left == 0,
            format!("{left} left"),
        );
        let requests = self.admin.requests().await;
        let api: Vec<_> = requests
            .iter()
            .filter(|r| r.server == ServerKind::Api)
            .collect();
        let mut patches: HashMap<String, Vec<i64>> = HashMap::new();
        for r in &api {
            if r.method == "PATCH"
                && r.status == 200
                && let Some(id) = r.path.strip_prefix(ORDER_PATH)
            {
                let at = time::OffsetDateTime::parse(
                    &r.at,
                    &time::format_description::well_known::Rfc3339,
                )
                .map_or(0, |t| t.unix_timestamp());
                patches.entry(id.to_owned()).or_default().push(at);
            }
        }
        let kills_s: Vec<i64> = self
            .kills
            .iter()
            .map(|k| i64::try_from(k.at / 1_000_000).unwrap_or(0))
            .collect();
        let mut repeated = 0usize;
        let mut repeated_without_kill = Vec::new();
        for (id, p) in &end.placed {
            let want = match p.kind {
                Kind::Normal => 2,
                Kind::Held => 1,
                Kind::Poison | Kind::Sibling => 0,
            };
            let got = patches.get(id).map_or(0, Vec::len);
            if got > want {
                repeated += 1;
                let near_kill = patches.get(id).is_some_and(|times| {
                    times
                        .iter()
                        .any(|t| kills_s.iter().any(|k| (t - k).abs() <= 3))
                });
                if !near_kill {
                    repeated_without_kill.push(id.clone());
                }
            }
        }
        self.check(
            "a status PATCH repeated only across a kill (sent, then the child died before recording it)",
            repeated_without_kill.is_empty(),
            format!("{repeated} orders had a status PATCH applied twice; without a kill within 3 s: {repeated_without_kill:?}"),
        );
        let by_status = |pred: &dyn Fn(u16) -> bool| api.iter().filter(|r| pred(r.status)).count();

        Tally {
            again_after_restart: 0,
            repeated_patches: repeated,
            api: api.len(),
            dropped: by_status(&|s| s == 0),
            too_many: by_status(&|s| s == 429),
            server_errors: by_status(&|s| s >= 500),
            by_route: {
                let mut counts: HashMap<String, usize> = HashMap::new();
                for r in &api {
                    *counts.entry(route_of(&r.method, &r.path)).or_default() += 1;
                }
                let mut counts: Vec<(String, usize)> = counts.into_iter().collect();
                counts.sort_by_key(|c| std::cmp::Reverse(c.1));
                counts
            },
        }
    }
}
