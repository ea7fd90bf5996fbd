//! The internal error: protocol facts (refused credentials, a rate limit and its wait, a server
//! error, an unreadable body), the library's own facts (the POS session is over, a callback is
//! for another redirect, a connection attempt's state, not found...) and sources (SQLite, I/O,
//! the secret store, the transport), kept until the one conversion to [`PasserelleError`] below
//! ([`Error::to_public`]). There is no pass-through variant: internal code never builds nor
//! matches a public error (the pattern of mozilla application-services' `components/example`).

use std::fmt;
use std::time::Duration;

use super::public::PasserelleError;
use crate::secrets::SecretStoreError;

/// The remote service an answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    HubriseApi,
    HubriseOAuth,
    PosBackend,
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::HubriseApi => "HubRise API",
            Self::HubriseOAuth => "HubRise OAuth",
            Self::PosBackend => "POS backend",
        })
    }
}

/// What went wrong inside the library, in the library's terms: the code deciding what to do next
/// branches on these, never on the public error. Messages carry no secret: reasons are written by
/// this crate, HubRise's short error messages, or sources stripped of their URL.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    // -- What a remote service answered ---------------------------------------------------------
    /// The service refused the credentials it was given: a HubRise token revoked, blocked or
    /// suspended, or a POS access token (the POS session may still refresh; once it cannot,
    /// [`Error::PosSessionOver`]).
    #[error("{service} refused the credentials: {reason}")]
    Unauthorized { service: Service, reason: String },
    /// A rate limit, with how long to wait before the next request; `capped` when the server
    /// asked for longer than Passerelle honours.
    #[error("{service} rate limit reached; wait {wait:?}")]
    RateLimited {
        service: Service,
        wait: Duration,
        capped: bool,
    },
    /// An error status with no better name.
    #[error("{service} answered {status} ({error_type}): {message}")]
    Server {
        service: Service,
        status: u16,
        error_type: String,
        message: String,
    },
    /// A success answer whose body this client cannot read, or that lacks what it must hold.
    #[error("{service} sent an answer this client cannot read: {reason}")]
    MalformedBody { service: Service, reason: String },
    /// An answer longer than this client reads.
    #[error("{service} sent an answer larger than {limit} bytes")]
    BodyTooLarge { service: Service, limit: u64 },
    /// No answer: refused, timed out, dropped. The source has no URL (a query could hold a code).
    #[error("{service}: {kind}: {source}")]
    Transport {
        service: Service,
        kind: &'static str,
        #[source]
        source: reqwest::Error,
    },
    /// No answer within the time the library gives a whole operation.
    #[error("{service} did not answer in time")]
    NoAnswerInTime { service: Service },

    // -- The POS account and its session ---------------------------------------------------------
    /// The operation needs a signed-in POS account.
    #[error("no POS account is signed in")]
    NotSignedIn,
    /// The POS session is over: none is kept, or the backend refused to refresh it.
    #[error("the POS session is over")]
    PosSessionOver,
    /// The backend refused the e-mail and password.
    #[error("wrong e-mail or password")]
    InvalidCredentials,
    /// The backend refuses sign-in for a while after too many wrong passwords.
    #[error("sign-in is locked for {retry_after_secs} s")]
    LockedOut { retry_after_secs: u64 },

    // -- A connection attempt (OAuth) ------------------------------------------------------------
    /// The URL is no callback to this redirect URI (another redirect may be the one).
    #[error("not a callback to this redirect URI: {reason}")]
    NotThisRedirect { reason: String },
    /// The callback carries no `state`.
    #[error("the callback carries no state")]
    StateMissing,
    /// The `state` belongs to no attempt started on this device.
    #[error("the state matches no connection attempt")]
    StateUnknown,
    /// The `state` was already used.
    #[error("the connection attempt was already completed")]
    StateReplayed,
    /// The `state` belongs to another attempt (or another account's).
    #[error("the state does not match the connection attempt")]
    StateMismatch,
    /// The attempt outlived the code's lifetime.
    #[error("the connection attempt expired")]
    FlowExpired,
    /// The restaurant refused on the consent page.
    #[error("the connection was refused on HubRise's page")]
    AccessDenied,
    /// The callback carries neither a code nor an error.
    #[error("the callback carries no authorization code")]
    CodeMissing,
    /// The token endpoint refused the code.
    #[error("the authorization code was refused: {reason}")]
    InvalidGrant { reason: String },
    /// The token endpoint refused the client credentials.
    #[error("the client credentials were refused")]
    InvalidClient,
    /// A token handed over for an off-device connection is for another location or account.
    #[error("the connection's token does not match: {reason}")]
    ConnectionMismatch { reason: String },

    // -- What the caller asked for -----------------------------------------------------------------
    /// No connection, order or item has this id (for this account).
    #[error("not found: {what}")]
    NotFound { what: String },
    /// Not allowed in the current state.
    #[error("not allowed now: {reason}")]
    InvalidState { reason: String },
    /// A setting the library needs is missing or unusable.
    #[error("invalid configuration: {field}: {reason}")]
    InvalidConfig { field: String, reason: String },

    // -- The data directory, the database, the secret store ----------------------------------------
    /// The data directory cannot be created or written.
    #[error("data directory unusable ({path}): {reason}")]
    DataDirectory { path: String, reason: String },
    /// Another instance holds the data directory's lock.
    #[error("the data directory {path} is in use")]
    DataDirectoryInUse { path: String },
    /// The database is no Passerelle database, or is corrupt; it was moved to `moved_to`.
    #[error("the database was unreadable and was moved to {moved_to}")]
    CorruptDatabase { moved_to: String },
    /// The database was written by a newer build.
    #[error("schema version {found}, newer than {supported}")]
    NewerSchema { found: u32, supported: u32 },
    /// The store was closed.
    #[error("the store is closed")]
    Closed,
    /// Stored data this build cannot read (or a SQLite this build cannot use).
    #[error("storage: {reason}")]
    Storage { reason: String },
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    SecretStore(#[from] SecretStoreError),
    /// A value kept in the secret store that this build cannot read.
    #[error("unreadable secret: {what}")]
    UnreadableSecret { what: String },

    /// A broken invariant inside the library.
    #[error("internal error: {reason}")]
    Internal { reason: String },
}

