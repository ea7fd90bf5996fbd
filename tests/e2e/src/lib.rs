//! Helpers for Passerelle's end-to-end tests: a sandbox, a Passerelle configured against it,
//! a listener that records events, and the restaurant's steps on the consent page.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use passerelle_core::{
    ApplyMode, EventListener, HubriseConnection, HubriseConnectionOptions, InMemorySecretStore,
    Passerelle, PasserelleConfig, PasserelleEvent, Settings,
};
use passerelle_sandbox::consent::{self, ConsentChoice};
use passerelle_sandbox::{Sandbox, SandboxOptions};

pub use passerelle_sandbox::seed::sample_order;

pub mod canned;
pub mod file_secrets;
pub mod logs;

/// Collects events for assertions.
#[derive(Default)]
pub struct RecordingListener(pub Mutex<Vec<PasserelleEvent>>);

impl EventListener for RecordingListener {
    fn on_event(&self, event: PasserelleEvent) {
        self.0.lock().unwrap().push(event);
    }
}

impl RecordingListener {
    /// Waits (up to 5 s) until an event matching `pred` was delivered.
    pub async fn wait_for(&self, pred: impl Fn(&PasserelleEvent) -> bool) -> PasserelleEvent {
        for _ in 0..500 {
            if let Some(e) = self.0.lock().unwrap().iter().find(|e| pred(e)) {
                return e.clone();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("event not delivered; got {:?}", self.0.lock().unwrap());
    }
}

/// A sandbox and everything a test needs to drive Passerelle against it.
pub struct World {
    pub sandbox: Sandbox,
    pub dir: tempfile::TempDir,
    pub secrets: Arc<InMemorySecretStore>,
}

impl World {
    pub async fn start() -> World {
        Self::start_with(SandboxOptions::default()).await
    }

    pub async fn start_with(options: SandboxOptions) -> World {
        let sandbox = Sandbox::start(options).await.expect("sandbox");
        World {
            sandbox,
            dir: tempfile::tempdir().unwrap(),
            secrets: Arc::new(InMemorySecretStore::new()),
        }
    }

    /// Passerelle's configuration for this sandbox (a short poll interval: loopback only).
    pub fn config(&self) -> PasserelleConfig {
        config_for(&self.sandbox, self.dir.path())
    }

    /// Opens Passerelle on this world's data directory and secret store.
    pub async fn open(&self) -> (Passerelle, Arc<RecordingListener>) {
        self.open_with(self.config()).await
    }

    pub async fn open_with(
        &self,
        config: PasserelleConfig,
    ) -> (Passerelle, Arc<RecordingListener>) {
        let events = Arc::new(RecordingListener::default());
        let app = Passerelle::open(config, self.secrets.clone(), events.clone())
            .await
            .expect("open");
        (app, events)
    }

    /// Opens Passerelle and signs in with the seeded POS account.
    pub async fn open_signed_in(&self) -> (Passerelle, Arc<RecordingListener>) {
        let (app, events) = self.open().await;
        self.sign_in(&app).await;
        (app, events)
    }

    /// Signs in with the seeded POS account.
    pub async fn sign_in(&self, app: &Passerelle) {
        let pos = self.sandbox.seed().pos_account();
        app.sign_in(&pos.email, &pos.password)
            .await
            .expect("sign in");
    }

    /// The restaurant's choice on the consent page for a location (its first catalog and list).
    pub fn choice(&self, location_id: &str) -> ConsentChoice {
        let seed = self.sandbox.seed();
        let account = seed.account();
        let mut choice = ConsentChoice::for_user(seed.user()).location(location_id);
        if let Some(catalog) = account.catalogs_for(location_id).first() {
            choice = choice.catalog(&catalog.id);
        }
        if let Some(list) = account.customer_lists_for(location_id).first() {
            choice = choice.customer_list(&list.id);
        }
        choice
    }

    /// Begin → consent page (Allow) → complete: returns the pending connection.
    pub async fn connect(&self, app: &Passerelle, location_id: &str) -> HubriseConnection {
        let callback = self.approve(app, location_id).await;
        app.complete_hubrise_connection(&callback)
            .await
            .expect("complete")
    }

    /// Begin and approve on the consent page; returns the callback URL HubRise redirected to.
    pub async fn approve(&self, app: &Passerelle, location_id: &str) -> String {
        let authorization = app
            .begin_hubrise_connection(HubriseConnectionOptions::default())
            .unwrap();
        consent::approve(&authorization.authorize_url, &self.choice(location_id))
            .await
            .expect("consent")
    }

    /// Every location id of the seeded account, in order.
    pub fn location_ids(&self) -> Vec<String> {
        self.sandbox
            .seed()
            .account()
            .locations
            .iter()
            .map(|l| l.id.clone())
            .collect()
    }
}

/// A configuration pointing at `sandbox`, storing in `data_dir`.
pub fn config_for(sandbox: &Sandbox, data_dir: &Path) -> PasserelleConfig {
    let seed = sandbox.seed();
    let mut config = PasserelleConfig::new(
        data_dir.display().to_string(),
        sandbox.pos_url(),
        seed.client_id.clone(),
        passerelle_sandbox::seed::APP_REDIRECT_URI,
    );
    config.pos_client_id = seed.pos_client_id.clone();
    config.hubrise_oauth_url = sandbox.hubrise_oauth_url();
    config.hubrise_api_url = sandbox.hubrise_api_url();
    config.initial_settings = Settings {
        poll_interval_secs: 1,
        apply_mode: ApplyMode::OnRestart,
        scope: seed.scope.clone(),
    };
    config
}

impl World {
    /// Connects `location_id`, restarts to apply, and returns the active connection's id.
    pub async fn connect_active(&self, app: &Passerelle, location_id: &str) -> String {
        let connection = self.connect(app, location_id).await;
        app.restart().await.expect("restart");
        connection.id
    }

    /// Places an order "from another app" at a location.
    pub async fn place_order(&self, location_id: &str, customer: &str) -> String {
        self.sandbox
            .admin()
            .place_order(location_id, sample_order(customer))
            .await
            .expect("place order")
    }

    /// HubRise's status of an order.
    pub async fn hubrise_status(&self, location_id: &str, order_id: &str) -> String {
        let order = self
            .sandbox
            .admin()
            .order(location_id, order_id)
            .await
            .expect("order at HubRise");
        order["status"].as_str().unwrap_or_default().to_owned()
    }
}

/// The fields of a test configuration, as JSON, for a child process.
pub fn config_to_json(config: &PasserelleConfig) -> String {
    serde_json::json!({
        "data_dir": config.data_dir,
        "pos_base_url": config.pos_base_url,
        "pos_client_id": config.pos_client_id,
        "hubrise_oauth_url": config.hubrise_oauth_url,
        "hubrise_api_url": config.hubrise_api_url,
        "client_id": config.client_id,
        "redirect_uri": config.redirect_uri,
        "poll_interval_secs": config.initial_settings.poll_interval_secs,
        "scope": config.initial_settings.scope,
    })
    .to_string()
}

/// The configuration [`config_to_json`] wrote.
pub fn config_from_json(json: &str) -> Result<PasserelleConfig, String> {
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let text = |k: &str| {
        v[k].as_str()
            .map(str::to_owned)
            .ok_or(format!("missing {k}"))
    };
    let mut config = PasserelleConfig::new(
        text("data_dir")?,
        text("pos_base_url")?,
        text("client_id")?,
        text("redirect_uri")?,
    );
    config.pos_client_id = text("pos_client_id")?;
    config.hubrise_oauth_url = text("hubrise_oauth_url")?;
    config.hubrise_api_url = text("hubrise_api_url")?;
    config.initial_settings = Settings {
        poll_interval_secs: v["poll_interval_secs"]
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(1),
        apply_mode: ApplyMode::OnRestart,
        scope: text("scope")?,
    };
    Ok(config)
}
