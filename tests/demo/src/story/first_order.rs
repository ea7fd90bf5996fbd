//! Act 3: an order placed from another app arrives at the till, and the restaurant accepts it.
//! (The last act places and receives another the same way.)

use std::time::{Duration, Instant, SystemTime};

use passerelle_core::{OrderStatus, PasserelleEvent};
use passerelle_sandbox::SeedLocation;
use passerelle_test_support::order_received;
use passerelle_test_support::seeded::hubrise_status;

use super::describe::describe_order;
use super::steps::{DemoError, StepResult, Steps, Stopped, ensure, poll};
use super::{Story, WAIT_LIMIT};

/// An order placed from another app arrives at the till and is accepted: its id.
pub(super) async fn act(
    steps: &mut Steps,
    story: &Story,
    paris: &SeedLocation,
) -> Result<String, Stopped> {
    let (order_id, mark) = steps
        .run(
            "An order placed from another app (Uber Eats)",
            story.place_order(paris),
        )
        .await?;
    steps
        .run(
            "The order arrives at the till",
            story.order_arrives(&order_id, paris, mark),
        )
        .await?;
    steps
        .run("Accept it", story.accept(&order_id, paris))
        .await?;
    Ok(order_id)
}

impl Story {
    pub(super) async fn place_order(&self, location: &SeedLocation) -> StepResult<(String, usize)> {
        let mark = self.events.mark();
        let order_id = self
            .sandbox
            .admin()
            .place_order(
                &location.id,
                passerelle_sandbox::seed::sample_order("Camille"),
            )
            .await?;
        let placed = self.sandbox.admin().order(&location.id, &order_id).await;
        let total = placed
            .as_ref()
            .and_then(|o| o["total"].as_str())
            .unwrap_or("?")
            .to_owned();
        let by = placed
            .as_ref()
            .and_then(|o| o["created_by"].as_str())
            .unwrap_or("another app")
            .to_owned();
        self.ui.say(&format!(
            "A customer orders on {by} for {}: 2 × Margherita, 1 × Tiramisu, delivery, {total}.",
            location.name
        ));
        self.ui
            .say("HubRise queues an event for every app connected to the location.");
        self.ui.detail(&format!("HubRise order {order_id}"));
        Ok((
            (order_id.clone(), mark),
            format!("order {order_id}, {total}"),
        ))
    }

    pub(super) async fn order_arrives(
        &self,
        order_id: &str,
        location: &SeedLocation,
        mark: usize,
    ) -> StepResult<()> {
        let ui = self.ui;
        let started = Instant::now();
        let event = ui
            .wait(
                "waiting for the order (Passerelle polls HubRise's events)",
                self.events
                    .wait_for_after(mark, order_received(order_id), WAIT_LIMIT),
            )
            .await;
        let Ok(PasserelleEvent::OrderReceived { order }) = event else {
            return Err(DemoError::new(format!(
                "no OrderReceived event within {} s",
                WAIT_LIMIT.as_secs()
            )));
        };
        let arrived_in = started.elapsed();
        ui.say(&format!(
            "Ding! New order after {:.1} s — the till shows:",
            arrived_in.as_secs_f64()
        ));
        for line in describe_order(&order) {
            ui.say(&format!("  {line}"));
        }
        let admin = self.sandbox.admin();
        let received = ui
            .wait(
                "Passerelle tells HubRise the order was received",
                poll(WAIT_LIMIT, || async {
                    let status = hubrise_status(&admin, &location.id, order_id)
                        .await
                        .unwrap_or_default();
                    Ok((status == "received").then_some(status))
                }),
            )
            .await?;
        ensure!(
            received.is_some(),
            "HubRise still shows {:?}, not received",
            hubrise_status(&admin, &location.id, order_id)
                .await
                .unwrap_or_default()
        );
        let stored = self.app.order(order_id)?;
        ensure!(stored.is_some(), "the order is not in the local inbox");
        ui.say("HubRise now shows the order as received; it is stored once, with its event id.");
        Ok((
            (),
            format!(
                "arrived in {:.1} s; HubRise: received",
                arrived_in.as_secs_f64()
            ),
        ))
    }

    async fn accept(&self, order_id: &str, location: &SeedLocation) -> StepResult<()> {
        let ui = self.ui;
        let ready_at = SystemTime::now() + Duration::from_secs(25 * 60);
        ui.say("The restaurant taps Accept: ready in 25 minutes.");
        self.app.accept(order_id, Some(ready_at)).await?;
        let local = self
            .app
            .order(order_id)?
            .ok_or_else(|| DemoError::new("the order vanished from the inbox"))?;
        ensure!(
            local.pending_status == Some(OrderStatus::Accepted)
                || local.status == OrderStatus::Accepted,
            "the till does not show it accepted: {:?}/{:?}",
            local.status,
            local.pending_status
        );
        ui.say("Written to the outbox first (durable), then pushed to HubRise.");
        let admin = self.sandbox.admin();
        let app = &self.app;
        let confirmed = ui
            .wait(
                "pushing the status to HubRise",
                poll(WAIT_LIMIT, || async {
                    let at_hubrise = admin.order(&location.id, order_id).await;
                    let status = at_hubrise
                        .as_ref()
                        .and_then(|o| o["status"].as_str())
                        .unwrap_or_default();
                    let pushed = app
                        .order(order_id)?
                        .is_some_and(|o| o.pending_status.is_none());
                    Ok((status == "accepted" && pushed).then(|| {
                        at_hubrise
                            .as_ref()
                            .and_then(|o| o["confirmed_time"].as_str())
                            .unwrap_or("?")
                            .to_owned()
                    }))
                }),
            )
            .await?;
        let Some(confirmed_time) = confirmed else {
            return Err(DemoError::new(format!(
                "HubRise shows {:?} after {} s, not accepted",
                hubrise_status(&admin, &location.id, order_id)
                    .await
                    .unwrap_or_default(),
                WAIT_LIMIT.as_secs()
            )));
        };
        ui.say(&format!(
            "HubRise now shows the order accepted, confirmed for {confirmed_time}."
        ));
        Ok(((), "HubRise shows accepted".into()))
    }
}
