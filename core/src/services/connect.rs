//! Connecting, checking and disconnecting HubRise locations from the device.
//!
//! A connection attempt is persisted (state digest in SQLite, PKCE verifier in the secret store)
//! so the app may be killed while the browser is open. The callback is checked strictly; the
//! code is exchanged once, by the POS backend's broker or directly; the token goes to the secret
//! store only, and the connection waits for a restart before it goes active.

use std::sync::Arc;

use super::health::Health;
use crate::clients::hubrise::api::HubriseApi;
use crate::clients::hubrise::names::{self, Spend};
use crate::clients::hubrise::oauth::{self, AuthorizeParams, DirectExchange};
use crate::clients::hubrise::rate_limiter::RateLimiters;
use crate::clients::hubrise::token::HubriseTokenResponse;
use crate::clients::pos::backend::{
    BrokerExchange, DEVICE_CALLBACK_PATH, DEVICE_RETURN_PATH, DeviceFlowClaim, PosBackend,
};
use crate::config::{
    OUT_OF_BAND_REDIRECT_URI, PasserelleConfig, TokenExchange, ValidatedEndpoints,
};
use crate::context::session_keeper::PosSessionKeeper;
use crate::context::{ActiveConfiguration, Context};
use crate::error::{Error, Result, Service};
use crate::events::{EventBus, PasserelleEvent};
use crate::http::shared_client;
use crate::model::authorization::{HubriseAuthorization, HubriseConnectionOptions};
use crate::model::connection::{
    ConnectionNames, ConnectionOrigin, ConnectionState, HubriseConnection,
};
use crate::model::connection::{DisconnectOutcome, OpenUrlOutcome};
use crate::model::values::WebUrl;
use crate::secrets::{Secret, Secrets, keys};
use crate::store::connections::{self, ConnectionRow, NewConnection};
use crate::store::{Store, accounts, flows, meta, new_id};
use crate::time::{now_ms, system_ms, to_system_time};

/// HubRise codes expire after 10 minutes, so an older attempt cannot complete.
pub const FLOW_LIFETIME_MS: i64 = 10 * 60 * 1000;
/// Closed or expired attempts are forgotten after a day.
const FLOW_RETENTION_MS: i64 = 24 * 60 * 60 * 1000;

/// Connecting, checking and disconnecting locations from this device.
pub struct Connect {
    config: Arc<PasserelleConfig>,
    endpoints: Arc<ValidatedEndpoints>,
    device_id: Arc<str>,
    store: Arc<Store>,
    secrets: Secrets,
    events: EventBus,
    active: Arc<ActiveConfiguration>,
    hubrise: HubriseApi,
    rate_limiters: Arc<RateLimiters>,
    pos: PosBackend,
    sessions: Arc<PosSessionKeeper>,
    health: Health,
}

impl Connect {
    pub fn new(ctx: &Context, health: Health) -> Self {
        Self {
            config: ctx.config.clone(),
            endpoints: ctx.endpoints.clone(),
            device_id: ctx.device_id.clone(),
            store: ctx.store.clone(),
            secrets: ctx.secrets.clone(),
            events: ctx.events.clone(),
            active: ctx.active.clone(),
            hubrise: ctx.hubrise.clone(),
            rate_limiters: ctx.rate_limiters.clone(),
            pos: ctx.pos.clone(),
            sessions: ctx.sessions.clone(),
            health,
        }
    }

    /// The current account's connections (pending, active, removing), oldest first.
    pub fn connections(&self) -> Result<Vec<HubriseConnection>> {
        self.store.read(|conn| {
            let Some(account) = accounts::current(conn)? else {
                return Ok(Vec::new());
            };
            let rows = connections::list_live(conn, &account.account_id)?;
            Ok(rows.into_iter().map(|row| row.public).collect())
        })
    }

    /// Starts a connection attempt and returns the consent page to open.
    pub fn begin(&self, options: &HubriseConnectionOptions) -> Result<HubriseAuthorization> {
        let redirect_uri = if options.out_of_band {
            OUT_OF_BAND_REDIRECT_URI.to_owned()
        } else {
            self.config.redirect_uri.trim().to_owned()
        };
        let (authorization, _) = self.start_attempt(options, &redirect_uri)?;
        Ok(authorization)
    }

