//! Act 1: the sandbox (HubRise) and passerelle-bridge (the POS backend's HubRise half, its
//! embedded default) start, the app opens on the iPad (restoring what a previous run left), and
//! the restaurant signs in with its POS account.

use std::path::Path;
use std::sync::Arc;

use passerelle_bridge::config::DatabaseUrl;
use passerelle_bridge::crypto::{Key, Keyring};
use passerelle_core::{ConnectionState, DATABASE_FILE, OrderFilter, Passerelle};
use passerelle_sandbox::SandboxOptions;
use passerelle_test_support::bridge::{Bridged, checked_at_the_sandbox, start_behind_the_sandbox};
use passerelle_test_support::{EventRecorder, config_for};

use super::Story;
use super::describe::{describe_connection, describe_order_line};
use super::steps::{DemoError, StepResult, Steps, Stopped, ensure};
use crate::keychain::{self, FileKeychain};
use crate::ui::Ui;

/// Starts the sandbox and the bridge, opens Passerelle (showing what a previous run left), signs
/// in.
pub(super) async fn act(steps: &mut Steps, dir: &Path) -> Result<Story, Stopped> {
    let ui = steps.ui;
    let (servers, bridge_dir, bridge_keys) = steps
        .run(
            "Start the sandbox: HubRise and the POS backend, on this machine",
            start_servers(ui),
        )
        .await?;
    let previous = dir.join(DATABASE_FILE).exists();
    let (app, events, keychain) = steps
        .run(
            "Open Passerelle (the app starts on the iPad)",
            open_app(ui, &servers, dir, previous),
        )
        .await?;
    let Bridged {
        sandbox,
        bridge,
        pos_url,
    } = servers;
    let story = Story {
        ui,
        sandbox,
        bridge,
        pos_url,
        bridge_dir,
        bridge_keys,
        app,
        events,
        keychain,
    };
    if previous {
        steps
            .run("State restored from the previous run", story.restored())
            .await?;
    }
    steps
        .run("Sign in with the POS account", story.sign_in())
        .await?;
    Ok(story)
}

/// The sandbox plays HubRise and the POS vendor's gateway and identity provider (sign-in, token
/// introspection); passerelle-bridge behind it, on its embedded SQLite in a folder of its own
/// (fresh each run, as the sandbox is), is the POS backend's HubRise half.
async fn start_servers(ui: Ui) -> StepResult<(Bridged, tempfile::TempDir, Keyring)> {
    let bridge_dir = tempfile::Builder::new()
        .prefix("passerelle-bridge-")
        .tempdir()
        .map_err(|e| DemoError::new(format!("cannot create the bridge's folder: {e}")))?;
    let database = DatabaseUrl::Sqlite(bridge_dir.path().join("bridge.sqlite3"));
    let keys = Keyring::new(Key::generate(), vec![]);
    let options = SandboxOptions {
        pos_proxy_keeps_identity: true,
        ..SandboxOptions::default()
    };
    let servers = start_behind_the_sandbox(options, database, keys.clone(), checked_at_the_sandbox)
        .await
        .map_err(|e| DemoError::new(format!("sandbox and bridge: {e}")))?;
    let sandbox = &servers.sandbox;
    ui.say("HubRise on 127.0.0.1, with its real rate limits, and the POS backend:");
    ui.detail(&format!("HubRise OAuth  {}", sandbox.hubrise_oauth_url()));
    ui.detail(&format!("HubRise API    {}", sandbox.hubrise_api_url()));
    ui.detail(&format!(
        "POS backend    {} (the vendor's gateway and identity provider, played by the \
         sandbox; passerelle-bridge behind it at {}, SQLite in {})",
        servers.pos_url,
        servers.bridge.addr,
        bridge_dir.path().display()
    ));
    let account = sandbox.seed().account();
    ui.say(&format!(
        "Seeded: HubRise account {} ({}) with {} locations; POS account {}.",
        account.name,
        account.id,
        account.locations.len(),
        sandbox.seed().pos_account().email
    ));
    Ok((
        (servers, bridge_dir, keys),
        "fake HubRise and passerelle-bridge listening".into(),
    ))
}

