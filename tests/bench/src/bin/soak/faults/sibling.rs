//! A sibling till's accept racing this till's failed automatic `received` (issue 27, scenario
//! 3): an order arrives while its PATCHes fail (503), so the automatic `received` waits in the
//! outbox; another till accepts it at HubRise; its GET then fails for a while (this till's copy
//! still says `new` while the outbox retries); then everything works again. HubRise must keep
//! `accepted` throughout. The till does not accept these orders itself (customer "Sibling …").

use std::time::{Duration, Instant};

use passerelle_bench::Result;
use passerelle_sandbox::FaultKind;
use passerelle_sandbox::seed::sample_order;

use crate::faults::api_fault;
use crate::options::now_us;
use crate::orders::{Kind, Placed, placed_lock};
use crate::process::wait_for;
use crate::{EpisodeRow, ORDER_PATH, Soak, Window};

impl Soak {
    async fn hubrise_status(&self, location: &str, id: &str) -> String {
        self.admin
            .order(location, id)
            .await
            .and_then(|o| o["status"].as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    pub(crate) async fn run_sibling(&mut self) -> Result<()> {
        let location = self.next_location();
        let name = format!("Sibling {}", self.siblings.len() + 1);
        let at = now_us();
        let id = self
            .admin
            .place_order(location, sample_order(&name))
            .await?;
        let route = format!("{ORDER_PATH}{id}");
        // No await point between placing and the fault yields (see `Faults`).
        self.faults
            .inject(api_fault(
                &route,
                Some("PATCH"),
                None,
                FaultKind::Status { status: 503 },
            ))
            .await;
        placed_lock(&self.placed).insert(
            id.clone(),
            Placed {
                at,
                location,
                kind: Kind::Sibling,
            },
        );
        self.siblings.push(id.clone());
        let key = id.clone();
        let reported = wait_for(&self.shared, Duration::from_secs(30), |o| {
            o.reports.contains_key(&key).then_some(())
        })
        .await
        .is_some();
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut tried = false;
        while Instant::now() < deadline {
            if self.admin.count_requests("PATCH", &route).await >= 1 {
                tried = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Another till of the location accepts it.
        let sibling = self
            .admin
            .update_order_as_other_app(location, &id, serde_json::json!({"status": "accepted"}))
            .await
            .is_ok();
        // The change event cannot be read yet: this till's copy still says `new`.
        self.faults
            .reset(Some(api_fault(
                &route,
                Some("GET"),
                None,
                FaultKind::Status { status: 503 },
            )))
            .await;
        tokio::time::sleep(Duration::from_secs(8)).await;
        let during = self.hubrise_status(location, &id).await;
        self.faults.reset(None).await;
        tokio::time::sleep(self.options.poll_interval() * 5).await;
        let after = self.hubrise_status(location, &id).await;
        let end = now_us();
        self.windows.push(Window { start: at, end });
        let kept = during == "accepted" && after == "accepted";
        let label =
            format!("sibling's accept racing a failed automatic received ({id}, {location})");
        self.check(
            "a sibling's accept is never overwritten by this till's stale received",
            reported && tried && sibling && kept,
            format!(
                "{id}: reported {reported}, received tried and failed {tried}, accepted by the sibling {sibling}; HubRise {during} while the GET failed, {after} after"
            ),
        );
        self.episodes.push(EpisodeRow {
            at: self.rel(at),
            what: label,
            health: format!("HubRise: {during} during, {after} after"),
            recovered: "(checked at the end too)".into(),
            ok: kept,
        });
        Ok(())
    }
}