    /// Starts a connection attempt whose redirect is the POS backend's https one (HubRise
    /// documents https redirect URIs, not custom schemes): the backend is told the digest of
    /// the state, keeps HubRise's answer for it and hands it to this device only, when the app
    /// is opened by the backend's universal link (`handle_open_url`) or when it asks
    /// ([`Connect::complete_via_backend`], say after the restaurant approved on a phone).
    pub async fn begin_via_backend(
        &self,
        options: &HubriseConnectionOptions,
    ) -> Result<HubriseAuthorization> {
        let redirect_uri = self.endpoints.pos.join(DEVICE_CALLBACK_PATH);
        let (mut authorization, flow_id) = self.start_attempt(options, &redirect_uri)?;
        let digest = oauth::state_digest(&authorization.state);
        let registered = self
            .sessions
            .authorized(|access| {
                let digest = &digest;
                async move { self.pos.register_device_flow(&access, digest).await }
            })
            .await;
        if let Err(err) = registered {
            self.store.write(|tx| flows::close(tx, &flow_id, false))?;
            self.secrets.delete(&keys::pkce_verifier(&flow_id))?;
            return Err(err);
        }
        let back = self.backend_url(DEVICE_RETURN_PATH)?;
        authorization.callback_url_scheme = None;
        authorization.callback_https_host = back.host_str().map(str::to_owned);
        authorization.callback_https_path = Some(back.path().to_owned());
        Ok(authorization)
    }

    /// Asks the POS backend whether HubRise answered an attempt started with
    /// [`Connect::begin_via_backend`]: `None` while the restaurant has not finished on HubRise's
    /// page; the connection (pending until a restart) once it has.
    pub async fn complete_via_backend(&self, state: &str) -> Result<Option<HubriseConnection>> {
        let state = state.trim();
        let flow = self.claimable_flow(state, &self.endpoints.pos.join(DEVICE_CALLBACK_PATH))?;
        let claim = self
            .sessions
            .authorized(|access| async move { self.pos.claim_device_flow(&access, state).await })
            .await?;
        match claim {
            DeviceFlowClaim::Pending => Ok(None),
            DeviceFlowClaim::Denied(error) => Err(self.refused(&flow, &error)?),
            DeviceFlowClaim::Authorized(code) => {
                self.exchange_and_record(&flow, &code).await.map(Some)
            }
        }
    }

    /// A URL of the POS backend (its https redirect or its return page).
    fn backend_url(&self, path: &str) -> Result<url::Url> {
        url::Url::parse(&self.endpoints.pos.join(path))
            .map_err(|e| Error::internal(format!("POS backend URL: {e}")))
    }

    /// Closes an attempt HubRise refused, and the error for it.
    fn refused(&self, flow: &flows::FlowRow, error: &str) -> Result<Error> {
        self.store.write(|tx| flows::close(tx, &flow.id, false))?;
        self.secrets.delete(&keys::pkce_verifier(&flow.id))?;
        Ok(if error == "access_denied" {
            Error::AccessDenied
        } else {
            Error::MalformedBody {
                service: Service::HubriseOAuth,
                reason: format!(
                    "callback error {}",
                    error.chars().take(40).collect::<String>()
                ),
            }
        })
    }

