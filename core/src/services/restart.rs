//! Restart-to-apply: changes (connections, disconnections, settings) wait as *pending* until
//! `restart()` or the next `open()` promotes them in one transaction, while the engine keeps
//! running on the *active* configuration. This service also applies what must apply at once: a
//! change of POS account, a confirmed off-device connection, the immediate apply mode.

use std::sync::Arc;

use rusqlite::Connection;

use super::health::Health;
use super::off_device::OffDevice;
use super::sync::SyncEngine;
use crate::config::{ApplyMode, Settings, ValidatedEndpoints, validate_settings};
use crate::context::{ActiveConfiguration, Context};
use crate::error::{Error, Result};
use crate::events::{EventBus, PasserelleEvent};
use crate::failpoint;
use crate::model::connection::{ConnectionState, HubriseConnection};
use crate::model::snapshot::{ConfigChange, ConfigurationSnapshot};
use crate::store::snapshots::{self, Slot};
use crate::store::{Store, accounts, connection_reads, connections};
use crate::time::now_ms;

pub struct RestartToApply {
    endpoints: Arc<ValidatedEndpoints>,
    store: Arc<Store>,
    events: EventBus,
    active: Arc<ActiveConfiguration>,
    health: Health,
    sync: Arc<SyncEngine>,
    off_device: Arc<OffDevice>,
}

impl RestartToApply {
    pub fn new(
        ctx: &Context,
        health: Health,
        sync: Arc<SyncEngine>,
        off_device: Arc<OffDevice>,
    ) -> Self {
        Self {
            health,
            endpoints: ctx.endpoints.clone(),
            store: ctx.store.clone(),
            events: ctx.events.clone(),
            active: ctx.active.clone(),
            sync,
            off_device,
        }
    }

    /// At `open()`: the POS backend's configuration reloaded, pending changes applied, sync
    /// started.
    pub async fn open(&self) -> Result<()> {
        self.off_device.reload().await;
        self.apply_pending().await?;
        // Names may have changed at HubRise meanwhile: read again at the first cycles.
        self.request_names()?;
        self.sync.start()
    }

    /// Soft restart: stops sync, reloads the POS backend's configuration, applies the pending
    /// changes and starts sync again. Sync restarts even when the apply failed.
    pub async fn restart(&self) -> Result<()> {
        self.sync.stop().await;
        self.sync.enable(true);
        self.off_device.reload().await;
        let applied = self.apply_pending().await;
        self.request_names()?;
        self.sync.start()?;
        applied.map(|_| ())
    }

    /// Marks the names (and the open orders' status) of every connection of the signed-in
    /// account due: the next cycle of each reads them whatever the spacing.
    fn request_names(&self) -> Result<()> {
        self.store.write(|tx| match accounts::current(tx)? {
            Some(account) => connection_reads::request(tx, &account.account_id, true, true),
            None => Ok(()),
        })
    }

    /// The settings the engine runs on.
    pub fn settings(&self) -> Settings {
        self.active.settings()
    }

    /// Version of the active configuration; grows by one at every apply.
    pub fn version(&self) -> u64 {
        self.active.get().version
    }

    /// Changes waiting for a restart or for the host's confirmation.
    pub fn pending_changes(&self) -> Result<Vec<ConfigChange>> {
        let active = self.active.get();
        self.store.read(|conn| {
            let account = accounts::current(conn)?;
            pending_changes(
                conn,
                &active,
                account.as_ref().map(|a| a.account_id.as_str()),
            )
        })
    }

    /// Whether `restart()` would apply something now.
    pub fn restart_required(&self) -> Result<bool> {
        Ok(self
            .pending_changes()?
            .iter()
            .any(ConfigChange::applies_on_restart))
    }

    /// Records new settings; they apply at the next restart (or at once in immediate mode).
    pub async fn update_settings(&self, settings: &Settings) -> Result<()> {
        validate_settings(settings, self.endpoints.hubrise_api.is_loopback)?;
        let active = self.active.get();
        self.store
            .write(|tx| record_settings(tx, &active, settings))?;
        self.changed().await
    }

    /// After any change to the pending configuration: apply it at once in immediate mode,
    /// otherwise tell the host a restart is required.
    pub async fn changed(&self) -> Result<()> {
        if self.active.settings().apply_mode == ApplyMode::Immediately {
            return self.apply_pending().await.map(|_| ());
        }
        let changes = self.pending_changes()?;
        if changes.iter().any(ConfigChange::applies_on_restart) {
            self.events
                .emit(PasserelleEvent::RestartRequired { changes });
        }
        Ok(())
    }

    /// A connection was made or renewed: a renewed active one resumes syncing at once.
    pub async fn connected(&self) -> Result<()> {
        // After `changed`: in immediate mode it has just made the connection active.
        self.changed().await?;
        self.sync.start()
    }

    /// Another account's connections must not keep syncing, so a change of account is applied
    /// at once: its active connections run, the previous account's stop.
    pub async fn account_changed(&self) -> Result<()> {
        let current = self.store.read(accounts::current)?.map(|a| a.account_id);
        if self.active.get().pos_account_id != current {
            self.sync.stop().await;
            self.apply_pending().await?;
            self.sync.start()?;
        }
        self.changed().await
    }

    /// `sync_now` retries a reload of the POS backend's configuration that failed at open or
    /// restart; what it finds waits for a restart like any other change.
    pub async fn reload_if_unreachable(&self) -> Result<()> {
        if self.off_device.status().reachable {
            return Ok(());
        }
        self.off_device.reload().await;
        self.changed().await
    }

