//! The POS vendor's identity provider, as passerelle-bridge consults it: RFC 7662 token
//! introspection (`POST /oauth/introspect`, for the bridge's client) and, when
//! [`SandboxOptions::pos_access_tokens`] is [`PosAccessTokens::Jwt`], access tokens that are
//! RFC 9068 JWTs signed RS256 with the key its JWKS (`GET /.well-known/jwks.json`) publishes.
//! Opaque or JWT, the fake's own routes accept the tokens it issued alike.
//!
//! The keys are fixed test keys (`keys/*.der`, PKCS#1): a sandbox is a fake, and fixed keys make
//! a token issued by one sandbox verifiable against another's JWKS only in tests that want it.
//! `Admin::rotate_pos_signing_key` switches to the second key (both published then);
//! [`stranger_jwt`] signs with a key no JWKS publishes.
//!
//! [`SandboxOptions::pos_access_tokens`]: crate::SandboxOptions::pos_access_tokens

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair, RsaPublicKeyComponents};
use serde_json::{Value, json};

use super::oauth::OAuthError;
use crate::hubrise::oauth::parse_form;
use crate::state::Shared;

/// The client the bridge authenticates with at `POST /oauth/introspect` (HTTP Basic).
pub const INTROSPECTION_CLIENT_ID: &str = "passerelle-bridge";
/// Its secret (a fake identity provider's, fixed).
pub const INTROSPECTION_CLIENT_SECRET: &str = "sandbox-introspection-secret";
/// The `aud` of the JWT access tokens: the resource server they are for.
pub const JWT_AUDIENCE: &str = "passerelle-bridge";
/// Where the JWKS is served, under the POS listener.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// The format of the POS access tokens the fake issues.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PosAccessTokens {
    /// Random strings, checked by asking (the fake's routes, or introspection).
    #[default]
    Opaque,
    /// RFC 9068 JWTs (`typ: at+jwt`, RS256): `iss` the POS listener's URL, `aud`
    /// [`JWT_AUDIENCE`], `sub` and `account_id` the POS account, `client_id`, `iat`, `exp`,
    /// `jti`, and `email` and `business_name`.
    Jwt,
}

struct SigningKey {
    kid: &'static str,
    der: &'static [u8],
}

const KEYS: [SigningKey; 2] = [
    SigningKey {
        kid: "sandbox-pos-1",
        der: include_bytes!("keys/signing-1.der"),
    },
    SigningKey {
        kid: "sandbox-pos-2",
        der: include_bytes!("keys/signing-2.der"),
    },
];

const STRANGER: SigningKey = SigningKey {
    kid: "stranger",
    der: include_bytes!("keys/stranger.der"),
};

/// `kid` of the key signing now: the first, or the second after a rotation.
pub(crate) fn current_kid(rotated: bool) -> &'static str {
    KEYS[usize::from(rotated)].kid
}

/// Signs `claims` as a JWT access token (`typ: at+jwt`, RS256) with the sandbox's current key
/// (`rotated`: the second one). `None` only if a fixed key failed to load.
pub(crate) fn sign(claims: &Value, rotated: bool) -> Option<String> {
    sign_with(&KEYS[usize::from(rotated)], claims)
}

/// A JWT access token signed with a key no sandbox publishes, under `kid` "stranger" (or the
/// `kid` given, to pose as a published key): what a forger or another issuer sends.
pub fn stranger_jwt(claims: &Value, kid: Option<&str>) -> Option<String> {
    match kid {
        None => sign_with(&STRANGER, claims),
        Some(kid) => {
            let key = SigningKey {
                kid: "",
                der: STRANGER.der,
            };
            sign_with_kid(&key, kid, claims)
        }
    }
}

/// Signs `claims` with the sandbox's published key `kid` ("sandbox-pos-1" or "sandbox-pos-2"):
/// for tests that need a token the JWKS vouches for but whose claims are wrong.
pub fn sandbox_jwt(claims: &Value, kid: &str) -> Option<String> {
    KEYS.iter()
        .find(|k| k.kid == kid)
        .and_then(|k| sign_with(k, claims))
}

