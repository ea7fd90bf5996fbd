//! Secrets live only in the host's secret store (the Keychain on iOS), never in SQLite.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::blocking::blocking;

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
/// Methods are synchronous (UniFFI 0.32's async foreign traits break under Swift 6). They are
/// called with no lock of the library held that a synchronous method of the library takes: a
/// store may call the library back, read or write (docs/locks.md).
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
///
/// No lock is held while the host's store runs (docs/locks.md): a store whose `get` or `set`
/// calls back into the library, which reads or writes a secret in turn, neither deadlocks nor
/// fails. See [`Index`] for how the index stays right without it.
#[derive(Clone)]
pub struct Secrets {
    store: Arc<dyn SecretStore>,
    index: Arc<Mutex<Index>>,
}

/// The index in memory, and what the store holds of it.
///
/// Its rules, kept without holding the lock while the host's store runs (a lock held there,
/// or a wait for another thread's write, freezes a store that calls back into the library, on
/// its thread or by waiting for another):
/// - a key enters the index, and the index listing it is written, before its value is written
///   ([`Secrets::set`]); it leaves the index after its value is deleted ([`Secrets::delete`]);
/// - each change is made in memory under the lock and gives a new `version`; the index is then
///   written outside the lock, with the newest version. A later version lists every key an
///   earlier one listed, less keys whose values were already deleted, so writing the newest
///   never drops a change, whoever made it;
/// - writes may overlap (two threads, or the host calling back from inside its own write); when
///   they do, the store holds whichever landed last, possibly an older version. So the write
///   that ends last, when it overlapped another, writes the newest again. A write that
///   overlapped none makes its version `durable`: every write landing after it carries a newer
///   one;
/// - a caller returns once its version is durable, or once it wrote it itself while another,
///   older write is still under way: the one that ends last writes the newest again. It never
///   waits for another thread's write, which may be the one calling back.
///
/// So the index is never lost, and once no write is under way the store holds the newest. In
/// the instant between overlapping writes and the one written again, a key set meanwhile may
/// have its value stored while the index the store holds does not list it yet: a crash exactly
/// then would leave that entry unlisted, an orphan in the Keychain, never a lost or wrong
/// secret. (A store that changed the index from inside every write of it would keep the last
/// writer writing: it writes again [`WRITES_AGAIN`] times at most, then leaves the newest to the
/// next change.)
#[derive(Default)]
struct Index {
    /// The keys, read from the store at the first use (`None` until then).
    keys: Option<BTreeSet<String>>,
    /// Grows by one at each change of `keys`.
    version: u64,
    /// A version the store holds for good (see above).
    durable: u64,
    /// The writes of the index under way.
    in_flight: Vec<IndexWrite>,
    /// Numbers the writes.
    writes: u64,
}

/// How many times a caller writes the index again for others' changes (see [`Index`]).
const WRITES_AGAIN: u32 = 4;

