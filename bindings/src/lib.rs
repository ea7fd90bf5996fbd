//! The UniFFI surface of Passerelle: a thin adapter over `passerelle-core`.
//!
//! It only exports: records, enums and errors come from the core (derived behind its `uniffi`
//! feature), and every method here forwards to the core inside a panic guard, so that no panic
//! crosses into Swift (where it would crash the till) and every export throws a typed error.

use std::sync::Arc;

use passerelle_core::{
    ConfigChange, EventListener, HubriseConnection, PasserelleConfig, PasserelleError, PosAccount,
    SecretStore, Settings,
};

mod guard;

use guard::{guard, guard_async};

uniffi::setup_scaffolding!("passerelle");

type Result<T> = std::result::Result<T, PasserelleError>;

/// One Passerelle instance over a data directory. Hold one per app.
#[derive(uniffi::Object)]
pub struct Passerelle {
    core: passerelle_core::Passerelle,
}

#[uniffi::export(async_runtime = "tokio")]
impl Passerelle {
    /// Opens the data directory, applies the pending configuration and starts.
    #[uniffi::constructor]
    pub async fn open(
        config: PasserelleConfig,
        secrets: Arc<dyn SecretStore>,
        events: Arc<dyn EventListener>,
    ) -> Result<Arc<Self>> {
        let core = guard_async(passerelle_core::Passerelle::open(config, secrets, events)).await?;
        Ok(Arc::new(Self { core }))
    }

    /// The signed-in POS account, if any.
    pub fn account(&self) -> Result<Option<PosAccount>> {
        guard(|| self.core.account())
    }

    /// The current account's HubRise connections.
    pub fn connections(&self) -> Result<Vec<HubriseConnection>> {
        guard(|| self.core.connections())
    }

    /// The settings the engine runs on.
    pub fn settings(&self) -> Result<Settings> {
        guard(|| self.core.settings())
    }

    /// Version of the active configuration.
    pub fn configuration_version(&self) -> Result<u64> {
        guard(|| self.core.configuration_version())
    }

    /// The per-install device id sent to HubRise.
    pub fn device_id(&self) -> Result<String> {
        guard(|| self.core.device_id())
    }

    /// Changes waiting for a restart or a confirmation.
    pub fn pending_changes(&self) -> Result<Vec<ConfigChange>> {
        guard(|| self.core.pending_changes())
    }

    /// Whether `restart()` would apply something now.
    pub fn restart_required(&self) -> Result<bool> {
        guard(|| self.core.restart_required())
    }

    /// Records new settings, applied at the next restart (or at once in immediate mode).
    pub async fn update_settings(&self, settings: Settings) -> Result<()> {
        guard_async(self.core.update_settings(settings)).await
    }

    /// Applies the pending configuration without the app being killed.
    pub async fn restart(&self) -> Result<()> {
        guard_async(self.core.restart()).await
    }
}

/// The stable code of an error, for the host to localise (`"invalid_credentials"`, ...).
#[uniffi::export]
pub fn passerelle_error_code(error: &PasserelleError) -> String {
    error.code().to_owned()
}

/// Whether retrying later may succeed without the user doing anything.
#[uniffi::export]
pub fn passerelle_error_is_retryable(error: &PasserelleError) -> bool {
    error.is_retryable()
}
