//! A sandbox and everything a test needs to drive Passerelle against it. For tests: a step that
//! fails panics, which fails the test (the walkthrough and the benchmarks use the fallible steps
//! of [`crate::seeded`] instead).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use passerelle_core::{HubriseConnection, InMemorySecretStore, Passerelle, PasserelleConfig};
use passerelle_sandbox::drivers::consent::ConsentChoice;
use passerelle_sandbox::seed::sample_order;
use passerelle_sandbox::{Sandbox, SandboxOptions};

use crate::config::config_for;
use crate::recorder::EventRecorder;
use crate::seeded;

/// A sandbox, a data directory and a secret store for Passerelle.
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
    pub async fn open(&self) -> (Passerelle, Arc<EventRecorder>) {
        self.open_with(self.config()).await
    }

    pub async fn open_with(&self, config: PasserelleConfig) -> (Passerelle, Arc<EventRecorder>) {
        let events = Arc::new(EventRecorder::new());
        let app = Passerelle::open(config, self.secrets.clone(), events.clone())
            .await
            .expect("open");
        (app, events)
    }

    /// Opens Passerelle and signs in with the seeded POS account.
    pub async fn open_signed_in(&self) -> (Passerelle, Arc<EventRecorder>) {
        let (app, events) = self.open().await;
        self.sign_in(&app).await;
        (app, events)
    }

    /// Signs in with the seeded POS account.
    pub async fn sign_in(&self, app: &Passerelle) {
        seeded::sign_in(app, self.sandbox.seed(), 0)
            .await
            .expect("sign in");
    }

    /// The secret-store keys besides the library's device-level entries (its HubRise identity
    /// and the list of the keys it wrote, `passerelle/…`): what an account leaves behind.
    pub fn account_secrets(&self) -> Vec<String> {
        self.secrets
            .keys()
            .into_iter()
            .filter(|key| !key.starts_with("passerelle/"))
            .collect()
    }

    /// The restaurant's choice on the consent page for a location (its first catalog and list).
    pub fn choice(&self, location_id: &str) -> ConsentChoice {
        seeded::choice(self.sandbox.seed(), 0, location_id).expect("a seeded location")
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
        seeded::approve(app, &self.choice(location_id))
            .await
            .expect("consent")
    }

    /// Connects `location_id`, restarts to apply, and returns the active connection's id.
    pub async fn connect_active(&self, app: &Passerelle, location_id: &str) -> String {
        let connection = self.connect(app, location_id).await;
        app.restart().await.expect("restart");
        connection.id
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
        seeded::hubrise_status(&self.sandbox.admin(), location_id, order_id)
            .await
            .expect("order at HubRise")
    }
}
