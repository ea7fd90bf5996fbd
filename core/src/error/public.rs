//! The public, typed error of every Passerelle operation: what the host sees, over the FFI too.
//!
//! Each variant has a stable [`PasserelleError::code`] the host localises (the people at the till
//! read French or English, never a Rust message). Messages never carry a secret: variants hold
//! reasons written by this crate, never a raw server body or a URL with a query string.

/// What went wrong, typed so the host can react (retry, ask to reconnect, show a message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Error))]
pub enum PasserelleError {
    /// A field of `PasserelleConfig` is unusable (malformed URL, empty client id, ...).
    #[error("invalid configuration: {field}: {reason}")]
    InvalidConfig { field: String, reason: String },
    /// The data directory is missing and cannot be created, or cannot be written.
    #[error("data directory unusable ({path}): {reason}")]
    DataDirectory { path: String, reason: String },
    /// The database file was not a Passerelle database or was corrupt. It was moved aside, never
    /// deleted; opening again starts from an empty database.
    #[error("the database was unreadable and has been kept aside at {moved_to}")]
    CorruptDatabase { moved_to: String },
    /// Another Passerelle instance (in this process or another) has this data directory open.
    /// Close it first (`close()`), or use another directory.
    #[error("the data directory {path} is in use by another Passerelle instance")]
    DataDirectoryInUse { path: String },
    /// This instance was closed (`close()`): open a new one.
    #[error("this Passerelle instance is closed")]
    Closed,
    /// The database was written by a newer Passerelle; it was left untouched.
    #[error("the database has schema version {found}, newer than this build's {supported}")]
    NewerSchema { found: u32, supported: u32 },
    /// SQLite failed in a way that is not corruption (disk full, I/O error, ...).
    #[error("storage error: {reason}")]
    Storage { reason: String },
    /// The host's secret store (Keychain) refused an operation.
    #[error("secret store error: {reason}")]
    SecretStore { reason: String },
    /// The operation needs a signed-in POS account.
    #[error("no POS account is signed in")]
    NotSignedIn,
    /// The POS account's e-mail or password is wrong. Not retried automatically.
    #[error("wrong e-mail or password")]
    InvalidCredentials,
    /// Too many wrong passwords: the POS backend refuses sign-in for a while.
    #[error("sign-in is locked for {retry_after_secs} s after too many attempts")]
    LockedOut { retry_after_secs: u64 },
    /// The POS session expired and could not be refreshed: sign in again.
    #[error("the POS session has expired; sign in again")]
    SessionExpired,
    /// The network or a server failed in a way that may pass: try again later.
    #[error("network error: {reason}")]
    Network { reason: String },
    /// A server answered something this client cannot use (HTML instead of JSON, a missing field).
    #[error("unexpected answer from {service}: {reason}")]
    UnexpectedResponse { service: String, reason: String },
    /// A server's answer was larger than Passerelle reads (a few MB for orders and pages, less
    /// for tokens and errors): it was not read.
    #[error("the answer from {service} is larger than {limit_bytes} bytes")]
    ResponseTooLarge { service: String, limit_bytes: u64 },
    /// The token handed over for a connection made off the device is for another location or
    /// account than the one shown for confirmation: nothing was routed.
    #[error("the connection's token does not match the location confirmed: {reason}")]
    ConnectionMismatch { reason: String },
    /// The OAuth callback URL does not match the configured redirect URI.
    #[error("the callback URL does not match the configured redirect URI: {reason}")]
    RedirectMismatch { reason: String },
    /// The callback carries no `state`.
    #[error("the callback carries no state")]
    StateMissing,
    /// The callback's `state` belongs to no connection attempt started on this device.
    #[error("the callback's state matches no connection attempt")]
    StateUnknown,
    /// The callback's `state` was already used (a replayed callback).
    #[error("this connection attempt was already completed")]
    StateReplayed,
    /// The callback's `state` does not belong to the attempt it was given for.
    #[error("the callback's state does not match the connection attempt")]
    StateMismatch,
    /// The connection attempt is older than HubRise's 10-minute code lifetime.
    #[error("the connection attempt expired; start again")]
    FlowExpired,
    /// The restaurant clicked "Deny" on HubRise's consent page.
    #[error("the connection was refused on HubRise's page")]
    AccessDenied,
    /// The callback carries neither a code nor an error.
    #[error("the callback carries no authorization code")]
    CodeMissing,
    /// HubRise (or the broker) refused the code: expired, already used or unknown.
    #[error("HubRise refused the authorization code: {reason}")]
    InvalidGrant { reason: String },
    /// HubRise refused the client credentials (wrong client id or secret).
    #[error("HubRise refused the app's client credentials")]
    InvalidClient,
    /// HubRise refused the access token: the connection was revoked, blocked or suspended.
    #[error("HubRise refused the connection: {reason}")]
    ConnectionRevoked { reason: String },
    /// HubRise's rate limit was reached.
    #[error("HubRise's rate limit was reached; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// HubRise answered with an error this client has no better name for.
    #[error("HubRise error {status} ({error_type}): {message}")]
    HubriseApi {
        status: u16,
        error_type: String,
        message: String,
    },
    /// No connection or order has this id.
    #[error("not found: {what}")]
    NotFound { what: String },
    /// The operation is not allowed in the current state (e.g. confirm an active connection).
    #[error("not allowed now: {reason}")]
    InvalidState { reason: String },
    /// The caller cancelled the operation (its Swift task was cancelled); its work stopped.
    #[error("the operation was cancelled")]
    Cancelled,
    /// A bug: a panic or an invariant broken inside the library. Never a crash of the host.
    #[error("internal error: {reason}")]
    Internal { reason: String },
}

