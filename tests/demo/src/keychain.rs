//! The demo's stand-in for the iOS Keychain: the host's secret store, kept in a JSON file next to
//! the database so that a second run (a real process restart) finds the secrets it left, as an
//! iPad app finds its Keychain items. Passerelle itself never writes a secret to SQLite.
//!
//! Only sandbox tokens ever land here; a real host implements `SecretStore` over the Keychain.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use passerelle_core::{SecretStore, SecretStoreError};

/// File name of the demo keychain inside the data directory.
pub const FILE: &str = "demo-keychain.json";

pub struct FileKeychain {
    path: PathBuf,
    values: Mutex<BTreeMap<String, String>>,
}

impl std::fmt::Debug for FileKeychain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileKeychain")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl FileKeychain {
    /// Loads the keychain of `data_dir` (empty when there is none yet).
    pub fn open(data_dir: &Path) -> Result<Self, String> {
        let path = data_dir.join(FILE);
        let values = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| format!("{} is not a demo keychain: {e}", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        Ok(Self {
            path,
            values: Mutex::new(values),
        })
    }

    /// How many items it holds (keys are opaque and not secret; values are never shown).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether an item's key mentions `fragment` (a connection id: is its token here?).
    pub fn has_key_containing(&self, fragment: &str) -> bool {
        self.lock().keys().any(|k| k.contains(fragment))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, String>> {
        self.values.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes the whole file (temporary file, then rename; owner-only on Unix).
    fn save(&self, values: &BTreeMap<String, String>) -> Result<(), SecretStoreError> {
        let unavailable = |e: std::io::Error| SecretStoreError::Unavailable {
            reason: format!("demo keychain: {e}"),
        };
        let bytes =
            serde_json::to_vec_pretty(values).map_err(|e| SecretStoreError::Unavailable {
                reason: format!("demo keychain: {e}"),
            })?;
        let tmp = self.path.with_extension("json.tmp");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp).map_err(unavailable)?;
        std::io::Write::write_all(&mut file, &bytes).map_err(unavailable)?;
        file.sync_all().map_err(unavailable)?;
        std::fs::rename(&tmp, &self.path).map_err(unavailable)
    }
}

impl SecretStore for FileKeychain {
    fn get(&self, key: String) -> Result<Option<String>, SecretStoreError> {
        Ok(self.lock().get(&key).cloned())
    }

    fn set(&self, key: String, value: String) -> Result<(), SecretStoreError> {
        let mut values = self.lock();
        values.insert(key, value);
        self.save(&values)
    }

    fn delete(&self, key: String) -> Result<(), SecretStoreError> {
        let mut values = self.lock();
        if values.remove(&key).is_some() {
            self.save(&values)?;
        }
        Ok(())
    }
}