impl Error {
    /// A broken invariant inside the library.
    pub fn internal(reason: impl Into<String>) -> Self {
        Self::Internal {
            reason: reason.into(),
        }
    }

    /// A broken invariant, from any displayable error.
    pub fn internal_from(err: impl fmt::Display) -> Self {
        Self::internal(err.to_string())
    }

    /// Stored data this build cannot read.
    pub fn storage(reason: impl fmt::Display) -> Self {
        Self::Storage {
            reason: reason.to_string(),
        }
    }

    /// A transport failure of `service`, described by what happened (never by its URL).
    pub fn transport(service: Service, err: reqwest::Error) -> Self {
        let kind = if err.is_timeout() {
            "timed out"
        } else if err.is_connect() {
            "could not connect"
        } else {
            "connection failed"
        };
        Self::Transport {
            service,
            kind,
            source: err.without_url(),
        }
    }

    /// Whether the POS session is over or its token was refused: the restaurant must sign in
    /// again unless a refresh succeeds.
    pub fn ends_pos_session(&self) -> bool {
        matches!(
            self,
            Self::PosSessionOver
                | Self::Unauthorized {
                    service: Service::PosBackend,
                    ..
                }
        )
    }

    /// Whether the same operation may succeed later without anyone doing anything.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport { .. }
            | Self::NoAnswerInTime { .. }
            | Self::RateLimited { .. }
            | Self::Sqlite(_)
            | Self::Io(_)
            | Self::Storage { .. } => true,
            Self::Server { status, .. } => *status >= 500,
            Self::Unauthorized { .. }
            | Self::MalformedBody { .. }
            | Self::BodyTooLarge { .. }
            | Self::NotSignedIn
            | Self::PosSessionOver
            | Self::InvalidCredentials
            | Self::LockedOut { .. }
            | Self::NotThisRedirect { .. }
            | Self::StateMissing
            | Self::StateUnknown
            | Self::StateReplayed
            | Self::StateMismatch
            | Self::FlowExpired
            | Self::AccessDenied
            | Self::CodeMissing
            | Self::InvalidGrant { .. }
            | Self::InvalidClient
            | Self::ConnectionMismatch { .. }
            | Self::NotFound { .. }
            | Self::InvalidState { .. }
            | Self::InvalidConfig { .. }
            | Self::DataDirectory { .. }
            | Self::DataDirectoryInUse { .. }
            | Self::CorruptDatabase { .. }
            | Self::NewerSchema { .. }
            | Self::Closed
            | Self::SecretStore(_)
            | Self::UnreadableSecret { .. }
            | Self::Internal { .. } => false,
        }
    }

    /// The public error's stable code, for logs.
    pub fn code(&self) -> &'static str {
        self.to_public().code()
    }

    /// The error as the host sees it. The only mapping from internal to public errors: each
    /// internal fact has one public form, and no public error passes through.
    pub fn to_public(&self) -> PasserelleError {
        use PasserelleError as P;
        match self {
            Self::Unauthorized {
                service: Service::PosBackend,
                ..
            }
            | Self::PosSessionOver => P::SessionExpired,
            Self::Unauthorized { reason, .. } => P::ConnectionRevoked {
                reason: reason.clone(),
            },
            Self::RateLimited { wait, .. } => P::RateLimited {
                retry_after_secs: wait.as_secs(),
            },
            Self::Server {
                service: Service::PosBackend,
                status: 500..,
                message,
                ..
            } => P::Network {
                reason: message.clone(),
            },
            Self::Server {
                status,
                error_type,
                message,
                ..
            } => P::HubriseApi {
                status: *status,
                error_type: error_type.clone(),
                message: message.clone(),
            },
            Self::MalformedBody { service, reason } => P::UnexpectedResponse {
                service: service.to_string(),
                reason: reason.clone(),
            },
            Self::BodyTooLarge { service, limit } => P::ResponseTooLarge {
                service: service.to_string(),
                limit_bytes: *limit,
            },
            Self::Transport { kind, source, .. } => P::Network {
                reason: format!("{kind}: {source}"),
            },
            Self::NoAnswerInTime { service } => P::Network {
                reason: format!("the {service} did not answer in time"),
            },
            Self::NotSignedIn => P::NotSignedIn,
            Self::InvalidCredentials => P::InvalidCredentials,
            Self::LockedOut { retry_after_secs } => P::LockedOut {
                retry_after_secs: *retry_after_secs,
            },
            Self::NotThisRedirect { reason } => P::RedirectMismatch {
                reason: reason.clone(),
            },
            Self::StateMissing => P::StateMissing,
            Self::StateUnknown => P::StateUnknown,
            Self::StateReplayed => P::StateReplayed,
            Self::StateMismatch => P::StateMismatch,
            Self::FlowExpired => P::FlowExpired,
            Self::AccessDenied => P::AccessDenied,
            Self::CodeMissing => P::CodeMissing,
            Self::InvalidGrant { reason } => P::InvalidGrant {
                reason: reason.clone(),
            },
            Self::InvalidClient => P::InvalidClient,
            Self::ConnectionMismatch { reason } => P::ConnectionMismatch {
                reason: reason.clone(),
            },
            Self::NotFound { what } => P::NotFound { what: what.clone() },
            Self::InvalidState { reason } => P::InvalidState {
                reason: reason.clone(),
            },
            Self::InvalidConfig { field, reason } => P::InvalidConfig {
                field: field.clone(),
                reason: reason.clone(),
            },
            Self::DataDirectory { path, reason } => P::DataDirectory {
                path: path.clone(),
                reason: reason.clone(),
            },
            Self::DataDirectoryInUse { path } => P::DataDirectoryInUse { path: path.clone() },
            Self::CorruptDatabase { moved_to } => P::CorruptDatabase {
                moved_to: moved_to.clone(),
            },
            Self::NewerSchema { found, supported } => P::NewerSchema {
                found: *found,
                supported: *supported,
            },
            Self::Closed => P::Closed,
            Self::Storage { reason } => P::Storage {
                reason: reason.clone(),
            },
            Self::Sqlite(err) => P::Storage {
                reason: err.to_string(),
            },
            Self::Io(err) => P::Storage {
                reason: err.to_string(),
            },
            Self::SecretStore(err) => P::SecretStore {
                reason: err.to_string(),
            },
            Self::UnreadableSecret { what } => P::SecretStore {
                reason: format!("{what} is unreadable"),
            },
            Self::Internal { reason } => P::Internal {
                reason: reason.clone(),
            },
        }
    }
}