    /// Records an attempt for `redirect_uri` (state digest in SQLite, verifier in the secret
    /// store) and builds the consent page's URL. Returns the attempt and its flow id.
    fn start_attempt(
        &self,
        options: &HubriseConnectionOptions,
        redirect_uri: &str,
    ) -> Result<(HubriseAuthorization, String)> {
        let account = self
            .store
            .read(accounts::current)?
            .ok_or(Error::NotSignedIn)?;
        let redirect_uri = redirect_uri.to_owned();
        let scope = self.active.get().settings.scope;
        let request = oauth::authorize_request(&AuthorizeParams {
            oauth_base: &self.endpoints.hubrise_oauth.base,
            client_id: &self.config.client_id,
            redirect_uri: &redirect_uri,
            scope: &scope,
            device_id: &self.device_id,
            options,
        })?;
        let flow_id = new_id();
        self.secrets
            .set(&keys::pkce_verifier(&flow_id), &request.verifier)?;
        let digest = oauth::state_digest(&request.state);
        let purged = self.store.write(|tx| {
            // The device id goes out now: from here on it never changes for this install.
            meta::set(tx, meta::DEVICE_ID_SENT, "1")?;
            flows::insert(tx, &flow_id, &account.account_id, &digest, &redirect_uri)?;
            flows::purge(tx, FLOW_RETENTION_MS)
        })?;
        for old in purged {
            self.secrets.delete(&keys::pkce_verifier(&old))?;
        }
        tracing::info!(target: "passerelle::connect", "connection attempt started");
        let redirect = (!oauth::is_out_of_band(&redirect_uri))
            .then(|| url::Url::parse(&redirect_uri).ok())
            .flatten();
        let web = redirect
            .as_ref()
            .filter(|url| url.scheme() == "https" || url.scheme() == "http");
        let callback_url_scheme = redirect
            .as_ref()
            .filter(|url| url.scheme() != "http" && url.scheme() != "https")
            .map(|url| url.scheme().to_owned());
        let authorization = HubriseAuthorization {
            authorize_url: WebUrl::new(request.url),
            state: request.state,
            callback_url_scheme,
            callback_https_host: web.and_then(|url| url.host_str().map(str::to_owned)),
            callback_https_path: web.map(|url| url.path().to_owned()),
            expires_at: to_system_time(now_ms() + FLOW_LIFETIME_MS),
        };
        Ok((authorization, flow_id))
    }

    /// Completes an attempt from the callback URL HubRise redirected to: the app's redirect, or
    /// the POS backend's (its https redirect with the code, or its return link, after which the
    /// backend hands the code over).
    pub async fn complete_callback(&self, callback_url: &str) -> Result<HubriseConnection> {
        let (params, expected) = match oauth::parse_callback(callback_url, &self.endpoints.redirect)
        {
            Ok(params) => (params, self.config.redirect_uri.trim().to_owned()),
            Err(Error::NotThisRedirect { reason }) => {
                let backend = self.backend_url(DEVICE_CALLBACK_PATH)?;
                let back = self.backend_url(DEVICE_RETURN_PATH)?;
                if let Ok(params) = oauth::parse_callback(callback_url, &back) {
                    let state = params.state.ok_or(Error::StateMissing)?;
                    return self
                        .complete_via_backend(&state)
                        .await?
                        .ok_or_else(|| Error::CodeMissing);
                }
                match oauth::parse_callback(callback_url, &backend) {
                    Ok(params) => (params, self.endpoints.pos.join(DEVICE_CALLBACK_PATH)),
                    Err(_) => return Err(Error::NotThisRedirect { reason }),
                }
            }
            Err(err) => return Err(err),
        };
        let state = params.state.ok_or(Error::StateMissing)?;
        let flow = self.claimable_flow(&state, &expected)?;
        if let Some(error) = params.error {
            return Err(self.refused(&flow, &error)?);
        }
        let code = params.code.ok_or(Error::CodeMissing)?;
        self.exchange_and_record(&flow, &code).await
    }

    /// Whether a URL is the POS backend's https redirect or its return link.
    fn is_backend_link(&self, url: &str) -> bool {
        [DEVICE_CALLBACK_PATH, DEVICE_RETURN_PATH]
            .iter()
            .any(|path| {
                self.backend_url(path)
                    .is_ok_and(|expected| oauth::parse_callback(url, &expected).is_ok())
            })
    }

    /// Completes an out-of-band attempt with the code the user pasted from HubRise's page.
    pub async fn complete_with_code(&self, code: Secret, state: &str) -> Result<HubriseConnection> {
        let code = Secret::new(code.expose().trim());
        if code.expose().is_empty() {
            return Err(Error::CodeMissing);
        }
        let flow = self.claimable_flow(state.trim(), OUT_OF_BAND_REDIRECT_URI)?;
        self.exchange_and_record(&flow, &code).await
    }