impl PasserelleError {
    /// A stable code for the host to localise and log. Never changes once published.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidConfig { .. } => "invalid_config",
            Self::DataDirectory { .. } => "data_directory",
            Self::CorruptDatabase { .. } => "corrupt_database",
            Self::DataDirectoryInUse { .. } => "data_directory_in_use",
            Self::Closed => "closed",
            Self::NewerSchema { .. } => "newer_schema",
            Self::Storage { .. } => "storage",
            Self::SecretStore { .. } => "secret_store",
            Self::NotSignedIn => "not_signed_in",
            Self::InvalidCredentials => "invalid_credentials",
            Self::LockedOut { .. } => "locked_out",
            Self::SessionExpired => "session_expired",
            Self::Network { .. } => "network",
            Self::UnexpectedResponse { .. } => "unexpected_response",
            Self::ResponseTooLarge { .. } => "response_too_large",
            Self::ConnectionMismatch { .. } => "connection_mismatch",
            Self::RedirectMismatch { .. } => "redirect_mismatch",
            Self::StateMissing => "state_missing",
            Self::StateUnknown => "state_unknown",
            Self::StateReplayed => "state_replayed",
            Self::StateMismatch => "state_mismatch",
            Self::FlowExpired => "flow_expired",
            Self::AccessDenied => "access_denied",
            Self::CodeMissing => "code_missing",
            Self::InvalidGrant { .. } => "invalid_grant",
            Self::InvalidClient => "invalid_client",
            Self::ConnectionRevoked { .. } => "connection_revoked",
            Self::RateLimited { .. } => "rate_limited",
            Self::HubriseApi { .. } => "hubrise_api",
            Self::NotFound { .. } => "not_found",
            Self::InvalidState { .. } => "invalid_state",
            Self::Cancelled => "cancelled",
            Self::Internal { .. } => "internal",
        }
    }

    /// Whether trying the same operation again later may succeed without the user doing anything.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Network { .. } | Self::RateLimited { .. } | Self::Storage { .. }
        ) || matches!(self, Self::HubriseApi { status, .. } if *status >= 500)
    }
}

/// The code and retryability as methods of the error in every binding, not free functions
/// (Swift's package reads them as the properties `code` and `isRetryable`).
#[cfg(feature = "uniffi")]
#[uniffi::export]
impl PasserelleError {
    /// A stable code for the host to localise and log. Never changes once published.
    #[uniffi::method(name = "stable_code")]
    pub fn stable_code(&self) -> String {
        self.code().to_owned()
    }

    /// Whether trying the same operation again later may succeed without the user doing anything.
    #[uniffi::method(name = "retryable")]
    pub fn retryable(&self) -> bool {
        self.is_retryable()
    }
}