    /// Confirms a connection made off the device (shown pending with its names): its token is
    /// fetched from the POS backend and it goes active at once, since the restaurant already
    /// restarted to see it.
    pub async fn confirm(&self, connection_id: &str) -> Result<HubriseConnection> {
        self.off_device.confirm(connection_id).await?;
        {
            let _apply = self.active.lock_apply().await;
            let active = self.active.get();
            let next = self
                .store
                .write(|tx| activate(tx, &active, connection_id))?;
            self.active.set(next);
        }
        self.sync.start()?;
        self.health.announce(connection_id)
    }

    /// Promotes pending to active in one transaction, when there is anything to promote.
    async fn apply_pending(&self) -> Result<ConfigurationSnapshot> {
        let apply = self.active.lock_apply().await;
        let active = self.active.get();
        let applied = self.store.write(|tx| {
            let account = accounts::current(tx)?.map(|a| a.account_id);
            let changes = pending_changes(tx, &active, account.as_deref())?;
            let account_changed = active.pos_account_id != account;
            if !account_changed && !changes.iter().any(ConfigChange::applies_on_restart) {
                return Ok(None);
            }
            apply_pending(tx, &active, account.as_deref()).map(Some)
        })?;
        let Some(next) = applied else {
            return Ok(active);
        };
        self.active.set(next.clone());
        // Announced in the order of the applies (a send, not a call to the host); logged once the
        // apply lock is released: the host's logger may call the library (docs/locks.md).
        self.events.emit(PasserelleEvent::ConfigurationApplied {
            version: next.version,
        });
        drop(apply);
        tracing::info!(target: "passerelle::config", version = next.version, "configuration applied");
        Ok(next)
    }
}

/// Settings waiting for a restart, if any.
fn pending_settings(conn: &Connection) -> Result<Option<Settings>> {
    Ok(snapshots::load::<Settings>(conn, Slot::Pending)?.map(|(_, s)| s))
}

/// Records `settings` as pending, or drops the pending entry when they equal the active ones.
fn record_settings(
    conn: &Connection,
    active: &ConfigurationSnapshot,
    settings: &Settings,
) -> Result<()> {
    if *settings == active.settings {
        return snapshots::clear(conn, Slot::Pending);
    }
    snapshots::save(conn, Slot::Pending, active.version + 1, settings)
}

/// Everything that differs between the active configuration and what a restart would give.
fn pending_changes(
    conn: &Connection,
    active: &ConfigurationSnapshot,
    pos_account_id: Option<&str>,
) -> Result<Vec<ConfigChange>> {
    let mut changes = Vec::new();
    if let Some(account) = pos_account_id {
        for row in connections::list_live(conn, account)? {
            match row.public.state {
                ConnectionState::Pending => changes.push(ConfigChange::ConnectionAdded {
                    connection: row.public,
                }),
                ConnectionState::Removing => changes.push(ConfigChange::ConnectionRemoved {
                    connection: row.public,
                }),
                ConnectionState::Active | ConnectionState::Removed => {}
            }
        }
    }
    if let Some(pending) = pending_settings(conn)? {
        changes.push(ConfigChange::SettingsChanged {
            active: active.settings.clone(),
            pending,
        });
    }
    Ok(changes)
}

/// Makes one confirmed connection active at once (the restaurant already restarted to see it).
fn activate(
    conn: &Connection,
    active: &ConfigurationSnapshot,
    connection_id: &str,
) -> Result<ConfigurationSnapshot> {
    // Re-checked inside the transaction: a refusal or a reload may have removed it meanwhile.
    if connections::get(conn, connection_id)?.public.state != ConnectionState::Pending {
        return Err(Error::InvalidState {
            reason: "the connection is no longer waiting for a confirmation".into(),
        });
    }
    connections::set_state(conn, connection_id, ConnectionState::Active)?;
    let mut next = active.clone();
    next.version += 1;
    if !next.connection_ids.iter().any(|id| id == connection_id) {
        next.connection_ids.push(connection_id.to_owned());
    }
    next.applied_at_ms = now_ms();
    snapshots::save(conn, Slot::Active, next.version, &next)?;
    Ok(next)
}

/// Promotes pending to active: confirmed pending connections, removals and settings, and writes
/// the new active snapshot. Call inside ONE transaction: a crash leaves old or new, never a mix.
fn apply_pending(
    conn: &Connection,
    active: &ConfigurationSnapshot,
    pos_account_id: Option<&str>,
) -> Result<ConfigurationSnapshot> {
    let mut connection_ids = Vec::new();
    if let Some(account) = pos_account_id {
        connections::promote_pending(conn, account)?;
        failpoint::hit("apply.after_promote");
        connections::finish_removals(conn, account)?;
        failpoint::hit("apply.after_removals");
        connection_ids = connections::list_live(conn, account)?
            .into_iter()
            .filter(|row| row.public.state == ConnectionState::Active)
            .map(|row| row.public.id)
            .collect();
    }
    let settings = pending_settings(conn)?.unwrap_or_else(|| active.settings.clone());
    snapshots::clear(conn, Slot::Pending)?;
    failpoint::hit("apply.after_settings");
    let next = ConfigurationSnapshot {
        version: active.version + 1,
        settings,
        pos_account_id: pos_account_id.map(str::to_owned),
        connection_ids,
        applied_at_ms: now_ms(),
    };
    snapshots::save(conn, Slot::Active, next.version, &next)?;
    failpoint::hit("apply.before_commit");
    Ok(next)
}
