//! Secrets live only in the host's secret store (the Keychain on iOS), never in SQLite.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex};

/// A failure of the host's secret store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Error))]
pub enum SecretStoreError {
    /// The store refused or failed (device locked, Keychain error, ...).
    #[error("secret store unavailable: {reason}")]
    Unavailable { reason: String },
}

#[cfg(feature = "uniffi")]
impl From<uniffi::UnexpectedUniFFICallbackError> for SecretStoreError {
    fn from(err: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Unavailable { reason: err.reason }
    }
}

/// Implemented by the host: a small key/value store for secrets. Keys are opaque, not secret.
/// Methods are synchronous (UniFFI 0.32's async foreign traits break under Swift 6).
#[cfg_attr(feature = "uniffi", uniffi::export(with_foreign))]
pub trait SecretStore: Send + Sync {
    fn get(&self, key: String) -> Result<Option<String>, SecretStoreError>;
    fn set(&self, key: String, value: String) -> Result<(), SecretStoreError>;
    /// Deleting a missing key succeeds.
    fn delete(&self, key: String) -> Result<(), SecretStoreError>;
}

/// A secret value in memory: shows as `<redacted>` in `Debug` so it cannot reach a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Typed access to the host's store, under the key names Passerelle uses.
///
/// It keeps, in the secret store itself, the list of the keys it wrote ([`keys::INDEX`]): the
/// store cannot be listed, and after a database recovery the entries the lost database named
/// must be found to be deleted ([`Secrets::written_keys`]).
#[derive(Clone)]
pub struct Secrets {
    store: Arc<dyn SecretStore>,
    /// The index, loaded at the first write; the lock also serialises its updates.
    index: Arc<Mutex<Option<BTreeSet<String>>>>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secrets")
    }
}

impl Secrets {
    pub fn new(store: Arc<dyn SecretStore>) -> Self {
        Self {
            store,
            index: Arc::default(),
        }
    }

    pub fn get(&self, key: &str) -> Result<Option<Secret>, SecretStoreError> {
        Ok(self.store.get(key.to_owned())?.map(Secret))
    }

    /// Stores `value`; the key enters the index first, so no entry is ever written unlisted.
    pub fn set(&self, key: &str, value: &Secret) -> Result<(), SecretStoreError> {
        self.update_index(|index| index.insert(key.to_owned()))?;
        self.store.set(key.to_owned(), value.0.clone())
    }

    pub fn delete(&self, key: &str) -> Result<(), SecretStoreError> {
        self.store.delete(key.to_owned())?;
        self.update_index(|index| index.remove(key))
    }

    /// Lists keys written before the index existed (an upgrade), without touching their values.
    pub fn track(&self, keys: Vec<String>) -> Result<(), SecretStoreError> {
        self.update_index(|index| {
            let before = index.len();
            index.extend(keys);
            index.len() != before
        })
    }

    /// Every key this library wrote and has not deleted.
    pub fn written_keys(&self) -> Result<Vec<String>, SecretStoreError> {
        let mut guard = self.lock_index();
        Ok(self.loaded(&mut guard)?.iter().cloned().collect())
    }

    /// Applies `change` to the index and saves it when `change` says it changed something.
    fn update_index(
        &self,
        change: impl FnOnce(&mut BTreeSet<String>) -> bool,
    ) -> Result<(), SecretStoreError> {
        let mut guard = self.lock_index();
        let index = self.loaded(&mut guard)?;
        if change(index) {
            let json = serde_json::to_string(index).unwrap_or_else(|_| "[]".into());
            self.store.set(keys::INDEX.to_owned(), json)?;
        }
        Ok(())
    }

    fn loaded<'a>(
        &self,
        guard: &'a mut Option<BTreeSet<String>>,
    ) -> Result<&'a mut BTreeSet<String>, SecretStoreError> {
        if guard.is_none() {
            let stored = self.store.get(keys::INDEX.to_owned())?;
            // An unreadable index is rebuilt from what is written from now on.
            *guard = Some(
                stored
                    .and_then(|json| serde_json::from_str(&json).ok())
                    .unwrap_or_default(),
            );
        }
        Ok(guard.get_or_insert_with(BTreeSet::new))
    }

    fn lock_index(&self) -> std::sync::MutexGuard<'_, Option<BTreeSet<String>>> {
        self.index.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Key names in the secret store.
pub mod keys {
    /// The app's HubRise client secret, provisioned by the host for the direct strategy only.
    pub const HUBRISE_CLIENT_SECRET: &str = "hubrise/client_secret";
    /// The device's HubRise identity (design D24): kept here too, so a database recovery, or
    /// the app reinstalled on the same iPad, keeps it.
    pub const DEVICE_ID: &str = "passerelle/device_id";
    /// The keys this library wrote (not a secret; kept beside them, see `Secrets`).
    pub const INDEX: &str = "passerelle/written_keys";

    /// Whether `key` is one of the library's own entries, kept whoever signs in.
    pub fn is_device_level(key: &str) -> bool {
        key == DEVICE_ID || key == INDEX
    }

    pub fn pos_session(pos_account_id: &str) -> String {
        format!("pos/{pos_account_id}/session")
    }

    pub fn hubrise_token(connection_id: &str) -> String {
        format!("hubrise/connection/{connection_id}/access_token")
    }

    pub fn pkce_verifier(flow_id: &str) -> String {
        format!("hubrise/flow/{flow_id}/pkce_verifier")
    }
}

/// An in-memory store for tests, the demo and hosts without a platform store.
#[derive(Default)]
pub struct InMemorySecretStore(Mutex<HashMap<String, String>>);

impl InMemorySecretStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Keys currently held (for tests asserting clean-up).
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.map().keys().cloned().collect();
        keys.sort();
        keys
    }
}

impl SecretStore for InMemorySecretStore {
    fn get(&self, key: String) -> Result<Option<String>, SecretStoreError> {
        Ok(self.map().get(&key).cloned())
    }

    fn set(&self, key: String, value: String) -> Result<(), SecretStoreError> {
        self.map().insert(key, value);
        Ok(())
    }

    fn delete(&self, key: String) -> Result<(), SecretStoreError> {
        self.map().remove(&key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_redacts_itself() {
        let secret = Secret::new("b9922a78d3ffab6b95e9d72e88");
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
    }
}
