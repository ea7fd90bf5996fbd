//! Act 2: Paris connected on the iPad, through HubRise's consent page in the system browser,
//! then the restart that applies it.

use passerelle_core::{
    ConnectionState, HubriseAuthorization, HubriseConnection, HubriseConnectionOptions,
};
use passerelle_sandbox::SeedLocation;
use passerelle_sandbox::drivers::consent;
use passerelle_test_support::POLL_INTERVAL_SECS;

use super::Story;
use super::describe::{describe_names, name_and_id, shorten};
use super::steps::{DemoError, StepResult, Steps, Stopped, ensure};

/// Begin, HubRise's consent page, pending, restart to apply, active: the connection.
pub(super) async fn act(
    steps: &mut Steps,
    story: &Story,
    paris: &SeedLocation,
) -> Result<HubriseConnection, Stopped> {
    let authorization = steps.run("Begin connecting HubRise", story.begin()).await?;
    let callback = steps
        .run(
            "On HubRise's consent page: location, catalog, customer list, Allow",
            story.consent(&authorization, paris),
        )
        .await?;
    let paris_connection = steps
        .run("Connection pending", story.pending(&callback, paris))
        .await?;
    steps
        .run("Restart to apply", story.restart_to_apply())
        .await?;
    steps
        .run(
            "Connection active, with its names and ids",
            story.active(&paris_connection),
        )
        .await?;
    Ok(paris_connection)
}

impl Story {
    async fn begin(&self) -> StepResult<HubriseAuthorization> {
        let authorization = self
            .app
            .begin_hubrise_connection(HubriseConnectionOptions::default())?;
        ensure!(
            authorization
                .authorize_url
                .starts_with(&self.sandbox.hubrise_oauth_url()),
            "the consent page is not HubRise's: {}",
            authorization.authorize_url
        );
        self.ui.say(
            "The app opens HubRise's consent page in the system browser \
             (ASWebAuthenticationSession on the iPad):",
        );
        self.ui.detail(&shorten(&authorization.authorize_url, 110));
        self.ui.say(&format!(
            "It waits for the redirect to {}://… with a one-time state (and PKCE).",
            authorization
                .callback_url_scheme
                .as_deref()
                .unwrap_or("(out of band)")
        ));
        Ok((authorization, "consent page opened".into()))
    }

    async fn consent(
        &self,
        authorization: &HubriseAuthorization,
        location: &SeedLocation,
    ) -> StepResult<String> {
        let ui = self.ui;
        let (choice, catalog, list) = self.choice(location);
        ui.say("(The demo plays the restaurant on HubRise's pages.)");
        ui.say(&format!(
            "Signs in to HubRise as {}, chooses location {} ({}), catalog {catalog}, customer \
             list {list}, and clicks Allow.",
            choice.email, location.name, location.id
        ));
        let callback = ui
            .wait(
                "on HubRise's consent page",
                consent::approve(&authorization.authorize_url, &choice),
            )
            .await?;
        ensure!(
            consent::code_from_redirect(&callback).is_some(),
            "HubRise did not redirect with a code: {callback}"
        );
        let shown = callback
            .split('?')
            .next()
            .unwrap_or(callback.as_str())
            .to_owned();
        ui.say(&format!(
            "HubRise redirects to {shown}?code=<redacted>&state=…"
        ));
        Ok((callback, format!("Allow for {}", location.name)))
    }

    async fn pending(
        &self,
        callback: &str,
        location: &SeedLocation,
    ) -> StepResult<HubriseConnection> {
        let ui = self.ui;
        ui.say("The app hands the redirect to Passerelle: state checked, code exchanged through");
        ui.say("the POS backend (which holds the client secret), token put in the keychain.");
        let connection = self.app.complete_hubrise_connection(callback).await?;
        ensure!(
            connection.location_id == location.id,
            "connected {} instead of {}",
            connection.location_id,
            location.id
        );
        let summary = match connection.state {
            ConnectionState::Pending => {
                ensure!(
                    self.app.restart_required()?,
                    "a pending connection but no restart required"
                );
                ui.say(&format!(
                    "{}: connected, pending. The app shows \u{201c}Restart the app to apply the \
                     changes\u{201d}.",
                    location.name
                ));
                format!("{} pending, restart required", location.name)
            }
            ConnectionState::Active => {
                ui.say(&format!(
                    "{} was already connected on this iPad (restored): reconnecting renewed its \
                     token and it stays active.",
                    location.name
                ));
                format!("{} reconnected (was restored)", location.name)
            }
            other => {
                return Err(DemoError::new(format!(
                    "unexpected connection state {other:?}"
                )));
            }
        };
        Ok((connection, summary))
    }

    async fn restart_to_apply(&self) -> StepResult<()> {
        let before = self.app.configuration_version()?;
        self.ui
            .say("The restaurant restarts the app: Passerelle stops its sync, applies the pending");
        self.ui
            .say("configuration in one transaction, and starts again.");
        self.app.restart().await?;
        let after = self.app.configuration_version()?;
        ensure!(
            !self.app.restart_required()?,
            "still waiting for a restart after restart()"
        );
        let summary = if after > before {
            format!("configuration v{before} → v{after}")
        } else {
            format!("nothing pending; configuration stays v{after}")
        };
        Ok(((), summary))
    }

    async fn active(&self, connection: &HubriseConnection) -> StepResult<()> {
        let ui = self.ui;
        let Some(listed) = self.find(&connection.id)? else {
            return Err(DemoError::new("the connection is not in the list"));
        };
        ensure!(
            listed.state == ConnectionState::Active,
            "the connection is {:?}, not active",
            listed.state
        );
        let checked = self.app.check_connection(&connection.id).await?;
        ensure!(
            !checked.reconnect_needed,
            "HubRise refused the new token: {:?}",
            checked.last_failed_reason
        );
        ui.say("What the app shows (checked live with GET /location):");
        for line in describe_names(&checked) {
            ui.say(&line);
        }
        ui.detail(&format!(
            "connection {}  app instance {}  origin {:?}",
            checked.id,
            checked.app_instance_id.as_deref().unwrap_or("?"),
            checked.origin
        ));
        let syncing = self.app.syncing_connections()?;
        ensure!(
            syncing.contains(&connection.id),
            "the sync engine is not running for it"
        );
        ui.say(&format!(
            "Sync running: Passerelle polls HubRise every {POLL_INTERVAL_SECS} s (30 s in production)."
        ));
        Ok((
            (),
            format!(
                "{} active, sync running",
                name_and_id(&checked.location_name, &Some(checked.location_id.clone()))
            ),
        ))
    }
}
