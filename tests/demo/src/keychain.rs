//! The demo's stand-in for the iOS Keychain: the test-support file-backed secret store, kept
//! next to the database so that a second run (a real process restart) finds the secrets it left,
//! as an iPad app finds its Keychain items. Passerelle itself never writes a secret to SQLite.

use std::path::Path;

pub use passerelle_test_support::file_secrets::FileSecretStore as FileKeychain;

/// File name of the demo keychain inside the data directory.
pub const FILE: &str = "demo-keychain.json";

/// The keychain of `data_dir` (empty when there is none yet).
pub fn open(data_dir: &Path) -> Result<FileKeychain, String> {
    FileKeychain::open(data_dir.join(FILE))
}
