//! Signing in with the POS account's own credentials ("your credentials are the same as
//! Popina's"), the session hand-off from a host already signed in, automatic refresh, sign-out.
//! The password is used for one request and never stored or logged.

use super::session::PosSession;
use crate::account::PosAccount;
use crate::error::{PasserelleError, Result};
use crate::passerelle::Shared;
use crate::secrets::{Secret, keys};
use crate::store::{accounts, connections};

/// Password grant, then `/me`; the account becomes the current one.
pub async fn sign_in(shared: &Shared, email: &str, password: Secret) -> Result<PosAccount> {
    let email = email.trim();
    if email.is_empty() || password.expose().is_empty() {
        return Err(PasserelleError::InvalidCredentials);
    }
    let session = shared.pos.password_grant(email, &password).await?;
    drop(password);
    adopt_session(shared, session).await
}

/// Adopts a session the host app already holds (no refresh token: when it expires, the host
/// signs in again).
pub async fn sign_in_with_pos_session(shared: &Shared, access_token: Secret) -> Result<PosAccount> {
    adopt_session(shared, PosSession::new(access_token, None, None)).await
}

async fn adopt_session(shared: &Shared, session: PosSession) -> Result<PosAccount> {
    let account = shared.pos.me(&session.access_token()).await?;
    session.save(&shared.secrets, &account.account_id)?;
    shared
        .store
        .write(|tx| accounts::make_current(tx, &account))?;
    tracing::info!(target: "passerelle::pos", account = %account.account_id, "signed in");
    Ok(account)
}

/// Removes the current account's secrets (POS session, HubRise tokens); its data stays, scoped
/// to it, for when it signs in again.
pub async fn sign_out(shared: &Shared) -> Result<()> {
    // Not while a refresh is on its way: it would save the session back after we deleted it.
    let _guard = shared.session_lock.lock().await;
    let Some(account) = shared.store.read(accounts::current)? else {
        return Ok(());
    };
    let rows = shared
        .store
        .read(|conn| connections::list_live(conn, &account.account_id))?;
    for row in rows {
        shared.secrets.delete(&row.secret_key)?;
    }
    shared
        .secrets
        .delete(&keys::pos_session(&account.account_id))?;
    shared.store.write(|tx| accounts::clear_current(tx))?;
    tracing::info!(target: "passerelle::pos", account = %account.account_id, "signed out");
    Ok(())
}

/// The current account and a valid access token, refreshed when it is about to expire.
pub async fn access_token(shared: &Shared) -> Result<(PosAccount, Secret)> {
    let account = shared
        .store
        .read(accounts::current)?
        .ok_or(PasserelleError::NotSignedIn)?;
    // One refresh at a time: refresh tokens rotate, a second concurrent refresh would fail.
    let _guard = shared.session_lock.lock().await;
    let session = PosSession::load(&shared.secrets, &account.account_id)?
        .ok_or(PasserelleError::SessionExpired)?;
    if !session.needs_refresh() {
        return Ok((account, session.access_token()));
    }
    let refresh_token = session
        .refresh_token()
        .ok_or(PasserelleError::SessionExpired)?;
    let refreshed = shared.pos.refresh(&refresh_token).await?;
    refreshed.save(&shared.secrets, &account.account_id)?;
    tracing::debug!(target: "passerelle::pos", "POS session refreshed");
    Ok((account, refreshed.access_token()))
}
