//! The signed-in account's POS session, kept: one entry of the host's secret store per account,
//! a valid access token handed out on demand and refreshed one at a time, and the session's end
//! (deleted, the host told). The backend's grants themselves are the protocol client's
//! (`crate::clients::pos`); this is the state kept around them, shared by the services.

use std::future::Future;
use std::sync::Arc;

use crate::clients::pos::backend::PosBackend;
use crate::clients::pos::session::PosSession;
use crate::error::{Error, Result, Service};
use crate::events::{EventBus, PasserelleEvent};
use crate::model::account::PosAccount;
use crate::secrets::{Secret, Secrets, keys};
use crate::store::{Store, accounts};

/// Keeps the signed-in account's session (a [`PosSession`] is one session's value, the tokens
/// and expiry a grant answered; this is what holds it): a valid access token on demand, refreshed when it is about
/// to expire or when the backend refuses it. Refresh tokens rotate, so refreshes are serialised
/// (a second concurrent refresh would spend a token already replaced) and never cut off halfway
/// (see [`PosSessionKeeper::refresh`]).
pub struct PosSessionKeeper {
    store: Arc<Store>,
    secrets: Secrets,
    backend: PosBackend,
    events: EventBus,
    refresh_lock: Arc<tokio::sync::Mutex<()>>,
}

impl PosSessionKeeper {
    pub fn new(store: Arc<Store>, secrets: Secrets, backend: PosBackend, events: EventBus) -> Self {
        Self {
            store,
            secrets,
            backend,
            events,
            refresh_lock: Arc::default(),
        }
    }

    /// The signed-in account.
    pub fn account(&self) -> Result<PosAccount> {
        self.store
            .read(accounts::current)?
            .ok_or(Error::NotSignedIn)
    }

    /// Runs `call` with a valid access token. When the backend refuses it (a 401: the backend
    /// may end a token before its announced expiry), the session is refreshed once and `call`
    /// runs again with the new token; a second refusal means the session is over.
    pub async fn authorized<T, Fut>(&self, call: impl Fn(Secret) -> Fut) -> Result<T>
    where
        Fut: Future<Output = Result<T>>,
    {
        let (account, token) = self.access_token().await?;
        match call(token.clone()).await {
            Err(err) if is_refusal(&err) => {
                let fresh = self.refresh_refused(&account, &token).await?;
                match call(fresh).await {
                    Err(err) if is_refusal(&err) => Err(self.session_lost(&account.account_id)),
                    other => other,
                }
            }
            other => other,
        }
    }

    /// The current account and a valid access token, refreshed when it is about to expire.
    async fn access_token(&self) -> Result<(PosAccount, Secret)> {
        let account = self.account()?;
        let guard = self.refresh_lock.clone().lock_owned().await;
        let session = self.stored(&account.account_id)?;
        if !session.needs_refresh() {
            return Ok((account, session.access_token()));
        }
        let token = self.refresh(&account.account_id, session, guard).await?;
        Ok((account, token))
    }

    /// The backend refused `used`: refresh, unless another caller already did since.
    async fn refresh_refused(&self, account: &PosAccount, used: &Secret) -> Result<Secret> {
        let guard = self.refresh_lock.clone().lock_owned().await;
        let session = self.stored(&account.account_id)?;
        if session.access_token().expose() != used.expose() {
            return Ok(session.access_token());
        }
        self.refresh(&account.account_id, session, guard).await
    }

    /// Refreshes on a task of its own that holds the refresh lock until the new session is
    /// saved: the backend rotates the refresh token as soon as it answers, so a refresh dropped
    /// halfway (a caller's timeout, a cancelled task) would lose the session for good. Whoever
    /// waits next gets the saved one.
    async fn refresh(
        &self,
        pos_account_id: &str,
        session: PosSession,
        guard: tokio::sync::OwnedMutexGuard<()>,
    ) -> Result<Secret> {
        let Some(refresh_token) = session.refresh_token() else {
            return Err(self.session_lost(pos_account_id));
        };
        let (backend, secrets, id) = (
            self.backend.clone(),
            self.secrets.clone(),
            pos_account_id.to_owned(),
        );
        let task = tokio::spawn(async move {
            let _serialised = guard;
            let refreshed = backend.refresh(&refresh_token).await?;
            save(&secrets, &id, &refreshed)?;
            tracing::debug!(target: "passerelle::pos", "POS session refreshed");
            Ok::<_, Error>(refreshed.access_token())
        });
        match task.await {
            Ok(Err(err)) if err.ends_pos_session() => Err(self.session_lost(pos_account_id)),
            Ok(result) => result,
            Err(join) => Err(Error::internal(format!(
                "POS session refresh failed: {join}"
            ))),
        }
    }

    /// Keeps `session` as the account's (a sign-in).
    pub fn save(&self, pos_account_id: &str, session: &PosSession) -> Result<()> {
        save(&self.secrets, pos_account_id, session)
    }

    /// Deletes the account's session (a sign-out); call with [`PosSessionKeeper::hold`] held.
    pub fn delete(&self, pos_account_id: &str) -> Result<()> {
        Ok(self.secrets.delete(&keys::pos_session(pos_account_id))?)
    }

    fn stored(&self, pos_account_id: &str) -> Result<PosSession> {
        load(&self.secrets, pos_account_id)?.ok_or(Error::PosSessionOver)
    }

    /// The backend refused the session for good: it is deleted, so later calls fail at once
    /// with `SessionExpired` until the restaurant signs in again, and the host is told. HubRise
    /// connections do not use it: their orders keep flowing.
    fn session_lost(&self, pos_account_id: &str) -> Error {
        if let Err(err) = self.secrets.delete(&keys::pos_session(pos_account_id)) {
            tracing::warn!(target: "passerelle::pos", %err, "expired POS session not deleted");
        }
        tracing::warn!(target: "passerelle::pos", "POS session over: sign in again");
        self.events.emit(PasserelleEvent::SessionExpired);
        Error::PosSessionOver
    }

    /// Waits for a refresh on its way and keeps others out while held (sign-out: a refresh
    /// finishing later would save the session back after it was deleted).
    pub async fn hold(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.refresh_lock.lock().await
    }
}

/// The POS backend refused the access token.
fn is_refusal(err: &Error) -> bool {
    matches!(
        err,
        Error::Unauthorized {
            service: Service::PosBackend,
            ..
        }
    )
}

/// The account's stored session, if any.
fn load(secrets: &Secrets, pos_account_id: &str) -> Result<Option<PosSession>> {
    let Some(raw) = secrets.get(&keys::pos_session(pos_account_id))? else {
        return Ok(None);
    };
    serde_json::from_str(raw.expose())
        .map(Some)
        .map_err(|_| Error::UnreadableSecret {
            what: "stored POS session".into(),
        })
}

fn save(secrets: &Secrets, pos_account_id: &str, session: &PosSession) -> Result<()> {
    let json = serde_json::to_string(session).map_err(Error::internal_from)?;
    Ok(secrets.set(&keys::pos_session(pos_account_id), &Secret::new(json))?)
}
