//! Helpers shared by the core's integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use passerelle_core::testing::EventRecorder;
use passerelle_core::{ApplyMode, InMemorySecretStore, Passerelle, PasserelleConfig, Settings};

/// How long a test waits for an event.
pub const EVENT_TIMEOUT: Duration = Duration::from_secs(2);

/// A configuration pointing at nothing (loopback port 9), enough for offline behaviour.
pub fn offline_config(data_dir: &std::path::Path) -> PasserelleConfig {
    let mut config = PasserelleConfig::new(
        data_dir.display().to_string(),
        "http://127.0.0.1:9",
        "459691768564.clients.hubrise.com",
        "passerelle-demo://oauth/hubrise",
    );
    config.hubrise_oauth_url = "http://127.0.0.1:9/oauth2/v1".into();
    config.hubrise_api_url = "http://127.0.0.1:9/v1".into();
    config.initial_settings = Settings {
        poll_interval_secs: 30,
        apply_mode: ApplyMode::OnRestart,
        scope: passerelle_core::DEFAULT_SCOPE.into(),
    };
    config
}

/// Opens the instance of `config`'s data directory with that directory's secret store: a
/// directory opened again is the same iPad, whose Keychain kept the device's identity (a new
/// store would make it another iPad's restored backup, design D27).
pub async fn open(config: PasserelleConfig) -> (Passerelle, Arc<EventRecorder>) {
    let events = Arc::new(EventRecorder::new());
    let secrets = secrets_of(&config.data_dir);
    let app = Passerelle::open(config, secrets, events.clone())
        .await
        .expect("open");
    (app, events)
}

/// The secret store of a data directory, one per directory for the test run.
fn secrets_of(data_dir: &str) -> Arc<InMemorySecretStore> {
    static STORES: OnceLock<Mutex<HashMap<String, Arc<InMemorySecretStore>>>> = OnceLock::new();
    let mut stores = STORES
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    stores.entry(data_dir.to_owned()).or_default().clone()
}
