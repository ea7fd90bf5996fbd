//! Helpers shared by the core's integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use passerelle_core::{
    ApplyMode, EventListener, InMemorySecretStore, Passerelle, PasserelleConfig, PasserelleEvent,
    Settings,
};
use tokio::sync::Notify;

/// How long a test waits for an event.
const EVENT_TIMEOUT: Duration = Duration::from_secs(2);

/// Collects events for assertions; a waiter wakes on each event.
#[derive(Default)]
pub struct RecordingListener {
    events: Mutex<Vec<PasserelleEvent>>,
    delivered: Notify,
}

impl EventListener for RecordingListener {
    fn on_event(&self, event: PasserelleEvent) {
        self.events.lock().unwrap().push(event);
        self.delivered.notify_waiters();
    }
}

impl RecordingListener {
    fn find(&self, pred: &impl Fn(&PasserelleEvent) -> bool) -> Option<PasserelleEvent> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .find(|e| pred(e))
            .cloned()
    }

    /// Waits (briefly) until an event matching `pred` was delivered.
    pub async fn wait_for(&self, pred: impl Fn(&PasserelleEvent) -> bool) -> PasserelleEvent {
        let deadline = tokio::time::Instant::now() + EVENT_TIMEOUT;
        loop {
            // Registered before looking, so an event delivered in between still wakes us.
            let delivered = self.delivered.notified();
            tokio::pin!(delivered);
            delivered.as_mut().enable();
            if let Some(e) = self.find(&pred) {
                return e;
            }
            if tokio::time::timeout_at(deadline, delivered).await.is_err() {
                return self.find(&pred).unwrap_or_else(|| {
                    panic!("event not delivered; got {:?}", self.events.lock().unwrap())
                });
            }
        }
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
