//! The POS session (access and refresh tokens), kept as one entry in the host's secret store,
//! and [`PosSessions`], which hands out a valid access token and refreshes it one at a time.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::backend::PosBackend;
use crate::error::{Error, PasserelleError, Result};
use crate::model::account::PosAccount;
use crate::secrets::{Secret, Secrets, keys};
use crate::store::{Store, accounts};
use crate::time::now_ms;

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
        serde_json::from_str(raw.expose()).map(Some).map_err(|_| {
            Error::from(PasserelleError::SecretStore {
                reason: "stored POS session is unreadable".into(),
            })
        })
    }

    pub fn save(&self, secrets: &Secrets, pos_account_id: &str) -> Result<()> {
        let json = serde_json::to_string(self).map_err(Error::internal_from)?;
        Ok(secrets.set(&keys::pos_session(pos_account_id), &Secret::new(json))?)
    }
}

/// The signed-in account's session: a valid access token on demand, refreshed when it is about
/// to expire. Refresh tokens rotate, so refreshes are serialised: a second concurrent refresh
/// would spend a token already replaced.
pub struct PosSessions {
    store: Arc<Store>,
    secrets: Secrets,
    backend: PosBackend,
    refresh_lock: tokio::sync::Mutex<()>,
}

impl PosSessions {
    pub fn new(store: Arc<Store>, secrets: Secrets, backend: PosBackend) -> Self {
        Self {
            store,
            secrets,
            backend,
            refresh_lock: tokio::sync::Mutex::new(()),
        }
    }

    /// The current account and a valid access token, refreshed when it is about to expire.
    pub async fn access_token(&self) -> Result<(PosAccount, Secret)> {
        let account = self
            .store
            .read(accounts::current)?
            .ok_or(PasserelleError::NotSignedIn)?;
        let _guard = self.refresh_lock.lock().await;
        let session = PosSession::load(&self.secrets, &account.account_id)?
            .ok_or(PasserelleError::SessionExpired)?;
        if !session.needs_refresh() {
            return Ok((account, session.access_token()));
        }
        let refresh_token = session
            .refresh_token()
            .ok_or(PasserelleError::SessionExpired)?;
        let refreshed = self.backend.refresh(&refresh_token).await?;
        refreshed.save(&self.secrets, &account.account_id)?;
        tracing::debug!(target: "passerelle::pos", "POS session refreshed");
        Ok((account, refreshed.access_token()))
    }

    /// Waits for a refresh on its way and keeps others out while held (sign-out: a refresh
    /// finishing later would save the session back after it was deleted).
    pub async fn hold(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.refresh_lock.lock().await
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