impl From<Error> for PasserelleError {
    fn from(err: Error) -> Self {
        err.to_public()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_conversion_keeps_the_public_codes() {
        let cases = [
            (
                Error::Unauthorized {
                    service: Service::HubriseApi,
                    reason: "blocked".into(),
                },
                "connection_revoked",
            ),
            (
                Error::Unauthorized {
                    service: Service::PosBackend,
                    reason: "expired".into(),
                },
                "session_expired",
            ),
            (
                Error::RateLimited {
                    service: Service::HubriseApi,
                    wait: Duration::from_secs(7),
                    capped: false,
                },
                "rate_limited",
            ),
            (
                Error::Server {
                    service: Service::PosBackend,
                    status: 503,
                    error_type: "server_error".into(),
                    message: "down".into(),
                },
                "network",
            ),
            (
                Error::Server {
                    service: Service::HubriseApi,
                    status: 503,
                    error_type: "unknown".into(),
                    message: "down".into(),
                },
                "hubrise_api",
            ),
            (
                Error::MalformedBody {
                    service: Service::HubriseApi,
                    reason: "not JSON".into(),
                },
                "unexpected_response",
            ),
            (Error::Sqlite(rusqlite::Error::InvalidQuery), "storage"),
            (Error::storage("unreadable row"), "storage"),
            (Error::PosSessionOver, "session_expired"),
            (
                Error::NotThisRedirect {
                    reason: "another scheme".into(),
                },
                "redirect_mismatch",
            ),
            (
                Error::NoAnswerInTime {
                    service: Service::PosBackend,
                },
                "network",
            ),
            (
                Error::UnreadableSecret {
                    what: "stored POS session".into(),
                },
                "secret_store",
            ),
            (Error::NotSignedIn, "not_signed_in"),
            (Error::Closed, "closed"),
            (Error::internal("broken"), "internal"),
            (
                Error::SecretStore(SecretStoreError::Unavailable {
                    reason: "locked".into(),
                }),
                "secret_store",
            ),
        ];
        for (err, code) in cases {
            let retryable = err.is_retryable();
            let public = PasserelleError::from(err);
            assert_eq!(public.code(), code);
            assert_eq!(public.is_retryable(), retryable, "{code}");
        }
    }

    #[test]
    fn the_messages_the_host_saw_are_kept() {
        assert_eq!(
            Error::NoAnswerInTime {
                service: Service::PosBackend
            }
            .to_public()
            .to_string(),
            "network error: the POS backend did not answer in time"
        );
        assert_eq!(
            Error::UnreadableSecret {
                what: "stored POS session".into()
            }
            .to_public()
            .to_string(),
            "secret store error: stored POS session is unreadable"
        );
    }

    #[test]
    fn a_rate_limit_keeps_its_wait() {
        let err = Error::RateLimited {
            service: Service::HubriseApi,
            wait: Duration::from_secs(42),
            capped: false,
        };
        assert_eq!(
            err.to_public(),
            PasserelleError::RateLimited {
                retry_after_secs: 42
            }
        );
    }
}
