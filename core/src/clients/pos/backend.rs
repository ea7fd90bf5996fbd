//! HTTP calls to the POS backend: its identity endpoint (OAuth 2 password and refresh grants
//! through the `oauth2` crate, a deliberate first-party exception, design D15), `/me`, and the
//! broker that exchanges and revokes HubRise tokens so the client secret stays off the device.

use std::fmt;

use oauth2::basic::{
    BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenResponse,
};
use oauth2::{
    AuthType, ClientId, RefreshToken, RequestTokenError, ResourceOwnerPassword,
    ResourceOwnerUsername, StandardRevocableToken, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};

use super::session::PosSession;
use crate::clients::hubrise::oauth::token_status_error;
use crate::clients::hubrise::token::{HubriseErrorBody, HubriseTokenResponse};
use crate::config::Endpoint;
use crate::error::{Error, Result, Service};
use crate::http::{
    API_BODY_LIMIT, OAuthHttp, OAuthTransportError, SMALL_BODY_LIMIT, read_body, shared_client,
};
use crate::model::account::PosAccount;
use crate::secrets::Secret;

/// The POS identity endpoint's OAuth error, with the lockout delay it may carry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PosOAuthError {
    pub error: String,
    #[serde(default)]
    pub error_description: Option<String>,
    #[serde(default)]
    pub retry_after: Option<u64>,
}

impl fmt::Display for PosOAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.error)
    }
}

impl oauth2::ErrorResponse for PosOAuthError {}

type PosOAuthClient = oauth2::Client<
    PosOAuthError,
    BasicTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
>;

/// `GET /me`.
#[derive(Deserialize)]
struct Me {
    account_id: String,
    email: String,
    business_name: String,
}

/// What the broker needs to exchange a HubRise code on the device's behalf.
#[derive(Serialize)]
pub struct BrokerExchange<'a> {
    pub code: &'a str,
    pub redirect_uri: &'a str,
    pub code_verifier: &'a str,
    pub device_id: &'a str,
}

/// The POS backend.
#[derive(Clone)]
pub struct PosBackend {
    endpoint: Endpoint,
    oauth: PosOAuthClient,
}

impl PosBackend {
    pub fn new(endpoint: Endpoint, client_id: &str) -> Result<Self> {
        let token_url = TokenUrl::new(endpoint.join("/oauth/token"))
            .map_err(|e| Error::internal(format!("POS token URL: {e}")))?;
        // A public client: its id goes in the body, there is no secret.
        let oauth = oauth2::Client::new(ClientId::new(client_id.to_owned()))
            .set_auth_type(AuthType::RequestBody)
            .set_token_uri(token_url);
        Ok(Self { endpoint, oauth })
    }

    /// Password grant. Wrong credentials and lockout are typed and never retried here.
    pub async fn password_grant(&self, email: &str, password: &Secret) -> Result<PosSession> {
        let http = OAuthHttp::new(shared_client()?);
        let response = self
            .oauth
            .exchange_password(
                &ResourceOwnerUsername::new(email.to_owned()),
                &ResourceOwnerPassword::new(password.expose().to_owned()),
            )
            .request_async(&http)
            .await
            .map_err(|err| pos_grant_error(err, &http, Error::InvalidCredentials))?;
        Ok(session_from(&response))
    }

    /// Refresh grant; a refused refresh token means the session is over.
    pub async fn refresh(&self, refresh_token: &Secret) -> Result<PosSession> {
        let http = OAuthHttp::new(shared_client()?);
        let token = RefreshToken::new(refresh_token.expose().to_owned());
        let response = self
            .oauth
            .exchange_refresh_token(&token)
            .request_async(&http)
            .await
            .map_err(|err| pos_grant_error(err, &http, Error::PosSessionOver))?;
        // The backend may keep the refresh token unchanged (RFC 6749 §6).
        let kept = response
            .refresh_token()
            .is_none()
            .then(|| refresh_token.clone());
        let session = PosSession::new(
            Secret::new(response.access_token().secret().clone()),
            kept.or_else(|| {
                response
                    .refresh_token()
                    .map(|t| Secret::new(t.secret().clone()))
            }),
            response.expires_in().map(|d| d.as_secs()),
        );
        Ok(session)
    }

    /// The account behind an access token.
    pub async fn me(&self, access_token: &Secret) -> Result<PosAccount> {
        let response = self
            .authorized(reqwest::Method::GET, "/me", access_token)?
            .send()
            .await;
        let me: Me = json_or_error(response, "POS /me").await?;
        Ok(PosAccount {
            account_id: me.account_id,
            email: me.email,
            business_name: me.business_name,
        })
    }