    /// The open attempt a state belongs to; each refusal is its own typed error, and none of them
    /// sends a token request.
    fn claimable_flow(&self, state: &str, expected_redirect: &str) -> Result<flows::FlowRow> {
        if state.is_empty() {
            return Err(Error::StateMissing);
        }
        let digest = oauth::state_digest(state);
        let flow = self
            .store
            .read(|c| flows::find_by_state(c, &digest))?
            .ok_or(Error::StateUnknown)?;
        if !flow.open {
            return Err(Error::StateReplayed);
        }
        let account = self
            .store
            .read(accounts::current)?
            .ok_or(Error::NotSignedIn)?;
        if flow.pos_account_id != account.account_id || flow.redirect_uri != expected_redirect {
            return Err(Error::StateMismatch);
        }
        if now_ms() - flow.created_at > FLOW_LIFETIME_MS {
            return Err(Error::FlowExpired);
        }
        Ok(flow)
    }

    async fn exchange_and_record(
        &self,
        flow: &flows::FlowRow,
        code: &Secret,
    ) -> Result<HubriseConnection> {
        // Close the attempt before exchanging: a concurrent or replayed callback then fails here
        // rather than spending the single-use code twice.
        if !self.store.write(|tx| flows::close(tx, &flow.id, true))? {
            return Err(Error::StateReplayed);
        }
        let verifier_key = keys::pkce_verifier(&flow.id);
        let verifier = self
            .secrets
            .get(&verifier_key)?
            .ok_or(Error::StateUnknown)?;
        let token = self.exchange(&flow.redirect_uri, code, &verifier).await;
        self.secrets.delete(&verifier_key)?;
        let token = token?;
        let names = token.names().ok_or_else(|| Error::MalformedBody {
            service: Service::HubriseOAuth,
            reason: "the token is not for a location".into(),
        })?;
        let connection = self.record_connection(&flow.pos_account_id, &names, &token.secret())?;
        self.register_callback_early(&connection.id, &token.secret())
            .await;
        Ok(connection)
    }

    async fn exchange(
        &self,
        redirect_uri: &str,
        code: &Secret,
        verifier: &Secret,
    ) -> Result<HubriseTokenResponse> {
        match self.config.token_exchange {
            TokenExchange::Broker => {
                let request = BrokerExchange {
                    code: code.expose(),
                    redirect_uri,
                    code_verifier: verifier.expose(),
                    device_id: &self.device_id,
                };
                let request = &request;
                self.sessions
                    .authorized(
                        |access| async move { self.pos.broker_exchange(&access, request).await },
                    )
                    .await
            }
            TokenExchange::Direct => {
                let secret = self.client_secret()?;
                let exchange = DirectExchange {
                    oauth_base: &self.endpoints.hubrise_oauth.base,
                    client_id: &self.config.client_id,
                    client_secret: &secret,
                    redirect_uri,
                    code,
                    verifier,
                    device_id: &self.device_id,
                };
                oauth::exchange_code_direct(&shared_client()?, &exchange).await
            }
        }
    }

    fn client_secret(&self) -> Result<Secret> {
        self.secrets
            .get(keys::HUBRISE_CLIENT_SECRET)?
            .ok_or_else(|| Error::InvalidConfig {
                field: "token_exchange".into(),
                reason: "the direct strategy needs the client secret in the secret store".into(),
            })
    }

