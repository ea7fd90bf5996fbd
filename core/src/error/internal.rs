//! The internal error: protocol facts (refused credentials, a rate limit and its wait, a server
//! error, an unreadable body) and sources (SQLite, I/O, the secret store, the transport), kept
//! until the one conversion to [`PasserelleError`] below.

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

/// What went wrong inside the library. Messages carry no secret: reasons are written by this
/// crate, HubRise's short error messages, or sources stripped of their URL.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The service refused the credentials: a HubRise token revoked, blocked or suspended, or a
    /// POS session that is over.
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
    /// A success answer whose body this client cannot read.
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
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    SecretStore(#[from] SecretStoreError),
    /// An outcome already in the host's terms (a refused flow, a validation, not found...).
    #[error(transparent)]
    Public(#[from] PasserelleError),
}

impl Error {
    /// A broken invariant inside the library.
    pub fn internal(reason: impl Into<String>) -> Self {
        Self::Public(PasserelleError::Internal {
            reason: reason.into(),
        })
    }

    /// A broken invariant, from any displayable error.
    pub fn internal_from(err: impl fmt::Display) -> Self {
        Self::internal(err.to_string())
    }

    /// Stored data this build cannot read.
    pub fn storage(reason: impl fmt::Display) -> Self {
        Self::Public(PasserelleError::Storage {
            reason: reason.to_string(),
        })
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

    /// Whether the same operation may succeed later without anyone doing anything.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport { .. } | Self::RateLimited { .. } | Self::Sqlite(_) | Self::Io(_) => {
                true
            }
            Self::Server { status, .. } => *status >= 500,
            Self::Public(err) => err.is_retryable(),
            Self::Unauthorized { .. }
            | Self::MalformedBody { .. }
            | Self::BodyTooLarge { .. }
            | Self::SecretStore(_) => false,
        }
    }

    /// The public error's stable code, for logs.
    pub fn code(&self) -> &'static str {
        self.to_public().code()
    }

    /// The error as the host sees it. The only mapping from internal to public errors.
    pub fn to_public(&self) -> PasserelleError {
        match self {
            Self::Unauthorized {
                service: Service::PosBackend,
                ..
            } => PasserelleError::SessionExpired,
            Self::Unauthorized { reason, .. } => PasserelleError::ConnectionRevoked {
                reason: reason.clone(),
            },
            Self::RateLimited { wait, .. } => PasserelleError::RateLimited {
                retry_after_secs: wait.as_secs(),
            },
            Self::Server {
                service: Service::PosBackend,
                status: 500..,
                message,
                ..
            } => PasserelleError::Network {
                reason: message.clone(),
            },
            Self::Server {
                status,
                error_type,
                message,
                ..
            } => PasserelleError::HubriseApi {
                status: *status,
                error_type: error_type.clone(),
                message: message.clone(),
            },
            Self::MalformedBody { service, reason } => PasserelleError::UnexpectedResponse {
                service: service.to_string(),
                reason: reason.clone(),
            },
            Self::BodyTooLarge { service, limit } => PasserelleError::ResponseTooLarge {
                service: service.to_string(),
                limit_bytes: *limit,
            },
            Self::Transport { kind, source, .. } => PasserelleError::Network {
                reason: format!("{kind}: {source}"),
            },
            Self::Sqlite(err) => PasserelleError::Storage {
                reason: err.to_string(),
            },
            Self::Io(err) => PasserelleError::Storage {
                reason: err.to_string(),
            },
            Self::SecretStore(err) => PasserelleError::SecretStore {
                reason: err.to_string(),
            },
            Self::Public(err) => err.clone(),
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