    /// Asks the broker to exchange a HubRise code; it answers with HubRise's token JSON.
    pub async fn broker_exchange(
        &self,
        access_token: &Secret,
        exchange: &BrokerExchange<'_>,
    ) -> Result<HubriseTokenResponse> {
        let response = self
            .authorized(reqwest::Method::POST, "/hubrise/broker/token", access_token)?
            .json(exchange)
            .send()
            .await
            .map_err(transport)?;
        let status = response.status().as_u16();
        let bytes = read_body(response, SMALL_BODY_LIMIT, Service::PosBackend).await?;
        match status {
            200 => HubriseTokenResponse::from_body(&bytes)
                .ok_or_else(|| unexpected("broker token answer")),
            401 if is_pos_token_error(&bytes) => Err(token_refused()),
            _ => {
                let body: HubriseErrorBody = serde_json::from_slice(&bytes).unwrap_or_default();
                Err(token_status_error(status, &body))
            }
        }
    }

    /// The account's HubRise connections as the backend lists them (its `/hubrise/configuration`
    /// route); `None` when unchanged since `etag` (one conditional request when nothing changed).
    pub async fn connections(
        &self,
        access_token: &Secret,
        etag: Option<&str>,
    ) -> Result<Option<(BackendConnections, Option<String>)>> {
        let mut request =
            self.authorized(reqwest::Method::GET, "/hubrise/configuration", access_token)?;
        if let Some(etag) = etag {
            request = request.header(reqwest::header::IF_NONE_MATCH, etag);
        }
        let response = request.send().await.map_err(transport)?;
        if response.status() == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(None);
        }
        let etag = response
            .headers()
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let configuration = json_or_error(Ok(response), "POS HubRise configuration").await?;
        Ok(Some((configuration, etag)))
    }

    /// The token of a connection made off the device (back office), handed to this device only
    /// because it is signed in to the same account.
    pub async fn off_device_token(
        &self,
        access_token: &Secret,
        location_id: &str,
    ) -> Result<HubriseTokenResponse> {
        let path = format!("/hubrise/connections/{}/token", segment(location_id));
        let response = self
            .authorized(reqwest::Method::GET, &path, access_token)?
            .send()
            .await;
        json_or_error(response, "POS connection token").await
    }

    /// Asks the backend to revoke this device's token of a location at HubRise and forget the
    /// connection.
    pub async fn broker_revoke(
        &self,
        access_token: &Secret,
        location_id: &str,
        device_id: Option<&str>,
    ) -> Result<()> {
        let path = format!("/hubrise/connections/{}/revoke", segment(location_id));
        let response = self
            .authorized(reqwest::Method::POST, &path, access_token)?
            .json(&serde_json::json!({ "device_id": device_id }))
            .send()
            .await;
        let status = response.map_err(transport)?.status();
        match status.as_u16() {
            200..=299 => Ok(()),
            401 => Err(token_refused()),
            other => Err(Error::Server {
                service: Service::PosBackend,
                status: other,
                error_type: "revoke_failed".into(),
                message: "the POS backend could not revoke the connection".into(),
            }),
        }
    }

    /// Registers a connection this device starts with the backend's https redirect: the backend
    /// learns the digest of its state (never the state), and keeps HubRise's answer for it.
    pub async fn register_device_flow(
        &self,
        access_token: &Secret,
        state_digest: &str,
    ) -> Result<()> {
        let response = self
            .authorized(reqwest::Method::POST, DEVICE_FLOWS_PATH, access_token)?
            .json(&serde_json::json!({ "state_digest": state_digest }))
            .send()
            .await
            .map_err(transport)?;
        match response.status().as_u16() {
            200..=299 => Ok(()),
            401 => Err(token_refused()),
            status => Err(Error::Server {
                service: Service::PosBackend,
                status,
                error_type: "device_flow_refused".into(),
                message: "the POS backend did not take the connection attempt".into(),
            }),
        }
    }

    /// Asks the backend for HubRise's answer to a connection this device started with the
    /// backend's https redirect (the device proves it by the state). Handed over once.
    pub async fn claim_device_flow(
        &self,
        access_token: &Secret,
        state: &str,
    ) -> Result<DeviceFlowClaim> {
        let path = format!("{DEVICE_FLOWS_PATH}/claim");
        let response = self
            .authorized(reqwest::Method::POST, &path, access_token)?
            .json(&serde_json::json!({ "state": state }))
            .send()
            .await
            .map_err(transport)?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(transport)?;
        match status {
            202 => Ok(DeviceFlowClaim::Pending),
            200 => {
                let answer: ClaimAnswer =
                    serde_json::from_slice(&bytes).map_err(|_| unexpected("device flow claim"))?;
                match (answer.status.as_str(), answer.code) {
                    ("authorized", Some(code)) if !code.is_empty() => {
                        Ok(DeviceFlowClaim::Authorized(Secret::new(code)))
                    }
                    ("denied", _) => Ok(DeviceFlowClaim::Denied(
                        answer.error.unwrap_or_default().chars().take(40).collect(),
                    )),
                    ("pending", _) => Ok(DeviceFlowClaim::Pending),
                    _ => Err(unexpected("device flow claim")),
                }
            }
            401 => Err(token_refused()),
            404 => Err(Error::StateUnknown),
            500..=599 => Err(server_error(status)),
            _ => Err(unexpected(&format!("device flow claim: status {status}"))),
        }
    }

    /// Registers this device's push token (hex) with the backend, which may then wake the app
    /// in the background when an order arrives (issue 24, part 5). `false` when the backend has
    /// no such route (404): the till is never woken, and polls when it is in front, as before.
    pub async fn register_push_token(
        &self,
        access_token: &Secret,
        device_id: &str,
        token_hex: &str,
    ) -> Result<bool> {
        let response = self
            .authorized(reqwest::Method::PUT, PUSH_TOKEN_PATH, access_token)?
            .json(&serde_json::json!({ "device_id": device_id, "token": token_hex }))
            .send()
            .await
            .map_err(transport)?;
        match response.status().as_u16() {
            200..=299 => Ok(true),
            404 | 405 => Ok(false),
            401 => Err(token_refused()),
            status @ 500..=599 => Err(server_error(status)),
            status => Err(Error::Server {
                service: Service::PosBackend,
                status,
                error_type: "push_token_refused".into(),
                message: "the POS backend did not take the push token".into(),
            }),
        }
    }

    pub(super) fn authorized(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &Secret,
    ) -> Result<reqwest::RequestBuilder> {
        tracing::debug!(target: "passerelle::pos", %method, path, "request");
        Ok(shared_client()?
            .request(method, self.endpoint.join(path))
            .bearer_auth(token.expose()))
    }
}

