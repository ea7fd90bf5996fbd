//! HubRise's API: `X-Access-Token`, HubRise's error JSON mapped to typed errors, no secret in
//! any error or log line (only method and path are logged).

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::token::HubriseErrorBody;
use crate::connection::ConnectionNames;
use crate::error::{PasserelleError, Result};
use crate::http::{retry_after_secs, transport_error};
use crate::secrets::Secret;

/// How long to wait after a 429 that says nothing: the next round minute is at most this far.
const DEFAULT_RETRY_AFTER_SECS: u64 = 60;

/// A client of HubRise's API for one base URL.
#[derive(Clone)]
pub struct HubriseApi {
    client: reqwest::Client,
    base: String,
}

/// `GET /location`, the fields a POS shows.
#[derive(Debug, Clone, Deserialize)]
pub struct Location {
    pub id: String,
    pub name: Option<String>,
    pub account: Option<Account>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Account {
    pub id: String,
    pub name: Option<String>,
}

/// `GET /callback`: an unregistered callback answers `{"url": null, "events": {}}`.
#[derive(Debug, Clone, Deserialize)]
pub struct Callback {
    pub url: Option<String>,
    #[serde(default)]
    pub events: std::collections::BTreeMap<String, Vec<String>>,
}

impl Callback {
    /// Registered for order creation and update (decision 7: `url: null` alone says nothing).
    pub fn listens_to_orders(&self) -> bool {
        self.events
            .get("order")
            .is_some_and(|e| e.iter().any(|x| x == "create") && e.iter().any(|x| x == "update"))
    }
}

impl Location {
    /// Names to refresh on the connection row.
    pub fn names(&self) -> ConnectionNames {
        ConnectionNames {
            location_id: self.id.clone(),
            location_name: self.name.clone(),
            account_id: self.account.as_ref().map(|a| a.id.clone()),
            account_name: self.account.as_ref().and_then(|a| a.name.clone()),
            ..ConnectionNames::default()
        }
    }
}

impl HubriseApi {
    pub fn new(client: reqwest::Client, base: &str) -> Self {
        Self {
            client,
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    pub async fn location(&self, token: &Secret) -> Result<Location> {
        self.get_json(token, "/location").await
    }

    pub async fn callback(&self, token: &Secret) -> Result<Callback> {
        self.get_json(token, "/callback").await
    }

    /// Registers a passive callback (no URL) for order creation and update.
    pub async fn register_passive_callback(&self, token: &Secret) -> Result<()> {
        let body = serde_json::json!({"url": null, "events": {"order": ["create", "update"]}});
        self.send(token, reqwest::Method::POST, "/callback", Some(&body))
            .await
            .map(|_| ())
    }

    pub async fn get_json<T: DeserializeOwned>(&self, token: &Secret, path: &str) -> Result<T> {
        let response = self.send(token, reqwest::Method::GET, path, None).await?;
        let bytes = response.bytes().await.map_err(transport_error)?;
        serde_json::from_slice(&bytes).map_err(|e| PasserelleError::UnexpectedResponse {
            service: "HubRise API".into(),
            reason: format!("{path}: {e}"),
        })
    }

    /// Sends one request; a non-success status becomes its typed error.
    pub async fn send(
        &self,
        token: &Secret,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<reqwest::Response> {
        tracing::debug!(target: "passerelle::hubrise", %method, path, "request");
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("X-Access-Token", token.expose());
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(transport_error)?;
        if response.status().is_success() {
            return Ok(response);
        }
        Err(error_from_response(response).await)
    }
}

/// HubRise's error JSON and status, as a typed error.
async fn error_from_response(response: reqwest::Response) -> PasserelleError {
    let status = response.status().as_u16();
    let retry_after = retry_after_secs(response.headers());
    let body: HubriseErrorBody = response
        .bytes()
        .await
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    tracing::debug!(target: "passerelle::hubrise", status, error_type = ?body.error_type, "error answer");
    match status {
        401 => PasserelleError::ConnectionRevoked {
            reason: body.reason(),
        },
        429 => PasserelleError::RateLimited {
            retry_after_secs: retry_after.unwrap_or(DEFAULT_RETRY_AFTER_SECS),
        },
        _ => PasserelleError::HubriseApi {
            status,
            error_type: body.error_type.clone().unwrap_or_else(|| "unknown".into()),
            message: body.reason(),
        },
    }
}
