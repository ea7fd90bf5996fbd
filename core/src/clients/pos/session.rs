//! The POS session: the access and refresh tokens the backend's grants answer (`backend.rs`),
//! and when the access token expires. Keeping it (the secret store, refreshes one at a time) is
//! the context's `PosSessionKeeper` (`crate::context::session_keeper`).

use serde::{Deserialize, Serialize};

use crate::secrets::Secret;
use crate::time::now_ms;

/// Refresh this long before the access token expires, so a request never races the expiry.
const REFRESH_MARGIN_MS: i64 = 30_000;

/// A POS session. `Debug` never shows the tokens; serialised (JSON) it is the secret store's
/// entry for the account.
#[derive(Clone, Serialize, Deserialize)]
pub struct PosSession {
    access_token: String,
    refresh_token: Option<String>,
    /// When the access token expires (ms since the epoch); `None` when the host handed us a
    /// session without telling (we learn it from a 401).
    expires_at_ms: Option<i64>,
}

impl std::fmt::Debug for PosSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PosSession")
            .field("access_token", &"<redacted>")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expires_at_ms", &self.expires_at_ms)
            .finish()
    }
}

impl PosSession {
    pub fn new(
        access_token: Secret,
        refresh_token: Option<Secret>,
        expires_in_secs: Option<u64>,
    ) -> Self {
        let expires_at_ms = expires_in_secs.map(|secs| {
            now_ms().saturating_add(i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX))
        });
        Self {
            access_token: access_token.expose().to_owned(),
            refresh_token: refresh_token.map(|t| t.expose().to_owned()),
            expires_at_ms,
        }
    }

    pub fn access_token(&self) -> Secret {
        Secret::new(self.access_token.clone())
    }

    pub fn refresh_token(&self) -> Option<Secret> {
        self.refresh_token.clone().map(Secret::new)
    }

    pub fn needs_refresh(&self) -> bool {
        self.expires_at_ms
            .is_some_and(|at| now_ms() + REFRESH_MARGIN_MS >= at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_redacts_its_tokens() {
        let session = PosSession::new(
            Secret::new("b9922a78d3ffab6b95e9d72e88"),
            Some(Secret::new("refresh-xyz")),
            Some(60),
        );
        let shown = format!("{session:?}");
        assert!(
            !shown.contains("b9922a78") && !shown.contains("refresh-xyz"),
            "{shown}"
        );
    }
}
