//! Restart-to-apply as the host sees it: the configuration the engine runs on, and the changes
//! waiting for a restart.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::config::Settings;
use crate::model::connection::HubriseConnection;
use crate::time::to_system_time;

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