/// Where devices register their push token (optional route).
const PUSH_TOKEN_PATH: &str = "/hubrise/push-token";
/// Where devices register connections made with the backend's https redirect.
const DEVICE_FLOWS_PATH: &str = "/hubrise/device-flows";
/// The backend's https redirect URI, registered at HubRise for the app's client.
pub const DEVICE_CALLBACK_PATH: &str = "/hubrise/device-callback";
/// Where the backend sends the browser afterwards: the app's universal link (and the https
/// callback `ASWebAuthenticationSession` waits for on iOS 17.4 and later).
pub const DEVICE_RETURN_PATH: &str = "/hubrise/device-return";

/// What the backend holds for a connection started with its https redirect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceFlowClaim {
    /// HubRise has not answered yet (the restaurant is still on the consent page).
    Pending,
    /// HubRise's code, for this device only.
    Authorized(Secret),
    /// HubRise's refusal (`access_denied` when the restaurant said no).
    Denied(String),
}

#[derive(Deserialize)]
struct ClaimAnswer {
    status: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// The POS backend's list of the account's HubRise connections (the answer of its
/// configuration route; not the library's configuration, `ConfigurationSnapshot`, nor the
/// host's, `PasserelleConfig`).
#[derive(Debug, Clone, Deserialize)]
pub struct BackendConnections {
    pub connections: Vec<BackendConnection>,
}

/// One connection as the POS backend records it (never with its token).
#[derive(Debug, Clone, Deserialize)]
pub struct BackendConnection {
    #[serde(flatten)]
    pub names: crate::model::connection::ConnectionNames,
    /// `device`, `web` or `hubrise_back_office`.
    pub origin: String,
    /// `active` or `removed`.
    pub state: String,
    /// When HubRise made the connection, RFC 3339 as the backend reports it (design D19): a
    /// confirmation catches up from it. `None` when the backend does not say, or says something
    /// that is not an RFC 3339 time (never a reason to refuse the whole configuration).
    #[serde(default, deserialize_with = "rfc3339_or_none")]
    pub connected_at: Option<String>,
}

impl BackendConnection {
    /// `connected_at` in milliseconds since the Unix epoch.
    pub fn connected_at_ms(&self) -> Option<i64> {
        self.connected_at.as_deref().and_then(rfc3339_ms)
    }
}

/// Milliseconds since the Unix epoch of an RFC 3339 time.
fn rfc3339_ms(text: &str) -> Option<i64> {
    let time =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(time.unix_timestamp_nanos() / 1_000_000).ok()
}

/// Keeps a string that is an RFC 3339 time; anything else (absent, `null`, a number, garbage)
/// is `None`.
fn rfc3339_or_none<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Option<String>, D::Error> {
    let value = serde_json::Value::deserialize(deserializer)?;
    Ok(value
        .as_str()
        .filter(|text| rfc3339_ms(text).is_some())
        .map(str::to_owned))
}

fn segment(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes()).collect()
}

