//! Sync health as the host shows it (design D21): for each connection, whether orders flow, are
//! late (why, since when, next attempt), need a reconnect, or need attention (items set aside).

use std::time::SystemTime;

/// Where a connection's orders stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum SyncState {
    /// Orders flow: the last attempt succeeded.
    Flowing,
    /// Sync is off (`stop_sync`) or the app is in the background.
    Paused,
    /// No attempt has finished since the app opened.
    Starting,
    /// Orders are late: the last attempts failed; the next one is planned.
    Delayed,
    /// HubRise refused the connection: it must be connected again.
    ReconnectNeeded,
}

/// Why orders are late.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum DelayReason {
    /// HubRise could not be reached at all (no network, DNS, TLS, connection refused).
    Offline,
    /// HubRise answered with a server error.
    HubriseUnavailable,
    /// HubRise's rate limit: waiting as it asked (at most an hour).
    RateLimited,
    /// This device's storage or secret store failed.
    DeviceStorage,
    /// Orders flow, but the read-back of the open orders' status (what other tills changed)
    /// spent its share of HubRise's request budget: statuses set elsewhere show later.
    Budget,
    /// The POS backend's stream, which brings orders as HubRise sends them, is down: orders
    /// come by polling HubRise, up to one poll interval later, until it is back.
    PushChannelDown,
    /// Anything else (an answer this client cannot read, an internal error).
    Other,
}

/// One connection's health.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ConnectionHealth {
    pub connection_id: String,
    pub location_name: Option<String>,
    pub state: SyncState,
    /// When orders last flowed (the last successful attempt).
    pub last_success_at: Option<SystemTime>,
    /// Set while `Delayed`.
    pub delay_reason: Option<DelayReason>,
    /// Since when the attempts fail (the first failure of the current run of failures).
    pub delayed_since: Option<SystemTime>,
    /// When the next attempt is planned.
    pub next_attempt_at: Option<SystemTime>,
    /// The stable code of the last failure (`PasserelleError` codes), for support.
    pub error_code: Option<String>,
    /// HubRise asked to wait longer than Passerelle honours (an hour): the wait was cut.
    pub retry_after_capped: bool,
    /// Events and orders set aside after failing past their budget (`quarantined_items`).
    pub quarantined: u32,
    /// Changes from the till that could not be pushed (`retry_failed_changes`).
    pub failed_changes: u32,
}

impl ConnectionHealth {
    /// Something waits for a person: items set aside or changes that failed.
    pub fn needs_attention(&self) -> bool {
        self.quarantined > 0 || self.failed_changes > 0
    }
}

/// Every active connection's health, and the worst state among them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SyncHealth {
    /// The worst state of any connection (`Flowing` when there is none).
    pub state: SyncState,
    /// Whether any connection needs attention.
    pub needs_attention: bool,
    pub connections: Vec<ConnectionHealth>,
}

impl SyncHealth {
    pub fn new(connections: Vec<ConnectionHealth>) -> Self {
        Self {
            state: connections
                .iter()
                .map(|c| c.state)
                .max()
                .unwrap_or(SyncState::Flowing),
            needs_attention: connections.iter().any(ConnectionHealth::needs_attention),
            connections,
        }
    }
}

/// Something sync set aside so the rest could go on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct QuarantinedItem {
    pub id: i64,
    pub connection_id: String,
    /// An event past its failure budget (`true`), or an order that cannot be identified.
    pub is_event: bool,
    pub event_id: Option<String>,
    /// HubRise's order id, when known.
    pub order_id: Option<String>,
    pub reason: String,
    pub attempts: u32,
    pub quarantined_at: SystemTime,
    /// The body HubRise sent, when there was one (for support; may hold customer data).
    pub raw_body: Option<String>,
}

/// A change from the till that failed past its retry budget; later changes of the same order
/// wait behind it until it is retried.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct FailedChange {
    pub order_id: String,
    pub connection_id: String,
    /// The status it would set.
    pub status: Option<String>,
    pub reason: String,
    pub attempts: u32,
    pub failed_at: SystemTime,
}

/// The database was unreadable and a new one started (design D24): the device kept its HubRise
/// identity; this says what may be lost. Tell the staff to check these orders on HubRise.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct DatabaseRecovery {
    /// When the new database started.
    pub recovered_at: SystemTime,
    /// Where the unreadable file was kept, for support.
    pub kept_aside_at: Option<String>,
    /// Orders whose changes made at the till had not reached HubRise, read from the old file;
    /// `None` when it could not be read: then changes made shortly before may be lost, and the
    /// open orders should be checked on HubRise.
    pub unsent_change_orders: Option<Vec<String>>,
    /// Secret-store entries the lost database named (tokens, sessions), now deleted.
    pub orphaned_secrets_deleted: u32,
}

/// Whether the last reload reached the POS backend.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct BackendStatus {
    /// False when the last reload failed: the last active configuration is in use.
    pub reachable: bool,
    /// Why the last reload failed.
    pub last_error: Option<String>,
    /// When the backend last answered.
    pub last_reloaded_at: Option<SystemTime>,
    /// The POS session is over: the restaurant must sign in again (HubRise orders keep flowing).
    pub sign_in_required: bool,
}
