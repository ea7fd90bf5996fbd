//! The story of the seeds, told through Passerelle's public API (the one Swift sees), with the
//! sandbox playing HubRise and the POS vendor's gateway and identity provider (sign-in, token
//! introspection, the back office's password grant), passerelle-bridge behind it the POS
//! vendor's backend (its HubRise half), and this program playing the restaurant.
//!
//! Every step either holds (and says what it saw) or stops the walkthrough with its reason.
//! The story works on a fresh data directory and on one left by an earlier run: the sandbox
//! keeps its state in memory, so on a second run HubRise and the POS backend start afresh while
//! the iPad's database (and its demo keychain) are restored.
//!
//! Connections are made both ways the seeds make them: on the iPad (HubRise's consent page in
//! the system browser), and off the iPad (the POS vendor's web back office, then "restart the app
//! on your iPad to apply the changes" and the host's confirmation; issue 10, decisions 1–3).
//!
//! One module an act: `opening` (sandbox, app, sign-in), `connect_on_the_ipad`, `first_order`,
//! `second_location`, `disconnect`, `connect_off_the_ipad`, `told_at_once` (the bridge takes
//! HubRise's events and pushes them to the till, issue 24); `steps` runs a step and `describe`
//! shows what the app would.

mod connect_off_the_ipad;
mod connect_on_the_ipad;
mod describe;
mod disconnect;
mod first_order;
mod opening;
mod second_location;
mod steps;
mod told_at_once;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use passerelle_core::{HubriseConnection, Passerelle};
use passerelle_sandbox::drivers::consent::ConsentChoice;
use passerelle_sandbox::{Sandbox, SeedLocation};
use passerelle_test_support::EventRecorder;

use crate::keychain::FileKeychain;
use crate::ui::Ui;
use steps::{DemoError, Steps, Stopped};

/// How long a waiting step waits before it fails.
const WAIT_LIMIT: Duration = Duration::from_secs(30);

/// Runs the whole walkthrough; the exit code says whether every step held.
pub async fn run(data_dir: Option<PathBuf>) -> ExitCode {
    let ui = Ui::new();
    let temporary = match data_dir {
        Some(_) => None,
        None => match tempfile::Builder::new()
            .prefix("passerelle-demo-")
            .tempdir()
        {
            Ok(dir) => Some(dir),
            Err(err) => {
                eprintln!("passerelle-demo: cannot create a temporary data directory: {err}");
                return ExitCode::FAILURE;
            }
        },
    };
    let dir = match (&data_dir, &temporary) {
        (Some(dir), _) => dir.clone(),
        (None, Some(temp)) => temp.path().to_path_buf(),
        (None, None) => return ExitCode::FAILURE,
    };
    ui.banner(&[
        "Passerelle: HubRise orders on an iPad till, end to end",
        "The sandbox plays HubRise, passerelle-bridge the POS backend; this demo plays the restaurant.",
    ]);
    let mut steps = Steps::new(ui);
    let outcome = story(&mut steps, &dir).await;
    ui.summary(&steps.records);
    println!();
    match outcome {
        Ok(()) => {
            println!(
                "{}",
                ui.bold(&format!(
                    "All {} steps held. Bon service !",
                    steps.records.len()
                ))
            );
            match data_dir {
                Some(dir) => println!(
                    "The iPad's state is kept in {}: run the same command again to see it restored \
                     after a real restart.",
                    dir.display()
                ),
                None => println!(
                    "The data directory was temporary. Keep it between runs with \
                     `cargo run --release -p passerelle-demo -- --data-dir DIR`."
                ),
            }
            ExitCode::SUCCESS
        }
        Err(stopped) => {
            println!(
                "The walkthrough stopped at step {} \u{201c}{}\u{201d}: {}",
                stopped.number, stopped.title, stopped.reason
            );
            eprintln!(
                "passerelle-demo: step {} \u{201c}{}\u{201d} failed: {}",
                stopped.number, stopped.title, stopped.reason
            );
            ExitCode::FAILURE
        }
    }
}

