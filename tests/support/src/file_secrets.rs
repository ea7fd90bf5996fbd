//! A secret store kept in a JSON file, standing in for the Keychain in a process that is killed
//! and started again (the kill tests, the service soak): an in-memory store would forget the HubRise tokens and
//! the POS session, whose refresh token rotates. Writes go to a temporary file renamed over the
//! old one, so a kill never leaves half a file.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use passerelle_core::{SecretStore, SecretStoreError};

pub struct FileSecretStore {
    path: PathBuf,
    lock: Mutex<()>,
}

impl FileSecretStore {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            lock: Mutex::new(()),
        }
    }

    fn load(&self) -> Result<BTreeMap<String, String>, SecretStoreError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(unavailable),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(err) => Err(unavailable(err)),
        }
    }

    fn save(&self, map: &BTreeMap<String, String>) -> Result<(), SecretStoreError> {
        let tmp = self.path.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_vec(map).map_err(unavailable)?).map_err(unavailable)?;
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
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        Ok(self.load()?.get(&key).cloned())
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
