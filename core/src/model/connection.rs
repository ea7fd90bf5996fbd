//! A HubRise connection as the host shows it: what HubRise asks connected apps to display.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// Where a connection was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum ConnectionOrigin {
    /// On this iPad, through HubRise's consent page.
    Device,
    /// In the POS vendor's web back office.
    PosBackOffice,
    /// From HubRise's back office (CONNECTIONS → Connect).
    HubriseBackOffice,
}

/// Where a connection stands in restart-to-apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum ConnectionState {
    /// Connected; becomes active at the next restart (after confirmation when needed).
    Pending,
    /// Orders flow.
    Active,
    /// Disconnected: sync stopped, token revoked; removed from the list at the next restart.
    Removing,
    /// Removed; kept as history with its orders, never listed.
    Removed,
}

impl ConnectionOrigin {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Device => "device",
            Self::PosBackOffice => "pos_back_office",
            Self::HubriseBackOffice => "hubrise_back_office",
        }
    }

    pub(crate) fn parse(raw: &str) -> Option<Self> {
        [Self::Device, Self::PosBackOffice, Self::HubriseBackOffice]
            .into_iter()
            .find(|o| o.as_str() == raw)
    }
}

impl ConnectionState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Removing => "removing",
            Self::Removed => "removed",
        }
    }

    pub(crate) fn parse(raw: &str) -> Option<Self> {
        [Self::Pending, Self::Active, Self::Removing, Self::Removed]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

/// One HubRise location connected to the POS account.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct HubriseConnection {
    /// Local id, stable across restarts.
    pub id: String,
    pub location_id: String,
    pub location_name: Option<String>,
    /// HubRise account id and name.
    pub account_id: Option<String>,
    pub account_name: Option<String>,
    pub catalog_id: Option<String>,
    pub catalog_name: Option<String>,
    pub customer_list_id: Option<String>,
    pub customer_list_name: Option<String>,
    /// Identifies this installation of the app at HubRise (never an authenticator).
    pub app_instance_id: Option<String>,
    pub origin: ConnectionOrigin,
    pub state: ConnectionState,
    /// Made off the device: the host must confirm it before it can go active (design D3).
    pub needs_confirmation: bool,
    /// HubRise refused the token (revoked, blocked): offer "Reconnect HubRise".
    pub reconnect_needed: bool,
    pub last_failed_at: Option<SystemTime>,
    pub last_failed_reason: Option<String>,
    pub created_at: SystemTime,
}

/// What HubRise says about a location connection (token response fields, `GET /location`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionNames {
    pub location_id: String,
    pub location_name: Option<String>,
    pub account_id: Option<String>,
    pub account_name: Option<String>,
    pub catalog_id: Option<String>,
    pub catalog_name: Option<String>,
    pub customer_list_id: Option<String>,
    pub customer_list_name: Option<String>,
    pub app_instance_id: Option<String>,
}

impl From<&HubriseConnection> for ConnectionNames {
    fn from(c: &HubriseConnection) -> Self {
        ConnectionNames {
            location_id: c.location_id.clone(),
            location_name: c.location_name.clone(),
            account_id: c.account_id.clone(),
            account_name: c.account_name.clone(),
            catalog_id: c.catalog_id.clone(),
            catalog_name: c.catalog_name.clone(),
            customer_list_id: c.customer_list_id.clone(),
            customer_list_name: c.customer_list_name.clone(),
            app_instance_id: c.app_instance_id.clone(),
        }
    }
}

/// What `disconnect` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct DisconnectOutcome {
    /// The connection, now `Removing` until the next restart.
    pub connection: HubriseConnection,
    /// Whether HubRise confirmed the revocation.
    pub revoked: bool,
    /// Why revoking failed, when it did; the local removal went ahead anyway.
    pub revoke_failure: Option<String>,
}

/// What `handle_open_url` recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum OpenUrlOutcome {
    /// The app's own redirect: the attempt completed; the connection waits for a restart.
    Connected { connection: HubriseConnection },
    /// HubRise's "Open" button (Open URL with `app_instance_id`): show this connection.
    ShowConnection { connection: HubriseConnection },
    /// Not a Passerelle URL; the host handles it.
    NotHandled,
}
