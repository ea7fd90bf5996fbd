//! A secret store kept in a JSON file, standing in for the Keychain where secrets must outlive
//! the process: a process that is killed and started again (the kill tests, the service soak),
//! and the walkthrough's iPad between two runs (its "demo keychain"). An in-memory store would
//! forget the HubRise tokens and the POS session, whose refresh token rotates. Writes go to a
//! temporary file (owner-only on Unix, synced) renamed over the old one, so a kill never leaves
//! half a file. Only sandbox tokens ever land here; a real host implements `SecretStore` over the
//! Keychain.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use passerelle_core::{SecretStore, SecretStoreError};

pub struct FileSecretStore {
    path: PathBuf,
    lock: Mutex<()>,
}

impl std::fmt::Debug for FileSecretStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileSecretStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl FileSecretStore {
    /// The store kept at `path` (created at the first write).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            lock: Mutex::new(()),
        }
    }

    /// The store kept at `path`, checked readable now: a file that is not one is refused here
    /// rather than at the library's first read.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, String> {
        let store = Self::new(path);
        store
            .load()
            .map_err(|e| format!("{} is not a secret store: {e}", store.path.display()))?;
        Ok(store)
    }

    /// How many items it holds (keys are opaque and not secret; values are never shown).
    pub fn len(&self) -> usize {
        self.read().map_or(0, |map| map.len())
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether an item's key mentions `fragment` (a connection id: is its token here?).
    pub fn has_key_containing(&self, fragment: &str) -> bool {
        self.read()
            .is_ok_and(|map| map.keys().any(|k| k.contains(fragment)))
    }

    fn read(&self) -> Result<BTreeMap<String, String>, SecretStoreError> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        self.load()
    }

    fn load(&self) -> Result<BTreeMap<String, String>, SecretStoreError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(unavailable),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(err) => Err(unavailable(err)),
        }
    }

    fn save(&self, map: &BTreeMap<String, String>) -> Result<(), SecretStoreError> {
        let bytes = serde_json::to_vec_pretty(map).map_err(unavailable)?;
        let tmp = self.path.with_extension("tmp");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp).map_err(unavailable)?;
        std::io::Write::write_all(&mut file, &bytes).map_err(unavailable)?;
        file.sync_all().map_err(unavailable)?;
        std::fs::rename(&tmp, &self.path).map_err(unavailable)
    }

    fn update(
        &self,
        change: impl FnOnce(&mut BTreeMap<String, String>),
    ) -> Result<(), SecretStoreError> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut map = self.load()?;
        change(&mut map);
        self.save(&map)
    }
}

fn unavailable(err: impl std::fmt::Display) -> SecretStoreError {
    SecretStoreError::Unavailable {
        reason: err.to_string(),
    }
}

impl SecretStore for FileSecretStore {
    fn get(&self, key: String) -> Result<Option<String>, SecretStoreError> {
        Ok(self.read()?.get(&key).cloned())
    }

    fn set(&self, key: String, value: String) -> Result<(), SecretStoreError> {
        self.update(|map| {
            map.insert(key, value);
        })
    }

    fn delete(&self, key: String) -> Result<(), SecretStoreError> {
        self.update(|map| {
            map.remove(&key);
        })
    }
}
