//! The story of the seeds, told through Passerelle's public API (the one Swift sees), with the
//! sandbox playing HubRise and the POS vendor and this program playing the restaurant.
//!
//! Every step either holds (and says what it saw) or stops the walkthrough with its reason.
//! The story works on a fresh data directory and on one left by an earlier run: the sandbox
//! keeps its state in memory, so on a second run HubRise and the POS backend start afresh while
//! the iPad's database (and its demo keychain) are restored.
//!
//! Connections are made both ways the seeds make them: on the iPad (HubRise's consent page in
//! the system browser), and off the iPad (the POS vendor's web back office, then "restart the app
//! on your iPad to apply the changes" and the host's confirmation; issue 10, decisions 1–3).

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use passerelle_core::{
    ConnectionOrigin, ConnectionState, DATABASE_FILE, EventListener, HubriseAuthorization,
    HubriseConnection, HubriseConnectionOptions, Order, OrderFilter, OrderStatus, Passerelle,
    PasserelleConfig, PasserelleError, PasserelleEvent, Settings,
};
use passerelle_sandbox::back_office_client;
use passerelle_sandbox::consent::{self, ConsentChoice, ConsentError};
use passerelle_sandbox::{Sandbox, SandboxError, SandboxOptions, SeedLocation};

use crate::keychain::{self, FileKeychain};
use crate::ui::{Outcome, Record, Ui};

/// How long a waiting step waits before it fails.
const WAIT_LIMIT: Duration = Duration::from_secs(30);
/// Poll interval of the sync engine: one second, allowed against a server on loopback only.
const POLL_INTERVAL_SECS: u32 = 1;

/// Why a step did not hold.
#[derive(Debug)]
pub struct DemoError(String);

impl DemoError {
    fn new(reason: impl Into<String>) -> Self {
        Self(reason.into())
    }
}

impl From<PasserelleError> for DemoError {
    fn from(err: PasserelleError) -> Self {
        Self(format!("{err} [{}]", err.code()))
    }
}

impl From<SandboxError> for DemoError {
    fn from(err: SandboxError) -> Self {
        Self(format!("sandbox: {err}"))
    }
}

impl From<ConsentError> for DemoError {
    fn from(err: ConsentError) -> Self {
        Self(format!("consent page: {err}"))
    }
}

macro_rules! ensure {
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            return Err(DemoError(format!($($arg)+)));
        }
    };
}

type StepResult<T> = Result<(T, String), DemoError>;

/// The step that stopped the walkthrough.
#[derive(Debug)]
pub struct Stopped {
    pub number: usize,
    pub title: String,
    pub reason: String,
}

/// Runs the steps in order and keeps their records for the summary.
pub struct Steps {
    ui: Ui,
    records: Vec<Record>,
}

impl Steps {
    fn new(ui: Ui) -> Self {
        Self {
            ui,
            records: Vec::new(),
        }
    }

    /// Prints the step's title, runs it, prints and records what it saw.
    async fn run<T>(
        &mut self,
        title: &str,
        body: impl Future<Output = StepResult<T>>,
    ) -> Result<T, Stopped> {
        let number = self.records.len() + 1;
        self.ui.step_header(number, title);
        let started = Instant::now();
        let result = body.await;
        let elapsed = started.elapsed();
        match result {
            Ok((value, summary)) => {
                self.ui.step_ok(&summary, elapsed);
                self.records.push(Record {
                    title: title.to_owned(),
                    outcome: Outcome::Held(summary),
                    elapsed,
                });
                Ok(value)
            }
            Err(DemoError(reason)) => {
                self.ui.step_failed(&reason, elapsed);
                self.records.push(Record {
                    title: title.to_owned(),
                    outcome: Outcome::Failed(reason.clone()),
                    elapsed,
                });
                Err(Stopped {
                    number,
                    title: title.to_owned(),
                    reason,
                })
            }
        }
    }
}

/// The host's event listener: keeps every event so steps can wait for one.
#[derive(Default)]
pub struct Recorder(Mutex<Vec<PasserelleEvent>>);

impl EventListener for Recorder {
    fn on_event(&self, event: PasserelleEvent) {
        self.lock().push(event);
    }
}

impl Recorder {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<PasserelleEvent>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Position to wait from: events before it are not considered.
    fn mark(&self) -> usize {
        self.lock().len()
    }