    /// Saves the token and the connection. Re-connecting a location updates its row (HubRise
    /// returns the same token) instead of adding a second one, and ends a "reconnect needed".
    pub fn record_connection(
        &self,
        pos_account_id: &str,
        names: &ConnectionNames,
        token: &Secret,
    ) -> Result<HubriseConnection> {
        let existing = self
            .store
            .read(|c| connections::find_live_by_location(c, pos_account_id, &names.location_id))?;
        let id = match existing {
            Some(row) => {
                self.secrets.set(&row.secret_key, token)?;
                self.store.write(|tx| {
                    connections::update_names(tx, &row.public.id, names)?;
                    if row.public.reconnect_needed {
                        // Orders placed while HubRise refused the token: one catch-up (design D7).
                        let since = row
                            .last_succeeded_at
                            .unwrap_or_else(|| system_ms(row.public.created_at));
                        connections::request_catch_up(tx, &row.public.id, since)?;
                    }
                    connections::record_success(tx, &row.public.id)?;
                    if row.public.state == ConnectionState::Removing {
                        connections::set_state(tx, &row.public.id, ConnectionState::Pending)?;
                    }
                    Ok(())
                })?;
                row.public.id
            }
            None => {
                let id = new_id();
                let secret_key = keys::hubrise_token(&id);
                self.secrets.set(&secret_key, token)?;
                let new = NewConnection {
                    id: &id,
                    pos_account_id,
                    names,
                    origin: ConnectionOrigin::Device,
                    state: ConnectionState::Pending,
                    needs_confirmation: false,
                    secret_key: &secret_key,
                };
                if let Err(err) = self.store.write(|tx| connections::insert(tx, &new)) {
                    self.secrets.delete(&secret_key)?;
                    return Err(err);
                }
                id
            }
        };
        let connection = self.store.read(|c| connections::get(c, &id))?.public;
        tracing::info!(target: "passerelle::connect", connection = %connection.id, location = %connection.location_id, "connected");
        self.events.emit(PasserelleEvent::ConnectionChanged {
            connection: connection.clone(),
        });
        Ok(connection)
    }

    /// Decision 7: register the passive callback right after the exchange so events accumulate at
    /// HubRise until the engine starts. A failure is not fatal: the engine registers it again.
    async fn register_callback_early(&self, connection_id: &str, token: &Secret) {
        self.rate_limiters.acquire(connection_id, false).await;
        if let Err(err) = self.hubrise.register_passive_callback(token).await {
            tracing::warn!(target: "passerelle::connect", code = err.code(), "early callback registration failed");
        }
    }

    /// Live check: reads the location (`GET /location`), the catalog's and the customer list's
    /// names from HubRise and keeps them, or records why HubRise refused the token.
    pub async fn check(&self, connection_id: &str) -> Result<HubriseConnection> {
        let row = self.owned_row(connection_id)?;
        let Some(token) = self.secrets.get(&row.secret_key)? else {
            return self
                .health
                .record_refusal(&row, "no token on this device")
                .map(|c| c.public);
        };
        let read = names::read(
            &self.hubrise,
            &self.rate_limiters,
            &row.public,
            &token,
            Spend::Wait,
        )
        .await;
        match read {
            Ok(read) => {
                self.store.write(|tx| {
                    connections::keep_names(
                        tx,
                        connection_id,
                        &read.names,
                        read.timezone.as_deref(),
                        read.complete,
                    )?;
                    connections::record_success(tx, connection_id)
                })?;
            }
            Err(Error::Unauthorized { reason, .. }) => {
                self.health.record_refusal(&row, &reason)?;
            }
            Err(err) => {
                self.health
                    .record_failure(connection_id, &err.to_public().to_string())?;
                return Err(err);
            }
        }
        self.health.announce(connection_id)
    }

    /// Revokes (a failure is reported, not blocking), deletes the token, and marks the connection
    /// `Removing` until the next restart.
    pub async fn disconnect(&self, connection_id: &str) -> Result<DisconnectOutcome> {
        let row = self.owned_row(connection_id)?;
        if matches!(
            row.public.state,
            ConnectionState::Removing | ConnectionState::Removed
        ) {
            return Err(Error::InvalidState {
                reason: "the connection is already disconnected".into(),
            });
        }
        // Removing first: a cycle that starts from now on sees it and does not run.
        self.store
            .write(|tx| connections::set_state(tx, connection_id, ConnectionState::Removing))?;
        let revoke_failure = match self.secrets.get(&row.secret_key)? {
            Some(token) => self
                .revoke(&row, &token)
                .await
                .err()
                .map(|e| e.to_public().to_string()),
            None => Some("no token on this device".into()),
        };
        self.secrets.delete(&row.secret_key)?;
        let connection = self
            .store
            .read(|c| connections::get(c, connection_id))?
            .public;
        tracing::info!(target: "passerelle::connect", connection = %connection_id, revoked = revoke_failure.is_none(), "disconnected");
        self.events.emit(PasserelleEvent::ConnectionChanged {
            connection: connection.clone(),
        });
        Ok(DisconnectOutcome {
            connection,
            revoked: revoke_failure.is_none(),
            revoke_failure,
        })
    }

