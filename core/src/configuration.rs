//! Restart-to-apply: the active configuration the engine runs on, the pending changes waiting for
//! `restart()` or the next `open()`, and the one transaction that promotes them.

use std::time::SystemTime;

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use crate::config::Settings;
use crate::connection::{ConnectionState, HubriseConnection};
use crate::error::Result;
use crate::failpoint;
use crate::store::snapshots::{self, Slot};
use crate::store::{connections, to_system_time};

/// The configuration the engine runs on, as recorded at the last apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigurationSnapshot {
    /// Grows by one at every apply.
    pub version: u64,
    pub settings: Settings,
    /// POS account the connections belong to, when one is signed in.
    pub pos_account_id: Option<String>,
    /// Active connections, by local id.
    pub connection_ids: Vec<String>,
    /// When it was applied (ms since the epoch).
    pub applied_at_ms: i64,
}

impl ConfigurationSnapshot {
    pub fn applied_at(&self) -> SystemTime {
        to_system_time(self.applied_at_ms)
    }
}

/// A change that waits for a restart (or for the host's confirmation).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum ConfigChange {
    /// A connection that becomes active at the next restart; when `needs_confirmation`, only
    /// after `confirm_connection`.
    ConnectionAdded { connection: HubriseConnection },
    /// A disconnected connection that leaves the list at the next restart.
    ConnectionRemoved { connection: HubriseConnection },
    /// Settings recorded by `update_settings`.
    SettingsChanged { active: Settings, pending: Settings },
}

impl ConfigChange {
    /// Whether a restart would apply this change now.
    pub fn applies_on_restart(&self) -> bool {
        match self {
            Self::ConnectionAdded { connection } => !connection.needs_confirmation,
            Self::ConnectionRemoved { .. } | Self::SettingsChanged { .. } => true,
        }
    }
}

/// Loads the active snapshot, creating version 1 from `initial` on a new database.
pub fn load_or_init_active(conn: &Connection, initial: &Settings) -> Result<ConfigurationSnapshot> {
    if let Some((_, snapshot)) = snapshots::load::<ConfigurationSnapshot>(conn, Slot::Active)? {
        return Ok(snapshot);
    }
    let snapshot = ConfigurationSnapshot {
        version: 1,
        settings: initial.clone(),
        pos_account_id: None,
        connection_ids: Vec::new(),
        applied_at_ms: crate::store::now_ms(),
    };
    snapshots::save(conn, Slot::Active, snapshot.version, &snapshot)?;
    Ok(snapshot)
}

/// Settings waiting for a restart, if any.
pub fn pending_settings(conn: &Connection) -> Result<Option<Settings>> {
    Ok(snapshots::load::<Settings>(conn, Slot::Pending)?.map(|(_, s)| s))
}

/// Records `settings` as pending, or drops the pending entry when they equal the active ones.
pub fn record_settings(
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
pub fn pending_changes(
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
pub fn activate(
    conn: &Connection,
    active: &ConfigurationSnapshot,
    connection_id: &str,
) -> Result<ConfigurationSnapshot> {
    // Re-checked inside the transaction: a refusal or a reload may have removed it meanwhile.
    if connections::get(conn, connection_id)?.public.state != ConnectionState::Pending {
        return Err(crate::error::PasserelleError::InvalidState {
            reason: "the connection is no longer waiting for a confirmation".into(),
        });
    }
    connections::set_state(conn, connection_id, ConnectionState::Active)?;
    let mut next = active.clone();
    next.version += 1;
    if !next.connection_ids.iter().any(|id| id == connection_id) {
        next.connection_ids.push(connection_id.to_owned());
    }
    next.applied_at_ms = crate::store::now_ms();
    snapshots::save(conn, Slot::Active, next.version, &next)?;
    Ok(next)
}

/// Promotes pending to active: confirmed pending connections, removals and settings, and writes
/// the new active snapshot. Call inside ONE transaction: a crash leaves old or new, never a mix.
pub fn apply_pending(
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
        applied_at_ms: crate::store::now_ms(),
    };
    snapshots::save(conn, Slot::Active, next.version, &next)?;
    failpoint::hit("apply.before_commit");
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ApplyMode;
    use proptest::prelude::*;

    fn settings() -> impl Strategy<Value = Settings> {
        (1u32..100_000, any::<bool>(), "\\PC{0,40}").prop_map(|(poll, immediate, scope)| Settings {
            poll_interval_secs: poll,
            apply_mode: if immediate {
                ApplyMode::Immediately
            } else {
                ApplyMode::OnRestart
            },
            scope,
        })
    }

    proptest! {
        #[test]
        fn snapshots_round_trip_through_their_stored_json(
            version in any::<u64>(),
            settings in settings(),
            account in proptest::option::of("[a-z0-9-]{1,20}"),
            ids in proptest::collection::vec("[0-9a-f]{32}", 0..5),
            applied_at_ms in any::<i64>(),
        ) {
            let snapshot = ConfigurationSnapshot { version, settings, pos_account_id: account, connection_ids: ids, applied_at_ms };
            let json = serde_json::to_string(&snapshot).unwrap();
            prop_assert_eq!(serde_json::from_str::<ConfigurationSnapshot>(&json).unwrap(), snapshot);
        }
    }
}