    /// The first event after `mark` that matches, waiting up to `limit`.
    async fn wait_for(
        &self,
        mark: usize,
        limit: Duration,
        matches: impl Fn(&PasserelleEvent) -> bool,
    ) -> Option<PasserelleEvent> {
        let deadline = Instant::now() + limit;
        loop {
            let found = self.lock().iter().skip(mark).find(|e| matches(e)).cloned();
            if found.is_some() || Instant::now() >= deadline {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Polls `check` every 50 ms until it answers `Some`, up to `limit`.
async fn poll<T, F, Fut>(limit: Duration, mut check: F) -> Result<Option<T>, DemoError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, DemoError>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = check().await? {
            return Ok(Some(value));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

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
        "The sandbox plays HubRise and the POS vendor; this demo plays the restaurant.",
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

/// The steps, in the order of the seeds' story.
async fn story(steps: &mut Steps, dir: &Path) -> Result<(), Stopped> {
    let ui = steps.ui;
    let sandbox = steps
        .run(
            "Start the sandbox: HubRise and the POS backend, on this machine",
            start_sandbox(ui),
        )
        .await?;
    let previous = dir.join(DATABASE_FILE).exists();
    let (app, events, keychain) = steps
        .run(
            "Open Passerelle (the app starts on the iPad)",
            open_app(ui, &sandbox, dir, previous),
        )
        .await?;
    let story = Story {
        ui,
        sandbox,
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
    let paris = story.location(0)?;
    let lyon = story.location(1)?;

    let authorization = steps.run("Begin connecting HubRise", story.begin()).await?;
    let callback = steps
        .run(
            "On HubRise's consent page: location, catalog, customer list, Allow",
            story.consent(&authorization, &paris),
        )
        .await?;
    let paris_connection = steps
        .run("Connection pending", story.pending(&callback, &paris))
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

    let (order_id, mark) = steps
        .run(
            "An order placed from another app (Uber Eats)",
            story.place_order(&paris),
        )
        .await?;
    steps
        .run(
            "The order arrives at the till",
            story.order_arrives(&order_id, &paris, mark),
        )
        .await?;
    steps
        .run("Accept it", story.accept(&order_id, &paris))
        .await?;

    steps
        .run("A second location: Lyon", story.second_location(&lyon))
        .await?;
    // Both of Bella Pizza's locations are connected on this iPad now, and a back-office connect
    // of a location the iPad already lists changes nothing but its names: the off-device
    // connect comes once Paris has left the list (after the restart below).

    let mark = steps
        .run(
            "Paris disconnected in HubRise's back office",
            story.back_office_disconnect(&paris),
        )
        .await?;
    steps
        .run(
            "\u{201c}Reconnect needed\u{201d} shown for Paris",
            story.reconnect_needed(&paris_connection, &lyon, mark),
        )
        .await?;
    steps
        .run(
            "Disconnect Paris from the app",
            story.disconnect(&paris_connection),
        )
        .await?;
    steps
        .run(
            "Restart",
            story.final_restart(&paris_connection, &lyon, &order_id),
        )
        .await?;

    // The seeds' own way (issue 10): connected off the iPad, applied by a restart, confirmed.
    steps
        .run(
            "Paris connected again, in the POS vendor's web back office",
            story.connect_on_the_web(&paris),
        )
        .await?;
    let off_device = steps
        .run(
            "Restart the app on the iPad to apply the changes",
            story.off_device_pending(&paris),
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
            story.place_order(&paris),
        )
        .await?;
    steps
        .run(
            "It arrives at the till",
            story.order_arrives(&second_order, &paris, mark),
        )
        .await?;

    // A clean shutdown: the engine stops between transactions, then the sandbox.
    let _ = story.app.stop_sync().await;
    drop(story.app);
    story.sandbox.stop().await;
    Ok(())
}

async fn start_sandbox(ui: Ui) -> StepResult<Sandbox> {
    let sandbox = Sandbox::start(SandboxOptions::default()).await?;
    ui.say("Three servers on 127.0.0.1, with HubRise's real rate limits:");
    ui.detail(&format!("HubRise OAuth  {}", sandbox.hubrise_oauth_url()));
    ui.detail(&format!("HubRise API    {}", sandbox.hubrise_api_url()));
    ui.detail(&format!("POS backend    {}", sandbox.pos_url()));
    let account = sandbox.seed().account();
    ui.say(&format!(
        "Seeded: HubRise account {} ({}) with {} locations; POS account {}.",
        account.name,
        account.id,
        account.locations.len(),
        sandbox.seed().pos_account().email
    ));
    Ok((sandbox, "fake HubRise and POS backend listening".into()))
}

/// Passerelle's configuration for this sandbox.
fn config_for(sandbox: &Sandbox, dir: &Path) -> PasserelleConfig {
    let seed = sandbox.seed();
    let mut config = PasserelleConfig::new(
        dir.display().to_string(),
        sandbox.pos_url(),
        seed.client_id.clone(),
        passerelle_sandbox::seed::APP_REDIRECT_URI,
    );
    config.pos_client_id = seed.pos_client_id.clone();
    config.hubrise_oauth_url = sandbox.hubrise_oauth_url();
    config.hubrise_api_url = sandbox.hubrise_api_url();
    config.initial_settings = Settings {
        poll_interval_secs: POLL_INTERVAL_SECS,
        apply_mode: passerelle_core::ApplyMode::OnRestart,
        scope: seed.scope.clone(),
    };
    config
}

async fn open_app(
    ui: Ui,
    sandbox: &Sandbox,
    dir: &Path,
    previous: bool,
) -> StepResult<(Passerelle, Arc<Recorder>, Arc<FileKeychain>)> {
    ui.detail(&format!("data directory {}", dir.display()));
    std::fs::create_dir_all(dir)
        .map_err(|e| DemoError::new(format!("cannot create {}: {e}", dir.display())))?;
    let keychain = Arc::new(FileKeychain::open(dir).map_err(DemoError)?);
    let kept = keychain.len();
    let events = Arc::new(Recorder::default());
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

struct Story {
    ui: Ui,
    sandbox: Sandbox,
    app: Passerelle,
    events: Arc<Recorder>,
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
        ui.say(&format!(
            "  Account        {}",
            name_and_id(&checked.account_name, &checked.account_id)
        ));
        ui.say(&format!(
            "  Location       {}",
            name_and_id(&checked.location_name, &Some(checked.location_id.clone()))
        ));
        ui.say(&format!(
            "  Catalog        {}",
            name_and_id(&checked.catalog_name, &checked.catalog_id)
        ));
        ui.say(&format!(
            "  Customer list  {}",
            name_and_id(&checked.customer_list_name, &checked.customer_list_id)
        ));
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

    async fn place_order(&self, location: &SeedLocation) -> StepResult<(String, usize)> {
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

    async fn order_arrives(
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
                self.events.wait_for(mark, WAIT_LIMIT, |e| {
                    matches!(e, PasserelleEvent::OrderReceived { order } if order.id == order_id)
                }),
            )
            .await;
        let Some(PasserelleEvent::OrderReceived { order }) = event else {
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
                    let status = hubrise_status(&admin, &location.id, order_id).await;
                    Ok((status == "received").then_some(status))
                }),
            )
            .await?;
        ensure!(
            received.is_some(),
            "HubRise still shows {:?}, not received",
            hubrise_status(&admin, &location.id, order_id).await
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
                hubrise_status(&admin, &location.id, order_id).await,
                WAIT_LIMIT.as_secs()
            )));
        };
        ui.say(&format!(
            "HubRise now shows the order accepted, confirmed for {confirmed_time}."
        ));
        Ok(((), "HubRise shows accepted".into()))
    }

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
                self.events.wait_for(mark, WAIT_LIMIT, |e| {
                    matches!(e, PasserelleEvent::ReconnectNeeded { connection_id, .. } if *connection_id == connection.id)
                }),
            )
            .await;
        let how = if event.is_some() {
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
        let syncing = self.app.syncing_connections()?;
        ensure!(
            !syncing.contains(&connection.id),
            "the sync still runs for the refused connection"
        );
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
        ui.detail(&format!("{}/backoffice", self.sandbox.pos_url()));
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
        let pos_url = self.sandbox.pos_url();
        ui.wait(
            "in the web back office and on HubRise's consent page",
            back_office_client::connect_on_the_web(&pos_url, &pos.email, &pos.password, &choice),
        )
        .await?;
        // What the back office lists: the configuration the POS backend keeps for the account.
        let recorded = self.sandbox.admin().pos_connections(&pos.account_id).await;
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
        ui.say(&format!(
            "  Account        {}",
            name_and_id(&connection.account_name, &connection.account_id)
        ));
        ui.say(&format!(
            "  Location       {}",
            name_and_id(
                &connection.location_name,
                &Some(connection.location_id.clone())
            )
        ));
        ui.say(&format!(
            "  Catalog        {}",
            name_and_id(&connection.catalog_name, &connection.catalog_id)
        ));
        ui.say(&format!(
            "  Customer list  {}",
            name_and_id(&connection.customer_list_name, &connection.customer_list_id)
        ));
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

async fn hubrise_status(
    admin: &passerelle_sandbox::Admin,
    location_id: &str,
    order_id: &str,
) -> String {
    admin
        .order(location_id, order_id)
        .await
        .and_then(|o| o["status"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// `Paris (3r4s3-1)`.
fn name_and_id(name: &Option<String>, id: &Option<String>) -> String {
    format!(
        "{} ({})",
        name.as_deref().unwrap_or("?"),
        id.as_deref().unwrap_or("?")
    )
}

/// A field of the POS backend's JSON, or `?`.
fn field(value: &serde_json::Value, key: &str) -> Option<String> {
    value[key].as_str().map(str::to_owned)
}

fn describe_connection(c: &HubriseConnection) -> String {
    let state = match c.state {
        ConnectionState::Pending if c.needs_confirmation => "pending, to confirm or refuse",
        ConnectionState::Pending => "pending (restart to apply)",
        ConnectionState::Active if c.reconnect_needed => "active, reconnect needed",
        ConnectionState::Active => "active",
        ConnectionState::Removing => "removed, restart to apply",
        ConnectionState::Removed => "removed",
    };
    format!(
        "{} ({}) of {}: {state}",
        c.location_name.as_deref().unwrap_or("?"),
        c.location_id,
        c.account_name.as_deref().unwrap_or("?")
    )
}

fn status_name(status: OrderStatus) -> &'static str {
    status.as_str().unwrap_or("unknown")
}

fn describe_order_line(order: &Order) -> String {
    let customer = order
        .customer
        .as_ref()
        .and_then(|c| c.first_name.clone())
        .unwrap_or_else(|| "?".into());
    format!(
        "{} {} — {}, {}, {}",
        order.id,
        order.created_at,
        customer,
        order
            .total
            .as_ref()
            .map_or("?".to_owned(), ToString::to_string),
        status_name(order.status)
    )
}

fn describe_order(order: &Order) -> Vec<String> {
    let mut lines = Vec::new();
    let customer = order.customer.as_ref().map_or("?".to_owned(), |c| {
        format!(
            "{} {} — {}",
            c.first_name.as_deref().unwrap_or(""),
            c.last_name.as_deref().unwrap_or(""),
            c.city.as_deref().unwrap_or("")
        )
    });
    lines.push(format!(
        "{} for {} · {}",
        order.service_type.as_deref().unwrap_or("order"),
        customer,
        order
            .expected_time
            .as_deref()
            .map_or("as soon as possible".to_owned(), |t| format!(
                "expected {t}"
            ))
    ));
    for item in &order.items {
        let options: Vec<String> = item.options.iter().map(|o| o.name.clone()).collect();
        let options = if options.is_empty() {
            String::new()
        } else {
            format!(" + {}", options.join(", "))
        };
        lines.push(format!(
            "{} × {}{}{}  {}",
            item.quantity,
            item.product_name,
            item.sku_name
                .as_deref()
                .map_or(String::new(), |s| format!(" ({s})")),
            options,
            item.subtotal
                .as_ref()
                .map_or(String::new(), ToString::to_string)
        ));
    }
    for charge in &order.charges {
        lines.push(format!(
            "{}  {}",
            charge.name,
            charge
                .price
                .as_ref()
                .map_or(String::new(), ToString::to_string)
        ));
    }
    lines.push(format!(
        "Total {} · {}",
        order
            .total
            .as_ref()
            .map_or("?".to_owned(), ToString::to_string),
        order.customer_notes.as_deref().unwrap_or("")
    ));
    lines
}

/// The start and the end of a long URL.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let head: String = text.chars().take(max - 1).collect();
    format!("{head}…")
}
