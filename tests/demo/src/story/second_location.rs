//! Act 4: a second location, Lyon, connected the same way.

use passerelle_core::{ConnectionState, HubriseConnectionOptions};
use passerelle_sandbox::SeedLocation;
use passerelle_sandbox::drivers::consent;

use super::Story;
use super::describe::describe_connection;
use super::steps::{DemoError, StepResult, Steps, Stopped, ensure};

/// Lyon connected too.
pub(super) async fn act(
    steps: &mut Steps,
    story: &Story,
    lyon: &SeedLocation,
) -> Result<(), Stopped> {
    steps
        .run("A second location: Lyon", story.second_location(lyon))
        .await
}

impl Story {
    async fn second_location(&self, location: &SeedLocation) -> StepResult<()> {
        let ui = self.ui;
        ui.say(&format!(
            "Bella Pizza opens the app's HubRise settings again to add {}.",
            location.name
        ));
        let authorization = self
            .app
            .begin_hubrise_connection(HubriseConnectionOptions::default())?;
        let (choice, catalog, list) = self.choice(location);
        ui.say(&format!(
            "On HubRise: location {} ({}), catalog {catalog}, customer list {list}, Allow.",
            location.name, location.id
        ));
        let callback = ui
            .wait(
                "on HubRise's consent page",
                consent::approve(&authorization.authorize_url, &choice),
            )
            .await?;
        let connection = self.app.complete_hubrise_connection(&callback).await?;
        match connection.state {
            ConnectionState::Pending => {
                ui.say(&format!(
                    "{}: pending; the restaurant restarts the app to apply.",
                    location.name
                ));
                self.app.restart().await?;
            }
            ConnectionState::Active => ui.say(&format!(
                "{} was already in the list (restored from the previous run): reconnecting renewed \
                 its token, no restart needed.",
                location.name
            )),
            other => {
                return Err(DemoError::new(format!(
                    "unexpected connection state {other:?}"
                )));
            }
        }
        let connections = self.app.connections()?;
        for c in &connections {
            ui.say(&format!("  • {}", describe_connection(c)));
        }
        let listed = connections
            .iter()
            .find(|c| c.id == connection.id)
            .ok_or_else(|| DemoError::new("the new connection is not listed"))?;
        ensure!(
            listed.state == ConnectionState::Active && !listed.reconnect_needed,
            "{} is {:?} (reconnect needed: {})",
            location.name,
            listed.state,
            listed.reconnect_needed
        );
        let active = connections
            .iter()
            .filter(|c| c.state == ConnectionState::Active)
            .count();
        Ok((
            (),
            format!(
                "{} ({}) active; {active} locations connected",
                location.name, location.id
            ),
        ))
    }
}
