//! The parts of a running Passerelle, built once by `open()` and shared by the services, which
//! each take only the parts they use. Nothing here knows a use case: this module sits below the
//! services and above the protocol clients and the foundations. `session_keeper` keeps the POS
//! session the services share.

pub mod session_keeper;

use std::path::Path;
use std::sync::{Arc, RwLock};

use crate::clients::hubrise::api::HubriseApi;
use crate::clients::hubrise::rate_limiter::RateLimiters;
use crate::clients::pos::backend::PosBackend;
use crate::config::{PasserelleConfig, Settings, ValidatedEndpoints, device_id_from_label};
use crate::error::{Error, Result};
use crate::events::PasserelleEvent;
use crate::events::{EventBus, EventListener};
use crate::model::health::DatabaseRecovery;
use crate::model::snapshot::ConfigurationSnapshot;
use crate::secrets::{Secret, SecretStore, Secrets, keys};
use crate::store::snapshots::{self, Slot};
use crate::store::{Store, meta};
use crate::store::{erasure, recovery};
use crate::time::now_ms;
use session_keeper::PosSessionKeeper;

/// Everything the services are built from.
pub struct Context {
    pub config: Arc<PasserelleConfig>,
    pub endpoints: Arc<ValidatedEndpoints>,
    pub store: Arc<Store>,
    pub secrets: Secrets,
    pub events: EventBus,
    /// The per-install id sent to HubRise (design D5).
    pub device_id: Arc<str>,
    pub pos: PosBackend,
    pub sessions: Arc<PosSessionKeeper>,
    pub hubrise: HubriseApi,
    pub rate_limiters: Arc<RateLimiters>,
    pub active: Arc<ActiveConfiguration>,
}

impl Context {
    /// Validates the configuration, opens the data directory and builds the clients. No HTTP
    /// client is built here: the first request builds the process's one client.
    pub fn open(
        config: PasserelleConfig,
        secrets: Arc<dyn SecretStore>,
        listener: Arc<dyn EventListener>,
    ) -> Result<Self> {
        let endpoints = config.validate()?;
        let store = Arc::new(Store::open(Path::new(&config.data_dir))?);
        let secrets = Secrets::new(secrets);
        let events = EventBus::start(listener)
            .map_err(|e| Error::internal(format!("cannot start the event thread: {e}")))?;
        let device_id = establish_identity(&store, &secrets, &events, &config)?;
        let active = store.write(|tx| load_or_init_active(tx, &config.initial_settings))?;
        let pos = PosBackend::new(endpoints.pos.clone(), &config.pos_client_id)?;
        let sessions = Arc::new(PosSessionKeeper::new(
            store.clone(),
            secrets.clone(),
            pos.clone(),
            events.clone(),
        ));
        let hubrise = HubriseApi::new(&endpoints.hubrise_api.base, config.rate_limits.minute_ms);
        Ok(Self {
            rate_limiters: Arc::new(RateLimiters::new(config.rate_limits)),
            config: Arc::new(config),
            endpoints: Arc::new(endpoints),
            store,
            secrets,
            events,
            device_id,
            pos,
            sessions,
            hubrise,
            active: Arc::new(ActiveConfiguration::new(active)),
        })
    }
}

/// The configuration the engine runs on: read by everyone, replaced only by an apply, and
/// applies serialised so two never interleave.
pub struct ActiveConfiguration {
    snapshot: RwLock<ConfigurationSnapshot>,
    apply_lock: tokio::sync::Mutex<()>,
}

impl ActiveConfiguration {
    fn new(snapshot: ConfigurationSnapshot) -> Self {
        Self {
            snapshot: RwLock::new(snapshot),
            apply_lock: tokio::sync::Mutex::new(()),
        }
    }

