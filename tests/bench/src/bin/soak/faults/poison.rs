//! Poison: an order HubRise refuses for good (a 422 on its own GET: only an answer about one
//! order may set it aside, design D20; a 5xx is an outage), and a held order whose
//! accept's PATCH fails for good (its change must end failed).

use std::time::{Duration, Instant};

use passerelle_bench::Result;
use passerelle_sandbox::FaultKind;
use passerelle_sandbox::seed::sample_order;

use crate::faults::api_fault;
use crate::options::now_us;
use crate::orders::{Kind, Placed, placed_lock};
use crate::process::wait_for;
use crate::{EpisodeRow, ORDER_PATH, Soak};

impl Soak {
    pub(crate) async fn run_poison(&mut self) -> Result<()> {
        let location = self.next_location();
        let name = format!("Poison {}", self.poison.len() + 1);
        let at = now_us();
        // No await point between placing and poisoning yields (see `Faults`): the child cannot
        // fetch the order in between.
        let id = self
            .admin
            .place_order(location, sample_order(&name))
            .await?;
        self.faults
            .add_persistent(api_fault(
                &format!("{ORDER_PATH}{id}"),
                Some("GET"),
                None,
                FaultKind::Status { status: 422 },
            ))
            .await;
        placed_lock(&self.placed).insert(
            id.clone(),
            Placed {
                at,
                location,
                kind: Kind::Poison,
            },
        );
        self.episodes.push(EpisodeRow {
            at: self.rel(at),
            what: format!("poison order {id} ({location}): persistent 422 on its GET"),
            health: "must be quarantined".into(),
            recovered: "(checked at the end)".into(),
            ok: true,
        });
        self.poison.push(id);
        Ok(())
    }

    pub(crate) async fn run_hold(&mut self) -> Result<()> {
        let location = self.next_location();
        let name = format!("Hold {}", self.held.len() + 1);
        let at = now_us();
        let id = self
            .admin
            .place_order(location, sample_order(&name))
            .await?;
        placed_lock(&self.placed).insert(
            id.clone(),
            Placed {
                at,
                location,
                kind: Kind::Held,
            },
        );
        self.held.push(id.clone());
        let key = id.clone();
        let reported = wait_for(&self.shared, Duration::from_secs(30), |o| {
            o.reports.contains_key(&key).then_some(())
        })
        .await;
        // Marked `received` at HubRise before its PATCHes start failing.
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut received = false;
        while Instant::now() < deadline {
            let status = self.admin.order(location, &id).await;
            if status.as_ref().and_then(|o| o["status"].as_str()) == Some("received") {
                received = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        self.faults
            .add_persistent(api_fault(
                &format!("{ORDER_PATH}{id}"),
                Some("PATCH"),
                None,
                FaultKind::Status { status: 503 },
            ))
            .await;
        self.unconfirmed_accepts.insert(id.clone());
        self.send(&format!("accept {id}")).await?;
        let key = id.clone();
        let confirmed = wait_for(&self.shared, Duration::from_secs(10), |o| {
            o.accepted.contains(&key).then_some(())
        })
        .await;
        if confirmed.is_some() {
            self.unconfirmed_accepts.remove(&id);
        }
        self.check(
            "a held order is received, then accepted at the till",
            reported.is_some() && received && confirmed.is_some(),
            format!(
                "{id}: reported {}, received at HubRise {received}, accept confirmed {}",
                reported.is_some(),
                confirmed.is_some()
            ),
        );
        self.episodes.push(EpisodeRow {
            at: self.rel(at),
            what: format!(
                "poison change: order {id} ({location}) accepted with a persistent 503 on its PATCH"
            ),
            health: "its accept must end as a failed change".into(),
            recovered: "(checked at the end)".into(),
            ok: reported.is_some() && received,
        });
        Ok(())
    }
}
