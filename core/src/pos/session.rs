//! The POS session (access and refresh tokens), kept as one entry in the host's secret store.

use serde::{Deserialize, Serialize};

use crate::error::{PasserelleError, Result};
use crate::secrets::{Secret, Secrets, keys};
use crate::store::now_ms;

/// Refresh this long before the access token expires, so a request never races the expiry.
const REFRESH_MARGIN_MS: i64 = 30_000;

/// A POS session. `Debug` never shows the tokens.
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

    pub fn load(secrets: &Secrets, pos_account_id: &str) -> Result<Option<Self>> {
        let Some(raw) = secrets.get(&keys::pos_session(pos_account_id))? else {
            return Ok(None);
        };
        serde_json::from_str(raw.expose())
            .map(Some)
            .map_err(|_| PasserelleError::SecretStore {
                reason: "stored POS session is unreadable".into(),
            })
    }

    pub fn save(&self, secrets: &Secrets, pos_account_id: &str) -> Result<()> {
        let json = serde_json::to_string(self).map_err(PasserelleError::internal_from)?;
        secrets.set(&keys::pos_session(pos_account_id), &Secret::new(json))
    }
}