    /// The snapshot now in use.
    pub fn get(&self) -> ConfigurationSnapshot {
        // Only `set` writes, and it cannot panic halfway: a poisoned lock still holds a snapshot.
        self.snapshot
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The settings now in use.
    pub fn settings(&self) -> Settings {
        self.get().settings
    }

    /// Replaces the snapshot; call with the apply lock held.
    pub fn set(&self, snapshot: ConfigurationSnapshot) {
        *self
            .snapshot
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = snapshot;
    }

    /// Held for the whole of an apply.
    pub async fn lock_apply(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.apply_lock.lock().await
    }
}

/// The device's HubRise identity, kept in the database and in the secret store (design D24).
/// A new database while the secret store still holds an identity is a recovery (the old file
/// was unreadable, or the app was reinstalled): the identity is taken back, the secrets the lost
/// database named are deleted, and the host is told what may be lost. A database that had its
/// identity in a secret store that does not hold it came from another device: a new identity.
fn establish_identity(
    store: &Store,
    secrets: &Secrets,
    events: &EventBus,
    config: &PasserelleConfig,
) -> Result<Arc<str>> {
    let kept = secrets.get(keys::DEVICE_ID)?;
    let kept = kept.as_ref().map(|s| s.expose());
    let in_database = store.read(|c| meta::get(c, meta::DEVICE_ID))?.is_some();
    let recovered = kept.is_some() && !in_database;
    let marked = store
        .read(|c| meta::get(c, meta::DEVICE_ID_IN_SECRET_STORE))?
        .is_some();
    let moved = kept.is_none() && in_database && config.device_id.is_none() && marked;
    if moved {
        // Another device's database (a backup restored on a new iPad): speaking as that device
        // would get its HubRise token and event queue (design D5), and the two tills would take
        // each other's orders. A new identity; the tokens did not come along either, so its
        // connections are made again.
        tracing::warn!(target: "passerelle::store", "database from another device: new device identity");
        store.write(|tx| forget_device_id(tx))?;
    } else if kept.is_none() && in_database {
        // A database from before the identity was kept in the secret store: its entries were
        // written before `Secrets` listed them, so list them now, or a later recovery would
        // leave them behind.
        secrets.track(store.read(named_secrets)?)?;
    }
    let device_id = store.write(|tx| {
        load_or_create_device_id(
            tx,
            config.device_id.as_deref(),
            config.device_label.as_deref(),
            kept,
        )
    })?;
    if kept != Some(device_id.as_str()) {
        secrets.set(keys::DEVICE_ID, &Secret::new(device_id.clone()))?;
    }
    if !marked {
        store.write(|tx| meta::set(tx, meta::DEVICE_ID_IN_SECRET_STORE, "1"))?;
    }
    if recovered {
        let recovery = recover(store, secrets, Path::new(&config.data_dir))?;
        tracing::warn!(target: "passerelle::store", orphans = recovery.orphaned_secrets_deleted, "database recovered with the device's identity");
        events.emit(PasserelleEvent::DatabaseRecovered { recovery });
    }
    Ok(device_id.into())
}

/// The database's device identity, so that a new one is made.
fn forget_device_id(conn: &rusqlite::Connection) -> Result<()> {
    for key in [meta::DEVICE_ID, meta::DEVICE_ID_LABEL, meta::DEVICE_ID_SENT] {
        meta::delete(conn, key)?;
    }
    Ok(())
}

/// Every secret-store key the database names, all accounts together.
fn named_secrets(conn: &rusqlite::Connection) -> Result<Vec<String>> {
    let mut named = Vec::new();
    for account in erasure::accounts(conn)? {
        named.extend(erasure::secret_keys(conn, &account)?);
    }
    Ok(named)
}

/// After a recovery: the lost database's secrets go, the first catch-up of the connections made
/// again reaches back 24 h (`connections::insert`), and what the old file still tells is read.
fn recover(store: &Store, secrets: &Secrets, dir: &Path) -> Result<DatabaseRecovery> {
    let mut orphans = 0;
    for key in secrets.written_keys()? {
        if keys::is_device_level(&key) {
            continue;
        }
        // Listed at an upgrade from what the database named: it may never have been written.
        if secrets.get(&key)?.is_some() {
            orphans += 1;
        }
        secrets.delete(&key)?;
    }
    let recovered_at = now_ms();
    store.write(|tx| meta::set(tx, meta::RECOVERED_AT, &recovered_at.to_string()))?;
    let aside = recovery::newest_aside(dir);
    Ok(DatabaseRecovery {
        recovered_at: crate::time::to_system_time(recovered_at),
        unsent_change_orders: aside.as_deref().and_then(recovery::unsent_changes),
        kept_aside_at: aside.map(|path| path.display().to_string()),
        orphaned_secrets_deleted: orphans,
    })
}

/// The host's device id when given; else the one kept for this install (in the database, or in
/// the secret store when the database is new), made again from the host's label only while it
/// has never been sent to HubRise (HubRise shows it on its CONNECTIONS page, so it must stay the
/// same once used); else a new one from the label.
fn load_or_create_device_id(
    conn: &rusqlite::Connection,
    configured: Option<&str>,
    label: Option<&str>,
    kept: Option<&str>,
) -> Result<String> {
    if let Some(id) = configured {
        meta::set(conn, meta::DEVICE_ID, id)?;
        return Ok(id.to_owned());
    }
    if meta::get(conn, meta::DEVICE_ID)?.is_none()
        && let Some(id) = kept
    {
        // Taken back after a recovery: it was in use, so it never changes again.
        meta::set(conn, meta::DEVICE_ID, id)?;
        meta::set(conn, meta::DEVICE_ID_SENT, "1")?;
        return Ok(id.to_owned());
    }
    let label = label.map(str::trim).filter(|l| !l.is_empty());
    if let Some(id) = meta::get(conn, meta::DEVICE_ID)? {
        let sent = meta::get(conn, meta::DEVICE_ID_SENT)?.is_some();
        let made_from = meta::get(conn, meta::DEVICE_ID_LABEL)?;
        if sent || label.is_none() || made_from.as_deref() == label {
            return Ok(id);
        }
    }
    let id = device_id_from_label(label.unwrap_or_default(), &short_suffix());
    meta::set(conn, meta::DEVICE_ID, &id)?;
    meta::set(conn, meta::DEVICE_ID_LABEL, label.unwrap_or_default())?;
    Ok(id)
}

/// Four random characters of `[a-z0-9]`: two tills with the same label stay apart.
fn short_suffix() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..4)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect()
}

/// Loads the active snapshot, creating version 1 from `initial` on a new database.
fn load_or_init_active(
    conn: &rusqlite::Connection,
    initial: &Settings,
) -> Result<ConfigurationSnapshot> {
    if let Some((_, snapshot)) = snapshots::load::<ConfigurationSnapshot>(conn, Slot::Active)? {
        return Ok(snapshot);
    }
    let snapshot = ConfigurationSnapshot {
        version: 1,
        settings: initial.clone(),
        pos_account_id: None,
        connection_ids: Vec::new(),
        applied_at_ms: now_ms(),
    };
    snapshots::save(conn, Slot::Active, snapshot.version, &snapshot)?;
    Ok(snapshot)
}
