//! Act 6, the seeds' own way (issue 10, decisions 1–3): Paris connected off the iPad in the POS
//! vendor's web back office, "restart the app on your iPad to apply the changes", confirmed by the
//! restaurant; then an order for it arrives.

use passerelle_core::{ConnectionOrigin, ConnectionState, HubriseConnection};
use passerelle_sandbox::SeedLocation;
use passerelle_sandbox::drivers::back_office;

use super::Story;
use super::describe::{describe_connection, describe_names, field, name_and_id};
use super::steps::{DemoError, StepResult, Steps, Stopped, ensure};

/// Paris connected again in the POS vendor's web back office, pending after the restart,
/// confirmed on the iPad; another order arrives for it.
pub(super) async fn act(
    steps: &mut Steps,
    story: &Story,
    paris: &SeedLocation,
) -> Result<(), Stopped> {
    steps
        .run(
            "Paris connected again, in the POS vendor's web back office",
            story.connect_on_the_web(paris),
        )
        .await?;
    let off_device = steps
        .run(
            "Restart the app on the iPad to apply the changes",
            story.off_device_pending(paris),
        )
        .await?;
    steps
        .run(
            "The restaurant confirms it on the iPad",
            story.confirm(&off_device),
        )
        .await?;
    let (second_order, mark) = steps
        .run(
            "Another order for Paris, from another app",
            story.place_order(paris),
        )
        .await?;
    steps
        .run(
            "It arrives at the till",
            story.order_arrives(&second_order, paris, mark),
        )
        .await
}

impl Story {
    /// Issue 10: off the iPad, in the POS vendor's web back office, with the POS credentials.
    async fn connect_on_the_web(&self, location: &SeedLocation) -> StepResult<()> {
        let ui = self.ui;
        let seed = self.sandbox.seed();
        let pos = seed.pos_account();
        ensure!(
            self.live_at(&location.id)?.is_none(),
            "{} is still in the app's list",
            location.name
        );
        ui.say(&format!(
            "Bella Pizza wants {} back. This time the manager connects it off the iPad, as in \
             the seeds",
            location.name
        ));
        ui.say("(Delivera for Popina): in the POS vendor's web back office, on a computer.");
        ui.detail(&format!("{}/backoffice", self.pos_url));
        ui.say(&format!(
            "Signs in with the POS account's credentials, the same as the app's: {} / {}",
            pos.email,
            "•".repeat(pos.password.chars().count())
        ));
        let (choice, catalog, list) = self.choice(location);
        ui.say(&format!(
            "Clicks Connect; on HubRise's consent page signs in as {}, chooses {} ({}), catalog \
             {catalog}, customer list {list}, Allow.",
            choice.email, location.name, location.id
        ));
        let pos_url = self.pos_url.clone();
        ui.wait(
            "in the web back office and on HubRise's consent page",
            back_office::connect_on_the_web(&pos_url, &pos.email, &pos.password, &choice),
        )
        .await?;
        // What the back office lists: the configuration the POS backend keeps for the account.
        let recorded: Vec<_> = self
            .bridge
            .app()
            .store
            .connections(&pos.account_id)
            .await
            .map_err(|e| DemoError::new(format!("the bridge's store: {e}")))?
            .iter()
            .map(|c| c.to_json())
            .collect();
        let entry = recorded
            .iter()
            .find(|c| {
                c["location_id"] == location.id.as_str()
                    && c["origin"] == "web"
                    && c["state"] == "active"
            })
            .ok_or_else(|| {
                DemoError::new(format!(
                    "the POS backend has no web connection for {}",
                    location.name
                ))
            })?;
        ui.say("Back on the back office, the POS backend has recorded the connection:");
        ui.say(&format!(
            "  {} of {}, catalog {}, customer list {}",
            name_and_id(&field(entry, "location_name"), &field(entry, "location_id")),
            name_and_id(&field(entry, "account_name"), &field(entry, "account_id")),
            name_and_id(&field(entry, "catalog_name"), &field(entry, "catalog_id")),
            name_and_id(
                &field(entry, "customer_list_name"),
                &field(entry, "customer_list_id")
            ),
        ));
        ui.say("(The backend exchanged HubRise's code itself: the client secret never leaves it.)");
        ensure!(
            self.live_at(&location.id)?.is_none(),
            "the app lists {} before any restart",
            location.name
        );
        ui.say("The iPad knows nothing of it yet: the app's list is unchanged.");
        Ok((
            (),
            format!(
                "{} recorded by the POS backend; not on the iPad yet",
                location.name
            ),
        ))
    }

