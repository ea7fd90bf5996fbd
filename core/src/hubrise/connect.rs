//! Connecting, checking and disconnecting HubRise locations from the device.
//!
//! A connection attempt is persisted (state digest in SQLite, PKCE verifier in the secret store)
//! so the app may be killed while the browser is open. The callback is checked strictly; the
//! code is exchanged once, by the POS backend's broker or directly; the token goes to the secret
//! store only, and the connection waits for a restart before it goes active.

use super::oauth::{
    self, AuthorizeParams, DirectExchange, HubriseAuthorization, HubriseConnectionOptions,
};
use crate::config::{OUT_OF_BAND_REDIRECT_URI, TokenExchange};
use crate::connection::{ConnectionNames, ConnectionOrigin, ConnectionState, HubriseConnection};
use crate::error::{PasserelleError, Result};
use crate::events::PasserelleEvent;
use crate::http::{OAuthHttp, shared_client};
use crate::passerelle::Shared;
use crate::pos::auth;
use crate::pos::client::BrokerExchange;
use crate::secrets::{Secret, keys};
use crate::store::connections::{self, ConnectionRow, NewConnection};
use crate::store::{accounts, flows, new_id, now_ms, to_system_time};
use crate::sync::limiter;

/// HubRise codes expire after 10 minutes, so an older attempt cannot complete.
pub const FLOW_LIFETIME_MS: i64 = 10 * 60 * 1000;
/// Closed or expired attempts are forgotten after a day.
const FLOW_RETENTION_MS: i64 = 24 * 60 * 60 * 1000;

/// What `disconnect` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct DisconnectOutcome {
    /// The connection, now `Removing` until the next restart.
    pub connection: HubriseConnection,
    /// Whether HubRise confirmed the revocation.
    pub revoked: bool,
    /// Why revoking failed, when it did; the local removal went ahead anyway.
    pub revoke_failure: Option<String>,
}

/// Starts a connection attempt and returns the consent page to open.
pub fn begin(shared: &Shared, options: &HubriseConnectionOptions) -> Result<HubriseAuthorization> {
    let account = shared
        .store
        .read(accounts::current)?
        .ok_or(PasserelleError::NotSignedIn)?;
    let redirect_uri = if options.out_of_band {
        OUT_OF_BAND_REDIRECT_URI.to_owned()
    } else {
        shared.config.redirect_uri.trim().to_owned()
    };
    let scope = shared.active()?.settings.scope;
    let request = oauth::authorize_request(&AuthorizeParams {
        oauth_base: &shared.endpoints.hubrise_oauth.base,
        client_id: &shared.config.client_id,
        redirect_uri: &redirect_uri,
        scope: &scope,
        device_id: &shared.device_id,
        options,
    })?;
    let flow_id = new_id();
    shared
        .secrets
        .set(&keys::pkce_verifier(&flow_id), &request.verifier)?;
    let digest = oauth::state_digest(&request.state);
    let purged = shared.store.write(|tx| {
        flows::insert(tx, &flow_id, &account.account_id, &digest, &redirect_uri)?;
        flows::purge(tx, FLOW_RETENTION_MS)
    })?;
    for old in purged {
        shared.secrets.delete(&keys::pkce_verifier(&old))?;
    }
    tracing::info!(target: "passerelle::connect", "connection attempt started");
    let callback_url_scheme = (!oauth::is_out_of_band(&redirect_uri))
        .then(|| shared.endpoints.redirect.scheme().to_owned())
        .filter(|scheme| scheme != "http" && scheme != "https");
    Ok(HubriseAuthorization {
        authorize_url: request.url,
        state: request.state,
        callback_url_scheme,
        expires_at: to_system_time(now_ms() + FLOW_LIFETIME_MS),
    })
}

/// Completes an attempt from the callback URL HubRise redirected to.
pub async fn complete_callback(shared: &Shared, callback_url: &str) -> Result<HubriseConnection> {
    let params = oauth::parse_callback(callback_url, &shared.endpoints.redirect)?;
    let state = params.state.ok_or(PasserelleError::StateMissing)?;
    let flow = claimable_flow(shared, &state, shared.config.redirect_uri.trim())?;
    if let Some(error) = params.error {
        shared.store.write(|tx| flows::close(tx, &flow.id, false))?;
        shared.secrets.delete(&keys::pkce_verifier(&flow.id))?;
        return Err(if error == "access_denied" {
            PasserelleError::AccessDenied
        } else {
            PasserelleError::UnexpectedResponse {
                service: "HubRise OAuth".into(),
                reason: format!(
                    "callback error {}",
                    error.chars().take(40).collect::<String>()
                ),
            }
        });
    }
    let code = params.code.ok_or(PasserelleError::CodeMissing)?;
    exchange_and_record(shared, &flow, &code).await
}

