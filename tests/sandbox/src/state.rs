//! The sandbox's shared state: one lock around everything, never held across an `.await`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;

use crate::faults::Fault;
use crate::hubrise::model::{AuthFlow, CodeGrant, HubriseData};
use crate::pos::model::{PosData, PosLive};
use crate::rate_limit::Usage;
use crate::request_log::RequestRecord;
use crate::sandbox::SandboxOptions;
use crate::seed::Seed;

/// Base URLs of the three listeners.
#[derive(Clone, Debug)]
pub(crate) struct Urls {
    /// `http://127.0.0.1:PORT` of HubRise's OAuth server (and the admin API).
    pub manager: String,
    /// `http://127.0.0.1:PORT` of HubRise's API.
    pub api: String,
    /// `http://127.0.0.1:PORT` of the POS backend.
    pub pos: String,
}

impl Urls {
    pub fn oauth(&self) -> String {
        format!("{}/oauth2/v1", self.manager)
    }
    pub fn api_v1(&self) -> String {
        format!("{}/v1", self.api)
    }
    pub fn admin(&self) -> String {
        format!("{}/_sandbox", self.manager)
    }
}

/// Everything that changes while the sandbox runs.
pub(crate) struct World {
    pub hubrise: HubriseData,
    pub pos: PosData,
    pub pos_live: PosLive,
    /// Consent-page flows in progress, by flow id.
    pub flows: HashMap<String, AuthFlow>,
    /// Authorisation codes, by code.
    pub codes: HashMap<String, CodeGrant>,
    pub log: Vec<RequestRecord>,
    pub faults: Vec<Fault>,
    /// Rate-limit usage, by HubRise connection id.
    pub usage: HashMap<String, Usage>,
}

impl World {
    pub fn new(seed: &Seed) -> World {
        World {
            hubrise: HubriseData::from_seed(seed),
            pos: PosData::from_seed(seed),
            pos_live: PosLive::default(),
            flows: HashMap::new(),
            codes: HashMap::new(),
            log: Vec::new(),
            faults: Vec::new(),
            usage: HashMap::new(),
        }
    }
}

pub(crate) struct Shared {
    pub urls: Urls,
    pub seed: Seed,
    world: Mutex<World>,
    options: Mutex<SandboxOptions>,
    /// The network cut switch (`network.rs`): `true` while the device's network is down.
    network_cut: watch::Sender<bool>,
    /// How many listeners follow the switch, and how many of them are closed now.
    cuttable_listeners: AtomicUsize,
    closed_listeners: watch::Sender<usize>,
}

impl Shared {
    pub fn new(urls: Urls, seed: Seed, world: World, options: SandboxOptions) -> Shared {
        Shared {
            urls,
            seed,
            world: Mutex::new(world),
            options: Mutex::new(options),
            network_cut: watch::Sender::new(false),
            cuttable_listeners: AtomicUsize::new(0),
            closed_listeners: watch::Sender::new(0),
        }
    }

    /// The world, even if a panicking test thread poisoned the lock: the data stays usable.
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A copy of the current options (switches and limits may change at run time).
    pub fn options(&self) -> SandboxOptions {
        self.options
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Whether the network is cut now.
    pub fn network_cut(&self) -> bool {
        *self.network_cut.borrow()
    }

    /// Cuts the network (`true`) or restores it.
    pub fn set_network_cut(&self, cut: bool) {
        self.network_cut.send_replace(cut);
    }

    /// Follows the network cut switch (for a listener that closes while it is on).
    pub fn watch_network(&self) -> watch::Receiver<bool> {
        self.cuttable_listeners.fetch_add(1, Ordering::SeqCst);
        self.network_cut.subscribe()
    }

    /// A listener closed its socket (`true`) or listens again.
    pub fn listener_closed(&self, closed: bool) {
        self.closed_listeners
            .send_modify(|n| *n = if closed { *n + 1 } else { n.saturating_sub(1) });
    }

    /// Waits (at most 5 s) until every listener has followed the switch: all closed when the
    /// network is cut, all listening again when it is not.
    pub async fn network_settled(&self) {
        let want = if self.network_cut() {
            self.cuttable_listeners.load(Ordering::SeqCst)
        } else {
            0
        };
        let mut closed = self.closed_listeners.subscribe();
        let _ = tokio::time::timeout(Duration::from_secs(5), closed.wait_for(|n| *n == want)).await;
    }

    pub fn update_options(&self, change: impl FnOnce(&mut SandboxOptions)) {
        change(&mut self.options.lock().unwrap_or_else(|e| e.into_inner()));
    }
}
