//! Helpers shared by the core's integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use passerelle_core::{
    ApplyMode, EventListener, InMemorySecretStore, Passerelle, PasserelleConfig, PasserelleEvent,
    Settings,
};

/// Collects events for assertions.
#[derive(Default)]
pub struct RecordingListener(pub Mutex<Vec<PasserelleEvent>>);

impl EventListener for RecordingListener {
    fn on_event(&self, event: PasserelleEvent) {
        self.0.lock().unwrap().push(event);
    }
}

impl RecordingListener {
    /// Waits (briefly) until an event matching `pred` was delivered.
    pub async fn wait_for(&self, pred: impl Fn(&PasserelleEvent) -> bool) -> PasserelleEvent {
        for _ in 0..200 {
            if let Some(e) = self.0.lock().unwrap().iter().find(|e| pred(e)) {
                return e.clone();
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("event not delivered; got {:?}", self.0.lock().unwrap());
    }
}

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

pub async fn open(config: PasserelleConfig) -> (Passerelle, Arc<RecordingListener>) {
    let events = Arc::new(RecordingListener::default());
    let app = Passerelle::open(config, Arc::new(InMemorySecretStore::new()), events.clone())
        .await
        .expect("open");
    (app, events)
}