/// Completes an out-of-band attempt with the code the user pasted from HubRise's page.
pub async fn complete_with_code(
    shared: &Shared,
    code: Secret,
    state: &str,
) -> Result<HubriseConnection> {
    let code = Secret::new(code.expose().trim());
    if code.expose().is_empty() {
        return Err(PasserelleError::CodeMissing);
    }
    let flow = claimable_flow(shared, state.trim(), OUT_OF_BAND_REDIRECT_URI)?;
    exchange_and_record(shared, &flow, &code).await
}

/// The open attempt a state belongs to; each refusal is its own typed error, and none of them
/// sends a token request.
fn claimable_flow(shared: &Shared, state: &str, expected_redirect: &str) -> Result<flows::FlowRow> {
    if state.is_empty() {
        return Err(PasserelleError::StateMissing);
    }
    let digest = oauth::state_digest(state);
    let flow = shared
        .store
        .read(|c| flows::find_by_state(c, &digest))?
        .ok_or(PasserelleError::StateUnknown)?;
    if !flow.open {
        return Err(PasserelleError::StateReplayed);
    }
    let account = shared
        .store
        .read(accounts::current)?
        .ok_or(PasserelleError::NotSignedIn)?;
    if flow.pos_account_id != account.account_id || flow.redirect_uri != expected_redirect {
        return Err(PasserelleError::StateMismatch);
    }
    if now_ms() - flow.created_at > FLOW_LIFETIME_MS {
        return Err(PasserelleError::FlowExpired);
    }
    Ok(flow)
}

async fn exchange_and_record(
    shared: &Shared,
    flow: &flows::FlowRow,
    code: &Secret,
) -> Result<HubriseConnection> {
    // Close the attempt before exchanging: a concurrent or replayed callback then fails here
    // rather than spending the single-use code twice.
    if !shared.store.write(|tx| flows::close(tx, &flow.id, true))? {
        return Err(PasserelleError::StateReplayed);
    }
    let verifier_key = keys::pkce_verifier(&flow.id);
    let verifier = shared
        .secrets
        .get(&verifier_key)?
        .ok_or(PasserelleError::StateUnknown)?;
    let token = exchange(shared, &flow.redirect_uri, code, &verifier).await;
    shared.secrets.delete(&verifier_key)?;
    let token = token?;
    let names = token
        .names()
        .ok_or_else(|| PasserelleError::UnexpectedResponse {
            service: "HubRise OAuth".into(),
            reason: "the token is not for a location".into(),
        })?;
    let connection = record_connection(shared, &flow.pos_account_id, &names, &token.secret())?;
    register_callback_early(shared, &connection.id, &token.secret()).await;
    Ok(connection)
}

async fn exchange(
    shared: &Shared,
    redirect_uri: &str,
    code: &Secret,
    verifier: &Secret,
) -> Result<super::token::HubriseTokenResponse> {
    match shared.config.token_exchange {
        TokenExchange::Broker => {
            let (_, access) = auth::access_token(shared).await?;
            let request = BrokerExchange {
                code: code.expose(),
                redirect_uri,
                code_verifier: verifier.expose(),
                device_id: &shared.device_id,
            };
            shared.pos.broker_exchange(&access, &request).await
        }
        TokenExchange::Direct => {
            let secret = client_secret(shared)?;
            let http = OAuthHttp::new(shared_client()?);
            let exchange = DirectExchange {
                oauth_base: &shared.endpoints.hubrise_oauth.base,
                client_id: &shared.config.client_id,
                client_secret: &secret,
                redirect_uri,
                code,
                verifier,
                device_id: &shared.device_id,
            };
            oauth::exchange_code_direct(&http, &exchange).await
        }
    }
}

fn client_secret(shared: &Shared) -> Result<Secret> {
    shared
        .secrets
        .get(keys::HUBRISE_CLIENT_SECRET)?
        .ok_or_else(|| PasserelleError::InvalidConfig {
            field: "token_exchange".into(),
            reason: "the direct strategy needs the client secret in the secret store".into(),
        })
}