    /// "Restart the app on your iPad to apply the changes": the reload brings the connection
    /// made off the iPad, pending until the host confirms it (decisions 1 and 3).
    async fn off_device_pending(&self, location: &SeedLocation) -> StepResult<HubriseConnection> {
        let ui = self.ui;
        ui.say(
            "The restaurant restarts the app. Passerelle reloads the POS backend's configuration",
        );
        ui.say("and finds a connection this iPad did not make.");
        self.app.restart().await?;
        let backend = self.app.backend_status()?;
        ensure!(
            backend.reachable,
            "the POS backend's configuration was not reloaded: {}",
            backend.last_error.as_deref().unwrap_or("no reason")
        );
        let connection = self.live_at(&location.id)?.ok_or_else(|| {
            DemoError::new(format!(
                "{} is not in the app's list after the restart",
                location.name
            ))
        })?;
        ensure!(
            connection.state == ConnectionState::Pending && connection.needs_confirmation,
            "{} is {:?} (needs confirmation: {}), not pending a confirmation",
            location.name,
            connection.state,
            connection.needs_confirmation
        );
        ensure!(
            connection.origin == ConnectionOrigin::PosBackOffice,
            "its origin is {:?}, not the POS back office",
            connection.origin
        );
        ensure!(
            connection.account_name.is_some()
                && connection.location_name.is_some()
                && connection.catalog_name.is_some()
                && connection.customer_list_name.is_some(),
            "its names are missing: {}",
            describe_connection(&connection)
        );
        ensure!(
            !self.keychain.has_key_containing(&connection.id),
            "its token reached the keychain before the confirmation"
        );
        ensure!(
            !self.app.syncing_connections()?.contains(&connection.id),
            "it syncs before the confirmation"
        );
        ensure!(
            !self.app.restart_required()?,
            "another restart is asked for: it waits for the host, not for a restart"
        );
        ui.say("The app shows it pending, with its names, and asks the restaurant to confirm:");
        ui.say("  Made in        the POS vendor's web back office");
        for line in describe_names(&connection) {
            ui.say(&line);
        }
        ui.say("No token on the iPad and no sync until then: a connection someone else made never");
        ui.say("routes orders to this till silently.");
        Ok((
            connection,
            format!(
                "{} pending, needs confirmation (POS back office)",
                location.name
            ),
        ))
    }

    async fn confirm(&self, connection: &HubriseConnection) -> StepResult<()> {
        let ui = self.ui;
        let name = connection
            .location_name
            .clone()
            .unwrap_or_else(|| connection.location_id.clone());
        ui.say(&format!(
            "The restaurant checks the names and taps Confirm for {name}."
        ));
        let confirmed = self.app.confirm_connection(&connection.id).await?;
        ensure!(
            confirmed.state == ConnectionState::Active && !confirmed.needs_confirmation,
            "{name} is {:?} (needs confirmation: {}) after the confirmation",
            confirmed.state,
            confirmed.needs_confirmation
        );
        ensure!(
            self.keychain.has_key_containing(&connection.id),
            "no token in the keychain after the confirmation"
        );
        ui.say(
            "Passerelle fetched its token from the POS backend, as the signed-in device of this",
        );
        ui.say("POS account, and put it in the keychain.");
        let checked = self.app.check_connection(&connection.id).await?;
        ensure!(
            !checked.reconnect_needed,
            "HubRise refused its token: {:?}",
            checked.last_failed_reason
        );
        ensure!(
            self.app.syncing_connections()?.contains(&connection.id),
            "the sync engine is not running for it"
        );
        ensure!(
            !self.app.restart_required()?,
            "a restart is still required after the confirmation"
        );
        ui.say(
            "Active at once, without another restart; HubRise accepts its token (GET /location)",
        );
        ui.say("and the sync runs.");
        for c in &self.app.connections()? {
            ui.say(&format!("  • {}", describe_connection(c)));
        }
        Ok(((), format!("{name} active, sync running")))
    }
}
