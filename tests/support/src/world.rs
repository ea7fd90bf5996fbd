//! A sandbox and everything a test needs to drive Passerelle against it. For tests: a step that
//! fails panics, which fails the test (the walkthrough and the benchmarks use the fallible steps
//! of [`crate::seeded`] instead).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use passerelle_bridge::config::DatabaseUrl;
use passerelle_bridge::crypto::{Key, Keyring};
use passerelle_bridge::db::Value;
use passerelle_core::{HubriseConnection, InMemorySecretStore, Passerelle, PasserelleConfig};
use passerelle_sandbox::drivers::consent::ConsentChoice;
use passerelle_sandbox::seed::sample_order;
use passerelle_sandbox::{Sandbox, SandboxOptions, Seed};

use crate::config::{SandboxEndpoints, config_for};
use crate::recorder::EventRecorder;
use crate::seeded;

/// The environment variable that chooses the POS backend of [`World::start`]: `bridge` puts
/// passerelle-bridge (embedded SQLite, built-in identity with the seed's POS accounts) in front
/// of the sandbox's HubRise; unset or `sandbox`, the sandbox's own fake. `scripts/test.sh` runs
/// the end-to-end tests both ways.
pub const POS_BACKEND_ENV: &str = "PASSERELLE_E2E_POS_BACKEND";

/// Which POS backend a [`World`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PosBackend {
    /// The sandbox's in-memory fake (`tests/sandbox/src/pos`).
    SandboxFake,
    /// passerelle-bridge on a SQLite file, behind the sandbox's POS listener (its request log,
    /// faults and network cut apply to the bridge's traffic).
    Bridge,
}

impl PosBackend {
    /// The backend [`POS_BACKEND_ENV`] names (the sandbox's fake when unset); an unknown value
    /// stops the test rather than silently testing the other one.
    pub fn from_env() -> PosBackend {
        match std::env::var(POS_BACKEND_ENV).as_deref() {
            Err(_) | Ok("") | Ok("sandbox") => PosBackend::SandboxFake,
            Ok("bridge") => PosBackend::Bridge,
            Ok(other) => panic!("{POS_BACKEND_ENV}={other}: expected sandbox or bridge"),
        }
    }
}

/// Switches of [`SandboxOptions`] only the sandbox's fake POS backend honours (the bridge always
/// registers the passive callback and locks an email after 5 failures for 60 s): a test that
/// sets one is about the fake, and runs on it whatever [`POS_BACKEND_ENV`] says.
fn only_the_fake_honours(options: &SandboxOptions) -> bool {
    let default = SandboxOptions::default();
    !options.backend_registers_callback
        || options.lockout_after != default.lockout_after
        || options.lockout_for != default.lockout_for
}

/// A sandbox, a data directory and a secret store for Passerelle, and the POS backend in front
/// of the sandbox's HubRise ([`PosBackend`]).
pub struct World {
    pub sandbox: Sandbox,
    pub dir: tempfile::TempDir,
    pub secrets: Arc<InMemorySecretStore>,
    /// The bridge, when it is the POS backend (stopped when the world is dropped with the
    /// test's runtime).
    pub bridge: Option<passerelle_bridge::Running>,
    pos_url: String,
    _bridge_dir: Option<tempfile::TempDir>,
}

impl World {
    /// A world on the POS backend [`POS_BACKEND_ENV`] names.
    pub async fn start() -> World {
        Self::start_with(SandboxOptions::default()).await
    }

    /// A world on the POS backend [`POS_BACKEND_ENV`] names, unless `options` set a switch only
    /// the sandbox's fake honours.
    pub async fn start_with(options: SandboxOptions) -> World {
        let backend = if only_the_fake_honours(&options) {
            PosBackend::SandboxFake
        } else {
            PosBackend::from_env()
        };
        Self::start_on(options, backend).await
    }

    /// A world on the sandbox's fake POS backend whatever [`POS_BACKEND_ENV`] says: for tests of
    /// what only the fake can be made to do (its admin API's `pos_*` calls, faults on its
    /// listener).
    pub async fn start_on_the_fake(options: SandboxOptions) -> World {
        Self::start_on(options, PosBackend::SandboxFake).await
    }

    pub async fn start_on(options: SandboxOptions, backend: PosBackend) -> World {
        let dir = tempfile::tempdir().unwrap();
        let secrets = Arc::new(InMemorySecretStore::new());
        match backend {
            PosBackend::SandboxFake => {
                let sandbox = Sandbox::start(options).await.expect("sandbox");
                World {
                    pos_url: sandbox.pos_url(),
                    sandbox,
                    dir,
                    secrets,
                    bridge: None,
                    _bridge_dir: None,
                }
            }
            PosBackend::Bridge => {
                let bridge_dir = tempfile::tempdir().unwrap();
                let ttl = options.pos_access_token_ttl;
                let bridged = crate::bridge::start_behind_the_sandbox(
                    options,
                    DatabaseUrl::Sqlite(bridge_dir.path().join("bridge.sqlite3")),
                    Keyring::new(Key::generate(), vec![]),
                    |config| config.access_token_ttl = ttl,
                )
                .await
                .expect("sandbox and bridge");
                World {
                    sandbox: bridged.sandbox,
                    dir,
                    secrets,
                    bridge: Some(bridged.bridge),
                    pos_url: bridged.pos_url,
                    _bridge_dir: Some(bridge_dir),
                }
            }
        }
    }

    /// Which POS backend this world talks to.
    pub fn pos_backend(&self) -> PosBackend {
        match self.bridge {
            Some(_) => PosBackend::Bridge,
            None => PosBackend::SandboxFake,
        }
    }

    /// The POS backend ends every access token now; refresh tokens keep working (the fake's
    /// `Admin::expire_pos_access_tokens`, or the bridge's built-in identity's store).
    pub async fn expire_pos_access_tokens(&self) {
        match &self.bridge {
            None => self.sandbox.admin().expire_pos_access_tokens().await,
            Some(bridge) => {
                let now = time_ms();
                bridge
                    .app()
                    .store
                    .database()
                    .execute(
                        "UPDATE pos_tokens SET expires_at = $1 WHERE kind = 'access'",
                        vec![Value::int(now)],
                    )
                    .await
                    .expect("expire the bridge's access tokens");
            }
        }
    }

    /// The POS backend ends every session: access and refresh tokens are refused from now on
    /// (an account disabled, a password changed elsewhere).
    pub async fn end_pos_sessions(&self) {
        match &self.bridge {
            None => self.sandbox.admin().end_pos_sessions().await,
            Some(bridge) => {
                bridge
                    .app()
                    .store
                    .database()
                    .execute("DELETE FROM pos_tokens", vec![])
                    .await
                    .expect("end the bridge's sessions");
            }
        }
    }

    /// The POS backend's base URL: the sandbox's fake or the bridge.
    pub fn pos_url(&self) -> String {
        self.pos_url.clone()
    }

    /// Passerelle's configuration for this world (a short poll interval: loopback only).
    pub fn config(&self) -> PasserelleConfig {
        config_for(self, self.dir.path())
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

/// The sandbox's HubRise with this world's POS backend, for [`config_for`].
impl SandboxEndpoints for World {
    fn seed(&self) -> &Seed {
        self.sandbox.seed()
    }
    fn pos_url(&self) -> String {
        self.pos_url.clone()
    }
    fn hubrise_oauth_url(&self) -> String {
        self.sandbox.hubrise_oauth_url()
    }
    fn hubrise_api_url(&self) -> String {
        self.sandbox.hubrise_api_url()
    }
}

fn time_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
