//! Signing in with the POS account's own credentials ("your credentials are the same as
//! Popina's"), the session hand-off from a host already signed in, and sign-out. The password is
//! used for one request and never stored or logged.

use std::sync::Arc;

use crate::clients::pos::backend::PosBackend;
use crate::clients::pos::session::PosSession;
use crate::context::Context;
use crate::context::session_keeper::PosSessionKeeper;
use crate::error::{Error, Result};
use crate::model::account::PosAccount;
use crate::secrets::Secret;
use crate::store::{Store, accounts};

pub struct SignIn {
    store: Arc<Store>,
    backend: PosBackend,
    sessions: Arc<PosSessionKeeper>,
}

impl SignIn {
    pub fn new(ctx: &Context) -> Self {
        Self {
            store: ctx.store.clone(),
            backend: ctx.pos.clone(),
            sessions: ctx.sessions.clone(),
        }
    }

    /// The signed-in POS account, if any.
    pub fn account(&self) -> Result<Option<PosAccount>> {
        self.store.read(accounts::current)
    }

    /// Password grant, then `/me`; the account becomes the current one.
    pub async fn sign_in(&self, email: &str, password: Secret) -> Result<PosAccount> {
        let email = email.trim();
        if email.is_empty() || password.expose().is_empty() {
            return Err(Error::InvalidCredentials);
        }
        let session = self.backend.password_grant(email, &password).await?;
        drop(password);
        self.adopt_session(session).await
    }

    /// Adopts a session the host app already holds (no refresh token: when it expires, the host
    /// signs in again).
    pub async fn sign_in_with_pos_session(&self, access_token: Secret) -> Result<PosAccount> {
        self.adopt_session(PosSession::new(access_token, None, None))
            .await
    }

    async fn adopt_session(&self, session: PosSession) -> Result<PosAccount> {
        let account = self.backend.me(&session.access_token()).await?;
        self.sessions.save(&account.account_id, &session)?;
        self.store
            .write(|tx| accounts::make_current(tx, &account))?;
        tracing::info!(target: "passerelle::pos", account = %account.account_id, "signed in");
        Ok(account)
    }

    /// Removes the current account's POS session; its data stays, scoped to it, for when it
    /// signs in again, and so do its HubRise connections' tokens (what becomes of the
    /// connections is `services::account`'s choice, made before).
    pub async fn sign_out(&self) -> Result<()> {
        let _no_refresh = self.sessions.hold().await;
        let Some(account) = self.store.read(accounts::current)? else {
            return Ok(());
        };
        self.sessions.delete(&account.account_id)?;
        self.store.write(|tx| accounts::clear_current(tx))?;
        tracing::info!(target: "passerelle::pos", account = %account.account_id, "signed out");
        Ok(())
    }
}
