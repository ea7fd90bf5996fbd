//! Act 5: Paris disconnected in HubRise's back office: “reconnect needed” in the app, which
//! the restaurant answers by disconnecting it; the restart removes it, its orders stay.

use passerelle_core::{ConnectionState, HubriseConnection, OrderFilter, PasserelleEvent};
use passerelle_sandbox::SeedLocation;

use super::describe::describe_connection;
use super::steps::{DemoError, StepResult, Steps, Stopped, ensure, poll};
use super::{Story, WAIT_LIMIT};

/// Paris disconnected in HubRise's back office, flagged, disconnected from the app, removed at
/// the restart; Lyon and the accepted order stay.
pub(super) async fn act(
    steps: &mut Steps,
    story: &Story,
    paris: &SeedLocation,
    paris_connection: &HubriseConnection,
    lyon: &SeedLocation,
    order_id: &str,
) -> Result<(), Stopped> {
    let mark = steps
        .run(
            "Paris disconnected in HubRise's back office",
            story.back_office_disconnect(paris),
        )
        .await?;
    steps
        .run(
            "\u{201c}Reconnect needed\u{201d} shown for Paris",
            story.reconnect_needed(paris_connection, lyon, mark),
        )
        .await?;
    steps
        .run(
            "Disconnect Paris from the app",
            story.disconnect(paris_connection),
        )
        .await?;
    steps
        .run(
            "Restart",
            story.final_restart(paris_connection, lyon, order_id),
        )
        .await
}

impl Story {
    async fn back_office_disconnect(&self, location: &SeedLocation) -> StepResult<usize> {
        let mark = self.events.mark();
        self.ui.say(&format!(
            "In HubRise's back office, the manager clicks Disconnect on Passerelle for {}.",
            location.name
        ));
        let ended = self
            .sandbox
            .admin()
            .disconnect_connection(&location.id)
            .await?;
        ensure!(ended >= 1, "HubRise had no live connection to end");
        self.ui.say(
            "HubRise blocks the token at once and notifies the POS backend (Disconnect callback).",
        );
        Ok((mark, format!("{ended} connection ended at HubRise")))
    }

    async fn reconnect_needed(
        &self,
        connection: &HubriseConnection,
        other: &SeedLocation,
        mark: usize,
    ) -> StepResult<()> {
        let ui = self.ui;
        let event = ui
            .wait(
                "waiting for the next sync to meet HubRise's refusal",
                self.events.wait_for_after(
                    mark,
                    |e| matches!(e, PasserelleEvent::ReconnectNeeded { connection_id, .. } if *connection_id == connection.id),
                    WAIT_LIMIT,
                ),
            )
            .await;
        let how = if event.is_ok() {
            "the sync's ReconnectNeeded event"
        } else {
            ui.say("No event yet: asking HubRise directly (check_connection).");
            let checked = self.app.check_connection(&connection.id).await?;
            ensure!(
                checked.reconnect_needed,
                "HubRise still accepts the token after the back-office disconnect"
            );
            "check_connection"
        };
        let listed = self
            .find(&connection.id)?
            .ok_or_else(|| DemoError::new("the connection left the list"))?;
        ensure!(
            listed.reconnect_needed,
            "the connection is not flagged \u{201c}reconnect needed\u{201d}"
        );
        ui.say(&format!(
            "The app shows: \u{201c}HubRise refused the connection for {}: {} — Reconnect \
             HubRise\u{201d}.",
            listed
                .location_name
                .as_deref()
                .unwrap_or(&listed.location_id),
            listed.last_failed_reason.as_deref().unwrap_or("no reason")
        ));
        // The sync's worker ends just after it delivers the event: it is given the time to.
        let stopped = poll(WAIT_LIMIT, || async {
            let syncing = self.app.syncing_connections()?;
            Ok((!syncing.contains(&connection.id)).then_some(syncing))
        })
        .await?;
        let Some(syncing) = stopped else {
            return Err(DemoError::new(
                "the sync still runs for the refused connection",
            ));
        };
        if let Some(other) = self.live_at(&other.id)? {
            ensure!(
                syncing.contains(&other.id),
                "the other location stopped syncing too"
            );
            ui.say(&format!(
                "Its sync stopped; nothing local was deleted. {} keeps syncing.",
                other.location_name.as_deref().unwrap_or(&other.location_id)
            ));
        }
        Ok(((), format!("reconnect needed (from {how})")))
    }

    async fn disconnect(&self, connection: &HubriseConnection) -> StepResult<()> {
        let ui = self.ui;
        ui.say("The restaurant chooses Disconnect in the app rather than reconnecting.");
        let outcome = self.app.disconnect(&connection.id).await?;
        ensure!(
            outcome.connection.state == ConnectionState::Removing,
            "the connection is {:?}, not removing",
            outcome.connection.state
        );
        ensure!(
            self.app.restart_required()?,
            "no restart required after a disconnect"
        );
        if outcome.revoked {
            ui.say("Revoked at HubRise; the token was deleted from the keychain.");
        } else {
            ui.say(&format!(
                "HubRise had already ended it ({}); the token was deleted from the keychain.",
                outcome
                    .revoke_failure
                    .as_deref()
                    .unwrap_or("nothing to revoke")
            ));
        }
        ui.say("The app shows it as removed, restart to apply.");
        Ok(((), "removing, restart required".into()))
    }

    async fn final_restart(
        &self,
        removed: &HubriseConnection,
        remaining: &SeedLocation,
        order_id: &str,
    ) -> StepResult<()> {
        let ui = self.ui;
        self.app.restart().await?;
        let connections = self.app.connections()?;
        ensure!(
            !connections.iter().any(|c| c.id == removed.id),
            "the disconnected connection is still listed"
        );
        let kept = connections
            .iter()
            .find(|c| c.location_id == remaining.id)
            .ok_or_else(|| DemoError::new(format!("{} left the list", remaining.name)))?;
        ensure!(
            kept.state == ConnectionState::Active,
            "{} is {:?}",
            remaining.name,
            kept.state
        );
        for c in &connections {
            ui.say(&format!("  • {}", describe_connection(c)));
        }
        ensure!(
            self.app.order(order_id)?.is_some(),
            "the accepted order was lost with its connection"
        );
        let orders = self.app.orders(OrderFilter {
            limit: 1_000,
            ..OrderFilter::default()
        })?;
        ui.say(&format!(
            "Paris left the list; its orders stay in the history ({} order(s) on this iPad).",
            orders.len()
        ));
        Ok((
            (),
            format!(
                "{} active; Paris removed; {} order(s) kept",
                remaining.name,
                orders.len()
            ),
        ))
    }
}
