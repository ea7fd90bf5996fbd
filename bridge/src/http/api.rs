//! The routes the core calls: the built-in identity's token endpoint and `/me`, the broker,
//! the configuration with its ETag, revocation, the off-device token hand-off, and HubRise's
//! Disconnect callback.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::{ApiError, App, Caller, Json200, form, json_body, no_store, text_field};
use crate::hubrise::{Exchange, HubriseError};
use crate::identity::{SignInRefused, Tokens};
use crate::secret::Secret;
use crate::store::{Names, Origin};

/// `POST /oauth/token` (built-in identity only): the password and refresh-token grants of a
/// public client, RFC 6749.
pub(super) async fn token(State(app): State<Arc<App>>, body: Bytes) -> Result<Response, ApiError> {
    let Some(built_in) = app.identity.built_in() else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "routing_error",
            "Tokens are issued by the identity provider",
        ));
    };
    let form = form(&body);
    if form.get("client_id") != Some(&app.config.pos_client_id) {
        return Err(ApiError::oauth(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Unknown client",
        ));
    }
    let tokens = match form.get("grant_type").map(String::as_str) {
        Some("password") => {
            let email = form.get("username").map(String::as_str).unwrap_or_default();
            let password = form.get("password").map(String::as_str).unwrap_or_default();
            match built_in.check_password(email, password).await? {
                Ok(account_id) => built_in.issue(&account_id).await?,
                Err(SignInRefused::Locked(s)) => return Err(locked(s)),
                Err(_) => return Err(invalid_grant("Invalid email or password")),
            }
        }
        Some("refresh_token") => {
            let presented = form
                .get("refresh_token")
                .map(String::as_str)
                .unwrap_or_default();
            built_in
                .refresh(presented)
                .await?
                .ok_or_else(|| invalid_grant("Invalid refresh token"))?
        }
        Some(_) => {
            return Err(ApiError::oauth(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "Use password or refresh_token",
            ));
        }
        None => {
            return Err(ApiError::oauth(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "grant_type is missing",
            ));
        }
    };
    Ok(token_answer(&tokens))
}

fn token_answer(tokens: &Tokens) -> Response {
    Json200(json!({
        "access_token": tokens.access.expose(),
        "token_type": "Bearer",
        "expires_in": tokens.expires_in,
        "refresh_token": tokens.refresh.expose(),
    }))
    .into_response()
}

fn invalid_grant(description: &str) -> ApiError {
    ApiError::oauth(StatusCode::BAD_REQUEST, "invalid_grant", description)
}

fn locked(seconds: u64) -> ApiError {
    ApiError::oauth(
        StatusCode::TOO_MANY_REQUESTS,
        "temporarily_unavailable",
        "Too many failed sign-in attempts. Try again later.",
    )
    .with_retry_after(seconds)
}

/// `GET /me`.
pub(super) async fn me(Caller(account): Caller) -> Response {
    axum::Json(account).into_response()
}

/// Why an exchange did not record a connection.
pub(super) enum ExchangeFailure {
    Hubrise(HubriseError),
    Other(ApiError),
}

impl From<crate::store::StoreError> for ExchangeFailure {
    fn from(e: crate::store::StoreError) -> Self {
        ExchangeFailure::Other(e.into())
    }
}