fn sign_with(key: &SigningKey, claims: &Value) -> Option<String> {
    sign_with_kid(key, key.kid, claims)
}

fn sign_with_kid(key: &SigningKey, kid: &str, claims: &Value) -> Option<String> {
    let pair = RsaKeyPair::from_der(key.der).ok()?;
    let header = json!({ "alg": "RS256", "typ": "at+jwt", "kid": kid });
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut signature = vec![0; pair.public().modulus_len()];
    pair.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        message.as_bytes(),
        &mut signature,
    )
    .ok()?;
    Some(format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

fn jwk(key: &SigningKey) -> Option<Value> {
    let pair = RsaKeyPair::from_der(key.der).ok()?;
    let public: RsaPublicKeyComponents<Vec<u8>> = pair.public().into();
    Some(json!({
        "kty": "RSA",
        "use": "sig",
        "alg": "RS256",
        "kid": key.kid,
        "n": URL_SAFE_NO_PAD.encode(&public.n),
        "e": URL_SAFE_NO_PAD.encode(&public.e),
    }))
}

/// The claims of a JWT access token for `account_id`, issued by the POS listener at `issuer`.
pub(crate) fn claims(
    issuer: &str,
    account_id: &str,
    email: &str,
    business_name: &str,
    ttl_secs: u64,
) -> Value {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    json!({
        "iss": issuer,
        "aud": JWT_AUDIENCE,
        "sub": account_id,
        "account_id": account_id,
        "client_id": crate::seed::POS_CLIENT_ID,
        "iat": now,
        "exp": now + ttl_secs as i64,
        "jti": crate::ids::alnum_secret(16),
        "email": email,
        "business_name": business_name,
    })
}

/// `GET /.well-known/jwks.json`: the signing key, and after a rotation the previous one too.
pub(crate) async fn jwks(State(shared): State<Arc<Shared>>) -> Response {
    let rotated = shared.world().pos_live.signing_key_rotated;
    let keys: Vec<Value> = KEYS[..=usize::from(rotated)]
        .iter()
        .filter_map(jwk)
        .collect();
    axum::Json(json!({ "keys": keys })).into_response()
}

/// `POST /oauth/introspect` (RFC 7662): the bridge's client, HTTP Basic; `token=`.
pub(crate) async fn introspect(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !authenticated(&headers) {
        let mut e = OAuthError::new(StatusCode::UNAUTHORIZED, "invalid_client", "Unknown client")
            .into_response();
        e.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Basic realm=\"introspection\""),
        );
        return e;
    }
    let form = parse_form(&body);
    let Some(token) = form.get("token") else {
        return OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "token is missing",
        )
        .into_response();
    };
    let world = shared.world();
    let now = Instant::now();
    let answer = world
        .pos_live
        .access_tokens
        .get(token)
        .filter(|t| t.expires > now)
        .and_then(|t| {
            let account = world.pos.account(&t.account_id)?;
            let left = (t.expires - now).as_secs() as i64;
            let unix = time::OffsetDateTime::now_utc().unix_timestamp();
            Some(json!({
                "active": true,
                "token_type": "Bearer",
                "client_id": crate::seed::POS_CLIENT_ID,
                "sub": account.account_id,
                "account_id": account.account_id,
                "email": account.email,
                "business_name": account.business_name,
                "exp": unix + left,
            }))
        })
        .unwrap_or_else(|| json!({ "active": false }));
    let mut response = axum::Json(answer).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

fn authenticated(headers: &HeaderMap) -> bool {
    let expected = STANDARD.encode(format!(
        "{INTROSPECTION_CLIENT_ID}:{INTROSPECTION_CLIENT_SECRET}"
    ));
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .is_some_and(|v| v.trim() == expected)
}
