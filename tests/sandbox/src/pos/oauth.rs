//! The POS backend's OAuth 2 token endpoint (RFC 6749 password and refresh-token grants, a
//! public client), `GET /me`, and the bearer-token check the other endpoints use.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::identity_provider::{self, PosAccessTokens};
use super::model::AccessToken;
use crate::hubrise::oauth::parse_form;
use crate::ids;
use crate::request_log::{ConnectionTag, TagSlot};
use crate::sandbox::SandboxOptions;
use crate::seed::POS_CLIENT_ID;
use crate::state::{Shared, World};

/// An OAuth 2 error answer (`{"error", "error_description"}`).
#[derive(Debug)]
pub(crate) struct OAuthError {
    status: StatusCode,
    body: Value,
    retry_after: Option<u64>,
    bearer_challenge: bool,
}

impl OAuthError {
    pub fn new(status: StatusCode, error: &str, description: &str) -> Self {
        OAuthError {
            status,
            body: json!({ "error": error, "error_description": description }),
            retry_after: None,
            bearer_challenge: false,
        }
    }
    fn invalid_grant(description: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", description)
    }
    fn locked(seconds: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "temporarily_unavailable",
            "Too many failed sign-in attempts. Try again later.",
        );
        e.body["retry_after"] = json!(seconds);
        e.retry_after = Some(seconds);
        e
    }
    /// 401 for a missing, unknown or expired bearer token.
    pub fn invalid_token() -> Self {
        OAuthError {
            status: StatusCode::UNAUTHORIZED,
            body: json!({ "error": "invalid_token" }),
            retry_after: None,
            bearer_challenge: true,
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body)).into_response();
        let headers = response.headers_mut();
        if let Some(value) = self
            .retry_after
            .and_then(|s| HeaderValue::from_str(&s.to_string()).ok())
        {
            headers.insert(header::RETRY_AFTER, value);
        }
        if self.bearer_challenge {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
        }
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

/// `POST /oauth/token`.
pub(crate) async fn token(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let form = parse_form(&body);
    let options = shared.options();
    let issuer = shared.urls.pos.clone();
    let mut world = shared.world();
    let result = match form.get("client_id").map(String::as_str) {
        Some(POS_CLIENT_ID) => match form.get("grant_type").map(String::as_str) {
            Some("password") => password_grant(&mut world, &options, &issuer, &form),
            Some("refresh_token") => refresh_grant(&mut world, &options, &issuer, &form),
            Some(_) => Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "Use password or refresh_token",
            )),
            None => Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "grant_type is missing",
            )),
        },
        _ => Err(OAuthError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Unknown client",
        )),
    };
    match result {
        Ok(json) => {
            let mut response = axum::Json(json).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(e) => e.into_response(),
    }
}

fn password_grant(
    world: &mut World,
    options: &SandboxOptions,
    issuer: &str,
    form: &std::collections::BTreeMap<String, String>,
) -> Result<Value, OAuthError> {
    let email = form.get("username").cloned().unwrap_or_default();
    let password = form.get("password").cloned().unwrap_or_default();
    match check_password(world, options, &email, &password) {
        Ok(account_id) => issue_tokens(world, options, issuer, &account_id),
        Err(PasswordError::Locked(seconds)) => Err(OAuthError::locked(seconds)),
        Err(PasswordError::Wrong) => Err(OAuthError::invalid_grant("Invalid email or password")),
    }
}

/// Why a POS password check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PasswordError {
    /// Too many consecutive failures: locked for this many more seconds.
    Locked(u64),
    Wrong,
}

impl std::fmt::Display for PasswordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Locked(s) => write!(
                f,
                "Too many failed sign-in attempts. Try again in {s} seconds."
            ),
            Self::Wrong => write!(f, "Invalid email or password."),
        }
    }
}