/// Exchanges a HubRise code with the client secret and records the connection on `account_id`,
/// with `connected_at` (when the bridge received the token: HubRise's answer carries no time).
/// It registers the order callback at once (decision 19), so HubRise keeps the orders placed
/// before a device confirms the connection: passive for a connection made off the device; with
/// `active_callback`, the bridge's active one on every connection it brokers (decision 28). A
/// device that registers its passive callback right after the exchange replaces it: the bridge
/// registers it again when a till of the account opens its event stream.
pub(super) async fn exchange_and_record(
    app: &App,
    account_id: &str,
    exchange: &Exchange<'_>,
    origin: Origin,
    device_id: Option<&str>,
) -> Result<Value, ExchangeFailure> {
    let token = app
        .hubrise
        .exchange(exchange)
        .await
        .map_err(ExchangeFailure::Hubrise)?;
    let access = Secret::new(
        token
            .get("access_token")
            .and_then(Value::as_str)
            .unwrap_or_default(),
    );
    // Recorded anyway when it fails: the device's catch-up from connected_at covers what
    // events miss.
    // A device registers its own (passive) callback, unless the bridge takes the events.
    if (origin != Origin::Device || app.hubrise.takes_events())
        && let Err(e) = app.hubrise.register_order_callback(&access).await
    {
        tracing::warn!(error = %e, "order callback not registered");
    }
    let names = Names::from_token(&token);
    app.store
        .record_connection(
            account_id,
            &access,
            &names,
            origin,
            device_id,
            &crate::clock::now_rfc3339(),
        )
        .await?;
    tracing::info!(
        origin = origin.as_str(),
        location = names.location_id.as_deref().unwrap_or("-"),
        "connection recorded"
    );
    Ok(token)
}

/// `POST /hubrise/broker/token`: `{"code", "redirect_uri"?, "code_verifier"?, "device_id"?}` →
/// HubRise's token JSON unchanged; HubRise's refusals pass through unchanged.
pub(super) async fn broker_token(
    State(app): State<Arc<App>>,
    Caller(account): Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input = json_body(&headers, &body)?;
    let code = text_field(&input, "code")?
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ApiError::bad_request("The code parameter is missing"))?;
    let redirect_uri = text_field(&input, "redirect_uri")?;
    let verifier = text_field(&input, "code_verifier")?;
    let device_id = text_field(&input, "device_id")?;
    let exchange = Exchange {
        code: &code,
        redirect_uri: redirect_uri.as_deref(),
        code_verifier: verifier.as_deref(),
    };
    match exchange_and_record(
        &app,
        &account.account_id,
        &exchange,
        Origin::Device,
        device_id.as_deref(),
    )
    .await
    {
        Ok(token) => Ok(Json200(token).into_response()),
        Err(ExchangeFailure::Hubrise(HubriseError::Refused(r))) => Ok(pass_through(r)),
        Err(ExchangeFailure::Hubrise(e)) => Err(e.into()),
        Err(ExchangeFailure::Other(e)) => Err(e),
    }
}

/// HubRise's refusal as it came: its status, body and content type.
fn pass_through(refusal: crate::hubrise::Refusal) -> Response {
    let status = StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = (status, refusal.body).into_response();
    response.extensions_mut().insert(super::PassedThrough);
    if let Some(value) = refusal
        .content_type
        .and_then(|c| HeaderValue::from_str(&c).ok())
    {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    no_store(response)
}

/// `POST /hubrise/connections/:location_id/revoke` (optional JSON `{"device_id"}`).
pub(super) async fn revoke(
    State(app): State<Arc<App>>,
    Caller(account): Caller,
    Path(location_id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    // The body is optional; when present it must be a JSON object (any content type, as the
    // sandbox's fake reads it).
    let device_id = match body.is_empty() {
        true => None,
        false => match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(map)) => text_field(&map, "device_id")?,
            _ => return Err(ApiError::bad_request("The body must be a JSON object")),
        },
    };
    let tokens = app
        .store
        .remove_location(&account.account_id, &location_id, device_id.as_deref())
        .await?;
    if tokens.is_empty() {
        return Err(ApiError::not_found(format!(
            "No active HubRise connection for location '{location_id}'"
        )));
    }
    for token in &tokens {
        app.hubrise.revoke(token).await;
    }
    Ok(Json200(json!({ "revoked": tokens.len() })).into_response())
}