/// Saves the token and the connection. Re-connecting a location updates its row (HubRise
/// returns the same token) instead of adding a second one, and ends a "reconnect needed".
pub fn record_connection(
    shared: &Shared,
    pos_account_id: &str,
    names: &ConnectionNames,
    token: &Secret,
) -> Result<HubriseConnection> {
    let existing = shared
        .store
        .read(|c| connections::find_live_by_location(c, pos_account_id, &names.location_id))?;
    let id = match existing {
        Some(row) => {
            shared.secrets.set(&row.secret_key, token)?;
            shared.store.write(|tx| {
                connections::update_names(tx, &row.public.id, names)?;
                if row.public.reconnect_needed {
                    // Orders placed while HubRise refused the token: one catch-up (decision 7).
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
            shared.secrets.set(&secret_key, token)?;
            let new = NewConnection {
                id: &id,
                pos_account_id,
                names,
                origin: ConnectionOrigin::Device,
                state: ConnectionState::Pending,
                needs_confirmation: false,
                secret_key: &secret_key,
            };
            if let Err(err) = shared.store.write(|tx| connections::insert(tx, &new)) {
                shared.secrets.delete(&secret_key)?;
                return Err(err);
            }
            id
        }
    };
    let connection = shared.store.read(|c| connections::get(c, &id))?.public;
    tracing::info!(target: "passerelle::connect", connection = %connection.id, location = %connection.location_id, "connected");
    shared.events.emit(PasserelleEvent::ConnectionChanged {
        connection: connection.clone(),
    });
    Ok(connection)
}

fn system_ms(time: std::time::SystemTime) -> i64 {
    time.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Decision 7: register the passive callback right after the exchange so events accumulate at
/// HubRise until the engine starts. A failure is not fatal: the engine registers it again.
async fn register_callback_early(shared: &Shared, connection_id: &str, token: &Secret) {
    limiter::acquire(&shared.connection_runtime(connection_id).limiter, false).await;
    if let Err(err) = shared.hubrise.register_passive_callback(token).await {
        tracing::warn!(target: "passerelle::connect", code = err.code(), "early callback registration failed");
    }
}

/// Live `GET /location`: refreshes the names, or records why HubRise refused the token.
pub async fn check(shared: &Shared, connection_id: &str) -> Result<HubriseConnection> {
    let row = owned_row(shared, connection_id)?;
    let Some(token) = shared.secrets.get(&row.secret_key)? else {
        return record_refusal(shared, &row, "no token on this device").map(|c| c.public);
    };
    limiter::acquire(&shared.connection_runtime(connection_id).limiter, false).await;
    match shared.hubrise.location(&token).await {
        Ok(location) => {
            shared.store.write(|tx| {
                connections::update_names(tx, connection_id, &location.names())?;
                connections::record_success(tx, connection_id)
            })?;
        }
        Err(PasserelleError::ConnectionRevoked { reason }) => {
            record_refusal(shared, &row, &reason)?;
        }
        Err(err) => {
            let reason = err.to_string();
            shared
                .store
                .write(|tx| connections::record_failure(tx, connection_id, &reason, false))?;
            return Err(err);
        }
    }
    let connection = shared
        .store
        .read(|c| connections::get(c, connection_id))?
        .public;
    shared.events.emit(PasserelleEvent::ConnectionChanged {
        connection: connection.clone(),
    });
    Ok(connection)
}

/// HubRise refused the token: keep everything, remember why, ask for "Reconnect HubRise".
pub fn record_refusal(shared: &Shared, row: &ConnectionRow, reason: &str) -> Result<ConnectionRow> {
    shared
        .store
        .write(|tx| connections::record_failure(tx, &row.public.id, reason, true))?;
    tracing::warn!(target: "passerelle::connect", connection = %row.public.id, "reconnect needed");
    shared.events.emit(PasserelleEvent::ReconnectNeeded {
        connection_id: row.public.id.clone(),
        reason: reason.to_owned(),
    });
    shared.store.read(|c| connections::get(c, &row.public.id))
}

/// Revokes (a failure is reported, not blocking), deletes the token, and marks the connection
/// `Removing` until the next restart.
pub async fn disconnect(shared: &Shared, connection_id: &str) -> Result<DisconnectOutcome> {
    let row = owned_row(shared, connection_id)?;
    if matches!(
        row.public.state,
        ConnectionState::Removing | ConnectionState::Removed
    ) {
        return Err(PasserelleError::InvalidState {
            reason: "the connection is already disconnected".into(),
        });
    }
    // Removing first: a cycle that starts from now on sees it and does not run.
    shared
        .store
        .write(|tx| connections::set_state(tx, connection_id, ConnectionState::Removing))?;
    let revoke_failure = match shared.secrets.get(&row.secret_key)? {
        Some(token) => revoke(shared, &row, &token)
            .await
            .err()
            .map(|e| e.to_string()),
        None => Some("no token on this device".into()),
    };
    shared.secrets.delete(&row.secret_key)?;
    let connection = shared
        .store
        .read(|c| connections::get(c, connection_id))?
        .public;
    tracing::info!(target: "passerelle::connect", connection = %connection_id, revoked = revoke_failure.is_none(), "disconnected");
    shared.events.emit(PasserelleEvent::ConnectionChanged {
        connection: connection.clone(),
    });
    Ok(DisconnectOutcome {
        connection,
        revoked: revoke_failure.is_none(),
        revoke_failure,
    })
}

async fn revoke(shared: &Shared, row: &ConnectionRow, token: &Secret) -> Result<()> {
    match shared.config.token_exchange {
        TokenExchange::Broker => {
            let (_, access) = auth::access_token(shared).await?;
            shared
                .pos
                .broker_revoke(&access, &row.public.location_id, Some(&shared.device_id))
                .await
        }
        TokenExchange::Direct => {
            let secret = client_secret(shared)?;
            let base = &shared.endpoints.hubrise_oauth.base;
            oauth::revoke_direct(
                &shared_client()?,
                base,
                &shared.config.client_id,
                &secret,
                token,
            )
            .await
        }
    }
}

/// A connection of the current account (another account's ids are "not found").
fn owned_row(shared: &Shared, connection_id: &str) -> Result<ConnectionRow> {
    let account = shared
        .store
        .read(accounts::current)?
        .ok_or(PasserelleError::NotSignedIn)?;
    let row = shared.store.read(|c| connections::get(c, connection_id))?;
    if row.pos_account_id != account.account_id || row.public.state == ConnectionState::Removed {
        return Err(PasserelleError::NotFound {
            what: format!("connection {connection_id}"),
        });
    }
    Ok(row)
}

/// Abandons an attempt (the user closed the browser): its state can no longer complete.
pub fn cancel(shared: &Shared, state: &str) -> Result<()> {
    let digest = oauth::state_digest(state.trim());
    let Some(flow) = shared.store.read(|c| flows::find_by_state(c, &digest))? else {
        return Err(PasserelleError::StateUnknown);
    };
    shared.store.write(|tx| flows::close(tx, &flow.id, false))?;
    shared.secrets.delete(&keys::pkce_verifier(&flow.id))
}

/// What `handle_open_url` recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum OpenUrlOutcome {
    /// The app's own redirect: the attempt completed; the connection waits for a restart.
    Connected { connection: HubriseConnection },
    /// HubRise's "Open" button (Open URL with `app_instance_id`): show this connection.
    ShowConnection { connection: HubriseConnection },
    /// Not a Passerelle URL; the host handles it.
    NotHandled,
}

/// Routes a URL the system opened the app with.
pub async fn handle_open_url(shared: &Shared, url: &str) -> Result<OpenUrlOutcome> {
    let Ok(parsed) = url::Url::parse(url.trim()) else {
        return Ok(OpenUrlOutcome::NotHandled);
    };
    match oauth::parse_callback(url, &shared.endpoints.redirect) {
        Ok(_) => {
            return complete_callback(shared, url)
                .await
                .map(|connection| OpenUrlOutcome::Connected { connection });
        }
        Err(PasserelleError::RedirectMismatch { .. }) => {}
        Err(err) => return Err(err),
    }
    if parsed.scheme() != shared.endpoints.redirect.scheme() {
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
    let account = shared
        .store
        .read(accounts::current)?
        .ok_or(PasserelleError::NotSignedIn)?;
    let rows = shared
        .store
        .read(|c| connections::list_live(c, &account.account_id))?;
    rows.into_iter()
        .find(|row| row.public.app_instance_id.as_deref() == Some(app_instance_id.as_str()))
        .map(|row| OpenUrlOutcome::ShowConnection {
            connection: row.public,
        })
        .ok_or_else(|| PasserelleError::NotFound {
            what: "connection for this app instance".into(),
        })
}