fn session_from(response: &BasicTokenResponse) -> PosSession {
    PosSession::new(
        Secret::new(response.access_token().secret().clone()),
        response
            .refresh_token()
            .map(|t| Secret::new(t.secret().clone())),
        response.expires_in().map(|d| d.as_secs()),
    )
}

/// `invalid_grant` means the credentials (or refresh token) were refused: `refused` says which.
fn pos_grant_error(
    err: RequestTokenError<OAuthTransportError, PosOAuthError>,
    http: &OAuthHttp,
    refused: Error,
) -> Error {
    let meta = http.last_response();
    match err {
        RequestTokenError::Request(err) => err.into_error(Service::PosBackend),
        RequestTokenError::ServerResponse(body)
            if meta.status == 429 || body.retry_after.is_some() =>
        {
            Error::LockedOut {
                retry_after_secs: body.retry_after.or(meta.retry_after_secs).unwrap_or(60),
            }
        }
        RequestTokenError::ServerResponse(body) if body.error == "invalid_grant" => refused,
        RequestTokenError::ServerResponse(_) if meta.status >= 500 => server_error(meta.status),
        RequestTokenError::ServerResponse(body) => unexpected(&format!(
            "POS sign-in refused ({})",
            body.error.chars().take(40).collect::<String>()
        )),
        RequestTokenError::Parse(_, _) if meta.status >= 500 => server_error(meta.status),
        RequestTokenError::Parse(_, _) | RequestTokenError::Other(_) => {
            unexpected("the POS sign-in answer is not the JSON expected")
        }
    }
}

fn is_pos_token_error(body: &[u8]) -> bool {
    serde_json::from_slice::<PosOAuthError>(body).is_ok_and(|e| e.error == "invalid_token")
}

async fn json_or_error<T: serde::de::DeserializeOwned>(
    response: reqwest::Result<reqwest::Response>,
    what: &str,
) -> Result<T> {
    let response = response.map_err(transport)?;
    let status = response.status().as_u16();
    match status {
        200 => {
            let bytes = read_body(response, API_BODY_LIMIT, Service::PosBackend).await?;
            serde_json::from_slice(&bytes).map_err(|_| unexpected(what))
        }
        401 => Err(token_refused()),
        500..=599 => Err(Error::Server {
            service: Service::PosBackend,
            status,
            error_type: "server_error".into(),
            message: format!("{what}: server error {status}"),
        }),
        _ => Err(unexpected(&format!("{what}: status {status}"))),
    }
}

pub(super) fn transport(err: reqwest::Error) -> Error {
    Error::transport(Service::PosBackend, err)
}

/// The backend refused the session's access token.
pub(super) fn token_refused() -> Error {
    Error::Unauthorized {
        service: Service::PosBackend,
        reason: "the POS session was refused".into(),
    }
}

pub(super) fn server_error(status: u16) -> Error {
    Error::Server {
        service: Service::PosBackend,
        status,
        error_type: "server_error".into(),
        message: format!("POS backend error {status}"),
    }
}

pub(super) fn unexpected(reason: &str) -> Error {
    Error::MalformedBody {
        service: Service::PosBackend,
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(connected_at: serde_json::Value) -> serde_json::Value {
        serde_json::json!({
            "location_id": "3r4s3-1", "account_id": "3r4s3", "origin": "web", "state": "active",
            "created_at": "2026-06-24T19:30:00+02:00", "connected_at": connected_at,
        })
    }

    #[test]
    fn connected_at_is_read_when_it_is_an_rfc_3339_time_and_ignored_otherwise() {
        let json = serde_json::json!({ "connections": [
            entry(serde_json::json!("2026-06-24T19:30:05+02:00")),
            entry(serde_json::json!("2026-06-24T17:30:05.250Z")),
            entry(serde_json::Value::Null),
            entry(serde_json::json!(1_750_786_205)),
            entry(serde_json::json!("yesterday")),
            serde_json::json!({ "location_id": "3r4s3-2", "origin": "device", "state": "active" }),
        ]});
        let configuration: BackendConnections = serde_json::from_value(json).unwrap();
        let read: Vec<Option<i64>> = configuration
            .connections
            .iter()
            .map(BackendConnection::connected_at_ms)
            .collect();
        // 2026-06-24T17:30:05Z.
        let at = 1_782_322_205_000;
        assert_eq!(read, [Some(at), Some(at + 250), None, None, None, None]);
        assert_eq!(
            configuration.connections[0].connected_at.as_deref(),
            Some("2026-06-24T19:30:05+02:00"),
            "kept as the backend wrote it"
        );
        assert!(configuration.connections[4].connected_at.is_none());
    }
}