/// `GET /hubrise/configuration`: the account's connections, a version and an ETag;
/// `If-None-Match` with the current ETag → 304.
pub(super) async fn configuration(
    State(app): State<Arc<App>>,
    Caller(account): Caller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let version = app.store.version(&account.account_id).await?;
    let etag = format!(
        "\"config-{}-{version}\"",
        crate::secret::digest(&account.account_id)
            .get(..12)
            .unwrap_or_default()
    );
    let etag_value =
        HeaderValue::from_str(&etag).map_err(|_| ApiError::bad_request("account id"))?;
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if unchanged {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag_value)]).into_response());
    }
    let connections: Vec<Value> = app
        .store
        .connections(&account.account_id)
        .await?
        .iter()
        .map(|c| c.to_json())
        .collect();
    let mut response =
        axum::Json(json!({ "version": version, "connections": connections })).into_response();
    response.headers_mut().insert(header::ETAG, etag_value);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// `GET /hubrise/connections/:location_id/token`: the token of an active connection made off
/// the device, to a device of the same account only, with what it is bound to.
pub(super) async fn connection_token(
    State(app): State<Arc<App>>,
    Caller(account): Caller,
    Path(location_id): Path<String>,
) -> Result<Response, ApiError> {
    let (connection, token) = app
        .store
        .off_device_token(&account.account_id, &location_id)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "No off-device HubRise connection for location '{location_id}'"
            ))
        })?;
    let mut answer = connection.to_json();
    answer["access_token"] = json!(token.expose());
    answer["token_type"] = json!("Bearer");
    Ok(Json200(answer).into_response())
}

/// `POST /hubrise/disconnect-callback`: HubRise's notice, signed `X-HubRise-Hmac-SHA256` (hex
/// HMAC-SHA256 of the body keyed by the client secret). A wrong signature is 401 and changes
/// nothing; otherwise every connection with that `app_instance_id` is removed.
pub(super) async fn disconnect_callback(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    verify_hubrise_signature(&app, &headers, &body, "disconnect callback")?;
    let notice: Value =
        serde_json::from_slice(&body).map_err(|_| ApiError::bad_request("Invalid JSON"))?;
    let instance = notice
        .get("app_instance_id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_request("app_instance_id is missing"))?;
    let removed = app.store.remove_app_instance(instance).await?;
    Ok(axum::Json(json!({ "removed": removed })).into_response())
}

/// Checks HubRise's `X-HubRise-Hmac-SHA256` on what `what` received: a wrong or missing one is
/// counted, logged (never its value) and answered 401.
pub(super) fn verify_hubrise_signature(
    app: &App,
    headers: &HeaderMap,
    body: &[u8],
    what: &str,
) -> Result<(), ApiError> {
    let signature = headers
        .get("x-hubrise-hmac-sha256")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if signature_matches(app.hubrise.config().client_secret.expose(), body, signature) {
        return Ok(());
    }
    tracing::warn!("{what} with a wrong signature");
    app.metrics.callback_verification_failed();
    Err(ApiError::unauthorized(
        "Invalid or missing X-HubRise-Hmac-SHA256 signature",
    ))
}

/// Compares the received hex signature in constant time (`verify_slice`).
pub fn signature_matches(key: &str, body: &[u8], received_hex: &str) -> bool {
    let Some(received) = decode_hex(received_hex.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&received).is_ok()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hex HMAC-SHA256 of `body` keyed by `key` (what HubRise sends; the check signs with it too).
    fn sign(key: &str, body: &[u8]) -> String {
        let mut mac = match Hmac::<Sha256>::new_from_slice(key.as_bytes()) {
            Ok(mac) => mac,
            Err(_) => return String::new(),
        };
        mac.update(body);
        crate::secret::hex(&mac.finalize().into_bytes())
    }

    #[test]
    fn signatures_match_only_for_the_same_key_and_body() {
        let signature = sign("secret", b"{\"a\":1}");
        assert_eq!(signature.len(), 64);
        assert!(signature_matches("secret", b"{\"a\":1}", &signature));
        assert!(signature_matches(
            "secret",
            b"{\"a\":1}",
            &signature.to_uppercase()
        ));
        assert!(!signature_matches("other", b"{\"a\":1}", &signature));
        assert!(!signature_matches("secret", b"{\"a\":2}", &signature));
        assert!(!signature_matches("secret", b"{\"a\":1}", "zz"));
        assert!(!signature_matches("secret", b"{\"a\":1}", ""));
    }
}