/// Checks POS credentials with the lockout: after `lockout_after` consecutive failures for an
/// email, every attempt (even with the right password) waits until the lock expires.
pub(crate) fn check_password(
    world: &mut World,
    options: &SandboxOptions,
    email: &str,
    password: &str,
) -> Result<String, PasswordError> {
    let email = email.trim().to_ascii_lowercase();
    let failures = world.pos_live.failures.entry(email.clone()).or_default();
    if let Some(until) = failures.locked_until {
        let now = Instant::now();
        if until > now {
            return Err(PasswordError::Locked(
                (until - now).as_secs_f64().ceil() as u64
            ));
        }
        *failures = Default::default();
    }
    let account = world
        .pos
        .accounts
        .iter()
        .find(|a| a.email.eq_ignore_ascii_case(&email) && a.password == password)
        .map(|a| a.account_id.clone());
    let failures = world.pos_live.failures.entry(email).or_default();
    match account {
        Some(account_id) => {
            *failures = Default::default();
            Ok(account_id)
        }
        None => {
            failures.consecutive += 1;
            if failures.consecutive >= options.lockout_after {
                failures.consecutive = 0;
                failures.locked_until = Some(Instant::now() + options.lockout_for);
            }
            Err(PasswordError::Wrong)
        }
    }
}

fn refresh_grant(
    world: &mut World,
    options: &SandboxOptions,
    issuer: &str,
    form: &std::collections::BTreeMap<String, String>,
) -> Result<Value, OAuthError> {
    let presented = form.get("refresh_token").cloned().unwrap_or_default();
    // Rotation: a refresh token works once.
    let account_id = world
        .pos
        .refresh_tokens
        .remove(&presented)
        .ok_or_else(|| OAuthError::invalid_grant("Invalid refresh token"))?;
    issue_tokens(world, options, issuer, &account_id)
}

fn issue_tokens(
    world: &mut World,
    options: &SandboxOptions,
    issuer: &str,
    account_id: &str,
) -> Result<Value, OAuthError> {
    let access = match options.pos_access_tokens {
        PosAccessTokens::Opaque => ids::alnum_secret(40),
        PosAccessTokens::Jwt => {
            let account = world
                .pos
                .account(account_id)
                .ok_or_else(|| OAuthError::invalid_grant("Unknown account"))?;
            let claims = identity_provider::claims(
                issuer,
                account_id,
                &account.email,
                &account.business_name,
                options.pos_access_token_ttl.as_secs(),
            );
            identity_provider::sign(&claims, world.pos_live.signing_key_rotated).ok_or_else(
                || {
                    OAuthError::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "server_error",
                        "Signing failed",
                    )
                },
            )?
        }
    };
    let refresh = ids::alnum_secret(48);
    world.pos_live.access_tokens.insert(
        access.clone(),
        AccessToken {
            account_id: account_id.into(),
            expires: Instant::now() + options.pos_access_token_ttl,
        },
    );
    world
        .pos
        .refresh_tokens
        .insert(refresh.clone(), account_id.into());
    Ok(json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": options.pos_access_token_ttl.as_secs(),
        "refresh_token": refresh,
    }))
}

/// A request authenticated with a live POS access token.
#[derive(Clone, Debug)]
pub(crate) struct PosCaller {
    pub account_id: String,
}

impl FromRequestParts<Arc<Shared>> for PosCaller {
    type Rejection = OAuthError;

    async fn from_request_parts(
        parts: &mut Parts,
        shared: &Arc<Shared>,
    ) -> Result<Self, OAuthError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(OAuthError::invalid_token)?;
        let world = shared.world();
        let live = world
            .pos_live
            .access_tokens
            .get(token)
            .filter(|t| t.expires > Instant::now())
            .ok_or_else(OAuthError::invalid_token)?;
        if let Some(slot) = parts.extensions.get::<TagSlot>() {
            slot.set(ConnectionTag {
                connection_id: live.account_id.clone(),
                client_id: Some(POS_CLIENT_ID.into()),
                location_id: None,
                device_id: None,
            });
        }
        Ok(PosCaller {
            account_id: live.account_id.clone(),
        })
    }
}

/// `GET /me`.
pub(crate) async fn me(State(shared): State<Arc<Shared>>, caller: PosCaller) -> Response {
    let world = shared.world();
    match world.pos.account(&caller.account_id) {
        Some(a) => axum::Json(json!({ "account_id": a.account_id, "email": a.email, "business_name": a.business_name }))
            .into_response(),
        None => OAuthError::invalid_token().into_response(),
    }
}