/// The acts, in the order of the seeds' story.
async fn story(steps: &mut Steps, dir: &Path) -> Result<(), Stopped> {
    let story = opening::act(steps, dir).await?;
    let paris = story.location(0)?;
    let lyon = story.location(1)?;

    let paris_connection = connect_on_the_ipad::act(steps, &story, &paris).await?;
    let order_id = first_order::act(steps, &story, &paris).await?;
    second_location::act(steps, &story, &lyon).await?;
    // Both of Bella Pizza's locations are connected on this iPad now, and a back-office connect
    // of a location the iPad already lists changes nothing but its names: the off-device
    // connect comes once Paris has left the list (after the restart below).
    disconnect::act(steps, &story, &paris, &paris_connection, &lyon, &order_id).await?;
    // The seeds' own way (issue 10): connected off the iPad, applied by a restart, confirmed.
    connect_off_the_ipad::act(steps, &story, &paris).await?;
    // Issue 24: the bridge takes HubRise's events and tells the till at once.
    let story = told_at_once::act(steps, story, &paris).await?;

    // A clean shutdown: the engine stops between transactions, then the sandbox.
    let _ = story.app.stop_sync().await;
    drop(story.app);
    let _ = story.bridge.stop().await;
    story.sandbox.stop().await;
    Ok(())
}

/// What every act works on: the sandbox (HubRise), the bridge (the POS backend), the app on the
/// iPad and what its host holds.
struct Story {
    ui: Ui,
    sandbox: Sandbox,
    bridge: passerelle_bridge::Running,
    /// The bridge's base URL.
    pos_url: String,
    /// The bridge's SQLite, removed at the end.
    bridge_dir: tempfile::TempDir,
    /// The bridge's keys (its database is sealed with them), for its restart.
    bridge_keys: passerelle_bridge::crypto::Keyring,
    app: Passerelle,
    events: Arc<EventRecorder>,
    /// The host's secret store, to show when a token reaches it.
    keychain: Arc<FileKeychain>,
}

impl Story {
    fn location(&self, index: usize) -> Result<SeedLocation, Stopped> {
        self.sandbox
            .seed()
            .account()
            .locations
            .get(index)
            .cloned()
            .ok_or_else(|| Stopped {
                number: 0,
                title: "seed".into(),
                reason: format!("the sandbox's seed has no location #{}", index + 1),
            })
    }

    /// What HubRise's consent page lets the restaurant pick for a location: its own catalog
    /// when it has one, and a customer list.
    fn choice(&self, location: &SeedLocation) -> (ConsentChoice, String, String) {
        let seed = self.sandbox.seed();
        let account = seed.account();
        let mut choice = ConsentChoice::for_user(seed.user()).location(&location.id);
        let catalogs = account.catalogs_for(&location.id);
        // Lyon has a catalog of its own: pick it; otherwise the account's.
        let catalog = catalogs
            .iter()
            .find(|c| c.location_id.as_deref() == Some(location.id.as_str()))
            .or(catalogs.first());
        let mut catalog_name = "none".to_owned();
        if let Some(catalog) = catalog {
            choice = choice.catalog(&catalog.id);
            catalog_name = catalog.name.clone();
        }
        let lists = account.customer_lists_for(&location.id);
        let mut list_name = "none".to_owned();
        if let Some(list) = lists.first() {
            choice = choice.customer_list(&list.id);
            list_name = list.name.clone();
        }
        (choice, catalog_name, list_name)
    }

    fn find(&self, connection_id: &str) -> Result<Option<HubriseConnection>, DemoError> {
        Ok(self
            .app
            .connections()?
            .into_iter()
            .find(|c| c.id == connection_id))
    }

    fn live_at(&self, location_id: &str) -> Result<Option<HubriseConnection>, DemoError> {
        Ok(self
            .app
            .connections()?
            .into_iter()
            .find(|c| c.location_id == location_id))
    }
}