    async fn revoke(&self, row: &ConnectionRow, token: &Secret) -> Result<()> {
        match self.config.token_exchange {
            TokenExchange::Broker => {
                let location = row.public.location_id.as_str();
                self.sessions
                    .authorized(|access| async move {
                        self.pos
                            .broker_revoke(&access, location, Some(&self.device_id))
                            .await
                    })
                    .await
            }
            TokenExchange::Direct => {
                let secret = self.client_secret()?;
                let base = &self.endpoints.hubrise_oauth.base;
                oauth::revoke_direct(
                    &shared_client()?,
                    base,
                    &self.config.client_id,
                    &secret,
                    token,
                )
                .await
            }
        }
    }

    /// A connection of the current account (another account's ids are "not found").
    /// Puts back a connection whose disconnection its caller cancelled before it ended (its
    /// token still in the secret store): it leaves `Removing` for the state it had.
    pub fn undo_disconnect(&self, connection_id: &str, state: ConnectionState) -> Result<()> {
        let row = self.owned_row(connection_id)?;
        if row.public.state != ConnectionState::Removing
            || self.secrets.get(&row.secret_key)?.is_none()
        {
            return Ok(());
        }
        self.store
            .write(|tx| connections::set_state(tx, connection_id, state))?;
        tracing::info!(target: "passerelle::connect", connection = %connection_id, "disconnection cancelled");
        Ok(())
    }

    fn owned_row(&self, connection_id: &str) -> Result<ConnectionRow> {
        let account = self
            .store
            .read(accounts::current)?
            .ok_or(Error::NotSignedIn)?;
        let row = self.store.read(|c| connections::get(c, connection_id))?;
        if row.pos_account_id != account.account_id || row.public.state == ConnectionState::Removed
        {
            return Err(Error::NotFound {
                what: format!("connection {connection_id}"),
            });
        }
        Ok(row)
    }

    /// Abandons an attempt (the user closed the browser): its state can no longer complete.
    pub fn cancel(&self, state: &str) -> Result<()> {
        let digest = oauth::state_digest(state.trim());
        let Some(flow) = self.store.read(|c| flows::find_by_state(c, &digest))? else {
            return Err(Error::StateUnknown);
        };
        self.store.write(|tx| flows::close(tx, &flow.id, false))?;
        Ok(self.secrets.delete(&keys::pkce_verifier(&flow.id))?)
    }

    /// Routes a URL the system opened the app with.
    pub async fn handle_open_url(&self, url: &str) -> Result<OpenUrlOutcome> {
        let Ok(parsed) = url::Url::parse(url.trim()) else {
            return Ok(OpenUrlOutcome::NotHandled);
        };
        let ours = oauth::parse_callback(url, &self.endpoints.redirect);
        let ours = match ours {
            Err(Error::NotThisRedirect { .. }) if self.is_backend_link(url) => Ok(()),
            other => other.map(|_| ()),
        };
        match ours {
            Ok(()) => {
                return self
                    .complete_callback(url)
                    .await
                    .map(|connection| OpenUrlOutcome::Connected { connection });
            }
            Err(Error::NotThisRedirect { .. }) => {}
            Err(err) => return Err(err),
        }
        if parsed.scheme() != self.endpoints.redirect.scheme() {
            return Ok(OpenUrlOutcome::NotHandled);
        }
        let Some(app_instance_id) = parsed
            .query_pairs()
            .find(|(k, _)| k == "app_instance_id")
            .map(|(_, v)| v.into_owned())
        else {
            return Ok(OpenUrlOutcome::NotHandled);
        };
        // app_instance_id is guessable: it selects what to show, it never authenticates anything.
        let account = self
            .store
            .read(accounts::current)?
            .ok_or(Error::NotSignedIn)?;
        let rows = self
            .store
            .read(|c| connections::list_live(c, &account.account_id))?;
        rows.into_iter()
            .find(|row| row.public.app_instance_id.as_deref() == Some(app_instance_id.as_str()))
            .map(|row| OpenUrlOutcome::ShowConnection {
                connection: row.public,
            })
            .ok_or_else(|| Error::NotFound {
                what: "connection for this app instance".into(),
            })
    }
}
