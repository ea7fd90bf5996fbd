//! The sandbox's shared state: one lock around everything, never held across an `.await`.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

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
}

impl Shared {
    pub fn new(urls: Urls, seed: Seed, world: World, options: SandboxOptions) -> Shared {
        Shared {
            urls,
            seed,
            world: Mutex::new(world),
            options: Mutex::new(options),
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

    pub fn update_options(&self, change: impl FnOnce(&mut SandboxOptions)) {
        change(&mut self.options.lock().unwrap_or_else(|e| e.into_inner()));
    }
}