/// One write of the index under way.
struct IndexWrite {
    id: u64,
    /// Another write was under way during some of it: which of them landed last is unknown.
    overlapped: bool,
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
        Ok(self.host_get(key)?.map(Secret))
    }

    /// Stores `value`; the key enters the index first, so no entry is ever written unlisted.
    pub fn set(&self, key: &str, value: &Secret) -> Result<(), SecretStoreError> {
        self.update_index(|index| index.insert(key.to_owned()))?;
        self.host_set(key, value.0.clone())
    }

    pub fn delete(&self, key: &str) -> Result<(), SecretStoreError> {
        self.host_delete(key)?;
        self.update_index(|index| index.remove(key))
    }

    // The host's store, called through `blocking`: a Keychain that takes seconds holds up only
    // its caller, never the runtime's other tasks (design D28).

    fn host_get(&self, key: &str) -> Result<Option<String>, SecretStoreError> {
        blocking(|| self.store.get(key.to_owned()))
    }

    fn host_set(&self, key: &str, value: String) -> Result<(), SecretStoreError> {
        blocking(|| self.store.set(key.to_owned(), value))
    }

    fn host_delete(&self, key: &str) -> Result<(), SecretStoreError> {
        blocking(|| self.store.delete(key.to_owned()))
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
        let index = self.loaded()?;
        Ok(index.keys.iter().flatten().cloned().collect())
    }

    /// Applies `change` to the index and, when `change` says it changed something, returns once
    /// the store holds it (see [`Index`]).
    fn update_index(
        &self,
        change: impl FnOnce(&mut BTreeSet<String>) -> bool,
    ) -> Result<(), SecretStoreError> {
        let mut index = self.loaded()?;
        if !change(index.keys.get_or_insert_with(BTreeSet::new)) {
            return Ok(());
        }
        index.version += 1;
        let mine = index.version;
        self.save(index, mine)
    }

    /// Writes the index until the store holds version `mine` or a newer one (see [`Index`]).
    fn save<'a>(
        &'a self,
        mut index: MutexGuard<'a, Index>,
        mine: u64,
    ) -> Result<(), SecretStoreError> {
        let mut mine_written = false;
        let mut again = 0;
        loop {
            let idle = index.in_flight.is_empty();
            let done = index.durable >= mine || mine_written;
            if done {
                // With no write under way, the newest must be durable: the write that ends last
                // writes it again when overlapping writes left it unsure, a few times at most.
                if !idle || index.durable >= index.version || again == WRITES_AGAIN {
                    return Ok(());
                }
                again += 1;
            }
            index.writes += 1;
            let id = index.writes;
            for other in &mut index.in_flight {
                other.overlapped = true;
            }
            index.in_flight.push(IndexWrite {
                id,
                overlapped: !idle,
            });
            let version = index.version;
            let json = serde_json::to_string(&index.keys).unwrap_or_else(|_| "[]".into());
            drop(index);
            let written = self.host_set(keys::INDEX, json);
            index = self.lock();
            let overlapped = match index.in_flight.iter().position(|w| w.id == id) {
                Some(at) => index.in_flight.remove(at).overlapped,
                None => true,
            };
            match written {
                Ok(()) => {
                    if !overlapped {
                        index.durable = index.durable.max(version);
                    }
                    mine_written |= version >= mine;
                }
                // A write again, this caller's version written already: the next change
                // writes the newest.
                Err(_) if done => return Ok(()),
                Err(err) => return Err(err),
            }
        }
    }

    /// The index, read from the store at the first use. The store is read without the lock; a
    /// thread that read it too (in between, or from inside the host's `get`) keeps the first
    /// one installed, which nothing but this lock's holders changes.
    fn loaded(&self) -> Result<MutexGuard<'_, Index>, SecretStoreError> {
        {
            let index = self.lock();
            if index.keys.is_some() {
                return Ok(index);
            }
        }
        let stored = self.host_get(keys::INDEX)?;
        let mut index = self.lock();
        if index.keys.is_none() {
            // An unreadable index is rebuilt from what is written from now on.
            index.keys = Some(
                stored
                    .and_then(|json| serde_json::from_str(&json).ok())
                    .unwrap_or_default(),
            );
        }
        Ok(index)
    }

    fn lock(&self) -> MutexGuard<'_, Index> {
        self.index.lock().unwrap_or_else(PoisonError::into_inner)
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

    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicBool, Ordering};

    use crate::testing::watchdog::within;

    /// What a [`CallingBack`] store does once, from inside the first call it names.
    type Callback = Box<dyn Fn(&Secrets) + Send + Sync>;

    /// An in-memory store that calls back into the library (its `Secrets`) once, from inside
    /// its first write of the index (`on_index_write`) or read of it (`on_index_read`).
    #[derive(Default)]
    struct CallingBack {
        inner: InMemorySecretStore,
        secrets: OnceLock<Secrets>,
        on_index_write: Option<Callback>,
        on_index_read: Option<Callback>,
        called: AtomicBool,
    }

    impl CallingBack {
        fn call_back(&self, callback: Option<&Callback>) {
            if let (Some(callback), Some(secrets)) = (callback, self.secrets.get())
                && !self.called.swap(true, Ordering::SeqCst)
            {
                callback(secrets);
            }
        }

        /// The index as the store holds it.
        fn stored_index(&self) -> Vec<String> {
            let json = self
                .inner
                .get(keys::INDEX.into())
                .unwrap()
                .unwrap_or_default();
            serde_json::from_str(&json).unwrap()
        }
    }

    impl SecretStore for CallingBack {
        fn get(&self, key: String) -> Result<Option<String>, SecretStoreError> {
            if key == keys::INDEX {
                self.call_back(self.on_index_read.as_ref());
            }
            self.inner.get(key)
        }

        fn set(&self, key: String, value: String) -> Result<(), SecretStoreError> {
            if key == keys::INDEX {
                self.call_back(self.on_index_write.as_ref());
            }
            self.inner.set(key, value)
        }

        fn delete(&self, key: String) -> Result<(), SecretStoreError> {
            self.inner.delete(key)
        }
    }

    fn calling_back(store: CallingBack) -> (Arc<CallingBack>, Secrets) {
        let store = Arc::new(store);
        let secrets = Secrets::new(store.clone());
        let _ = store.secrets.set(secrets.clone());
        (store, secrets)
    }

    fn value(text: &str) -> Secret {
        Secret::new(text)
    }

    #[test]
    fn a_store_that_writes_a_secret_from_inside_its_index_write_neither_freezes_nor_loses_it() {
        let (store, secrets) = within("a secret set from inside the index write", || {
            let (store, secrets) = calling_back(CallingBack {
                on_index_write: Some(Box::new(|secrets: &Secrets| {
                    secrets.set("inner", &value("2")).unwrap();
                    secrets.set("gone", &value("3")).unwrap();
                    secrets.delete("gone").unwrap();
                })),
                ..CallingBack::default()
            });
            secrets.set("outer", &value("1")).unwrap();
            (store, secrets)
        });
        assert_eq!(secrets.written_keys().unwrap(), ["inner", "outer"]);
        // The outer write landed last with what it carried; the newest was written again.
        assert_eq!(store.stored_index(), ["inner", "outer"]);
        assert_eq!(secrets.get("inner").unwrap(), Some(value("2")));
    }

    #[test]
    fn a_store_that_waits_for_another_thread_writing_a_secret_from_its_index_write_does_not_freeze()
    {
        let (store, secrets) = within("a secret set by another thread the store waits for", || {
            let (store, secrets) = calling_back(CallingBack {
                on_index_write: Some(Box::new(|secrets: &Secrets| {
                    let secrets = secrets.clone();
                    std::thread::spawn(move || secrets.set("other", &value("2")))
                        .join()
                        .unwrap()
                        .unwrap();
                })),
                ..CallingBack::default()
            });
            secrets.set("outer", &value("1")).unwrap();
            (store, secrets)
        });
        assert_eq!(secrets.written_keys().unwrap(), ["other", "outer"]);
        assert_eq!(store.stored_index(), ["other", "outer"]);
    }

    #[test]
    fn a_store_that_uses_the_index_from_inside_its_first_read_of_it_does_not_freeze() {
        let (store, secrets) = within("the index used from inside its first read", || {
            let (store, secrets) = calling_back(CallingBack {
                on_index_read: Some(Box::new(|secrets: &Secrets| {
                    assert_eq!(secrets.written_keys().unwrap(), Vec::<String>::new());
                    secrets.set("inner", &value("2")).unwrap();
                })),
                ..CallingBack::default()
            });
            secrets.set("outer", &value("1")).unwrap();
            (store, secrets)
        });
        assert_eq!(secrets.written_keys().unwrap(), ["inner", "outer"]);
        assert_eq!(store.stored_index(), ["inner", "outer"]);
    }

    thread_local! {
        static IN_CALLBACK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    /// A store that sets a new secret from inside every write of the index (but not from inside
    /// itself): each write of the index leaves a newer one to write.
    #[derive(Default)]
    struct Restless {
        inner: InMemorySecretStore,
        secrets: OnceLock<Secrets>,
        set_from_inside: std::sync::atomic::AtomicUsize,
    }

    impl SecretStore for Restless {
        fn get(&self, key: String) -> Result<Option<String>, SecretStoreError> {
            self.inner.get(key)
        }

        fn set(&self, key: String, value: String) -> Result<(), SecretStoreError> {
            if key == keys::INDEX
                && !IN_CALLBACK.get()
                && let Some(secrets) = self.secrets.get()
            {
                IN_CALLBACK.set(true);
                let n = self.set_from_inside.fetch_add(1, Ordering::SeqCst);
                secrets
                    .set(&format!("inner{n}"), &Secret::new("v"))
                    .unwrap();
                IN_CALLBACK.set(false);
            }
            self.inner.set(key, value)
        }

        fn delete(&self, key: String) -> Result<(), SecretStoreError> {
            self.inner.delete(key)
        }
    }

    #[test]
    fn a_store_that_sets_a_secret_from_inside_every_index_write_is_not_written_forever() {
        let (store, secrets) = within("a secret set from inside every index write", || {
            let store = Arc::new(Restless::default());
            let secrets = Secrets::new(store.clone());
            let _ = store.secrets.set(secrets.clone());
            secrets.set("outer", &value("1")).unwrap();
            (store, secrets)
        });
        let inner = store.set_from_inside.load(Ordering::SeqCst);
        assert!(inner <= 1 + WRITES_AGAIN as usize, "{inner} writes");
        assert_eq!(secrets.written_keys().unwrap().len(), inner + 1);
    }

    /// A store whose writes of the index take a while, so that threads' writes overlap.
    #[derive(Default)]
    struct Slow(InMemorySecretStore);

    impl SecretStore for Slow {
        fn get(&self, key: String) -> Result<Option<String>, SecretStoreError> {
            self.0.get(key)
        }

        fn set(&self, key: String, value: String) -> Result<(), SecretStoreError> {
            if key == keys::INDEX {
                std::thread::sleep(std::time::Duration::from_micros(
                    rand::random::<u64>() % 300,
                ));
            }
            self.0.set(key, value)
        }

        fn delete(&self, key: String) -> Result<(), SecretStoreError> {
            self.0.delete(key)
        }
    }

    #[test]
    fn overlapping_writes_of_the_index_leave_the_newest_in_the_store() {
        let store = Arc::new(Slow::default());
        let secrets = Secrets::new(store.clone());
        let threads: Vec<_> = (0..8)
            .map(|thread| {
                let secrets = secrets.clone();
                std::thread::spawn(move || {
                    for round in 0..30 {
                        let key = format!("t{thread}/k{round}");
                        secrets.set(&key, &value("v")).unwrap();
                        if round % 3 == 0 {
                            secrets.delete(&key).unwrap();
                        }
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let mut expected: Vec<String> = (0..8)
            .flat_map(|t| {
                (0..30)
                    .filter(|r| r % 3 != 0)
                    .map(move |r| format!("t{t}/k{r}"))
            })
            .collect();
        expected.sort();
        assert_eq!(secrets.written_keys().unwrap(), expected);
        let stored = store.0.get(keys::INDEX.into()).unwrap().unwrap();
        let stored: Vec<String> = serde_json::from_str(&stored).unwrap();
        assert_eq!(stored, expected, "the store holds the newest index");
    }

    #[test]
    fn a_secret_redacts_itself() {
        let secret = Secret::new("b9922a78d3ffab6b95e9d72e88");
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
    }
}