async fn open_app(
    ui: Ui,
    sandbox: &Bridged,
    dir: &Path,
    previous: bool,
) -> StepResult<(Passerelle, Arc<EventRecorder>, Arc<FileKeychain>)> {
    ui.detail(&format!("data directory {}", dir.display()));
    std::fs::create_dir_all(dir)
        .map_err(|e| DemoError::new(format!("cannot create {}: {e}", dir.display())))?;
    let keychain = Arc::new(keychain::open(dir).map_err(DemoError::new)?);
    let kept = keychain.len();
    let events = Arc::new(EventRecorder::new());
    let app = Passerelle::open(config_for(sandbox, dir), keychain.clone(), events.clone()).await?;
    ui.say(&format!(
        "Device id sent to HubRise: {} (per install, kept).",
        app.device_id()?
    ));
    let summary = if previous {
        ui.say(&format!(
            "Found the database of a previous run ({DATABASE_FILE}) and {kept} item(s) in the \
             demo keychain ({}).",
            keychain::FILE
        ));
        "existing database opened".to_owned()
    } else {
        ui.say(&format!(
            "No database yet: created {DATABASE_FILE}; secrets go to the demo keychain ({}), \
             never to SQLite.",
            keychain::FILE
        ));
        "new database created".to_owned()
    };
    Ok(((app, events, keychain), summary))
}

impl Story {
    async fn restored(&self) -> StepResult<()> {
        let ui = self.ui;
        let account = self.app.account()?;
        match &account {
            Some(a) => ui.say(&format!(
                "Account: {} ({}), {}, still signed in on this iPad.",
                a.business_name, a.account_id, a.email
            )),
            None => ui.say("Account: nobody signed in."),
        }
        let connections = self.app.connections()?;
        ui.say(&format!("Connections: {}", connections.len()));
        for c in &connections {
            ui.say(&format!("  • {}", describe_connection(c)));
        }
        let orders = self.app.orders(OrderFilter {
            limit: 1_000,
            ..OrderFilter::default()
        })?;
        ui.say(&format!("Orders kept: {}", orders.len()));
        for order in orders.iter().take(3) {
            ui.say(&format!("  • {}", describe_order_line(order)));
        }
        let backend = self.app.backend_status()?;
        if backend.reachable {
            ui.say("POS backend: its configuration was reloaded at open.");
        } else {
            ui.say(&format!(
                "POS backend: configuration not reloaded at open ({}); the app runs on its last \
                 configuration until the restaurant signs in again.",
                backend.last_error.as_deref().unwrap_or("no reason")
            ));
        }
        // HubRise's state lived in the previous sandbox: ask it what it thinks of our tokens.
        for c in connections
            .iter()
            .filter(|c| c.state == ConnectionState::Active)
        {
            let name = c.location_name.as_deref().unwrap_or(&c.location_id);
            match self.app.check_connection(&c.id).await {
                Ok(checked) if checked.reconnect_needed => ui.say(&format!(
                    "Checked {name} with HubRise: token refused ({}). This sandbox started afresh, \
                     so the restaurant will reconnect it.",
                    checked.last_failed_reason.as_deref().unwrap_or("no reason")
                )),
                Ok(_) => ui.say(&format!("Checked {name} with HubRise: still connected.")),
                Err(err) => ui.say(&format!("Checked {name} with HubRise: {err}")),
            }
        }
        let summary = format!(
            "{}, {} connection(s), {} order(s) restored",
            account.map_or("no account".to_owned(), |a| a.business_name),
            connections.len(),
            orders.len()
        );
        Ok(((), summary))
    }

    async fn sign_in(&self) -> StepResult<()> {
        let pos = self.sandbox.seed().pos_account();
        self.ui.say(&format!(
            "The restaurant types the credentials of its POS account: {} / {}",
            pos.email,
            "•".repeat(pos.password.chars().count())
        ));
        if self.app.account()?.is_some() {
            self.ui.say(
                "(Signing in again: the POS backend of this sandbox is new and knows no session.)",
            );
        }
        let account = self.app.sign_in(&pos.email, &pos.password).await?;
        ensure!(
            account.account_id == pos.account_id,
            "signed in as {}, expected {}",
            account.account_id,
            pos.account_id
        );
        self.ui.say(&format!(
            "Signed in: {} ({}); the password was not stored.",
            account.business_name, account.account_id
        ));
        Ok(((), format!("{} ({})", account.business_name, account.email)))
    }
}
